/**
 * cloneofsimo `lora_diffusion` safetensors: POSITIONAL keys `unet:{i}:down` / `unet:{i}:up`,
 * `text_encoder:{i}:…`, where i counts the injected layers in module-traversal order of the parent
 * classes listed in metadata (`unet`: ["CrossAttention", …]). No alpha: scale 1. Tensors whose
 * metadata value is "<embed>" are textual-inversion tokens, kept aside as extras.
 * Module names stay positional (`unet:3`): only adapters injected the same way line up.
 */
import { ComposerError } from '../errors';
import type { ExtraTensor, LoraModule } from './adapter';
import { plainFactorShape, plainModule } from './factorShapes';
import { refuse } from './refusals';
import type { SafetensorsFile } from './safetensors';

const POSITIONAL_KEY = /^([A-Za-z_][A-Za-z0-9_]*:\d+):(up|down)$/;

/**
 * Why modules of these names cannot be written in this layout (its keys are positions, which named
 * modules of another format do not give), or null when they all are positional already.
 */
export function cloneofsimoLayoutRefusal(names: Iterable<string>): string | null {
  for (const name of names) {
    if (!POSITIONAL_KEY.test(`${name}:up`)) return `module "${name}" has no position: the cloneofsimo (lora_diffusion) layout names modules <component>:<i> by their order of injection, which only cloneofsimo inputs carry`;
  }
  return null;
}

export function isCloneofsimoFile(file: SafetensorsFile): boolean {
  for (const key of file.tensors.keys()) if (POSITIONAL_KEY.test(key)) return true;
  return false;
}

export function readCloneofsimoKeys(file: SafetensorsFile): { modules: Map<string, LoraModule>; extras: ExtraTensor[] } {
  const parts = new Map<string, { down?: string; up?: string }>();
  const extras: ExtraTensor[] = [];
  for (const [key, info] of file.tensors) {
    const m = POSITIONAL_KEY.exec(key);
    if (m) {
      const entry = parts.get(m[1]) ?? {};
      if (m[2] === 'down') entry.down = key;
      else entry.up = key;
      parts.set(m[1], entry);
      continue;
    }
    if (file.metadata[key] === '<embed>') {
      extras.push({ key, kind: 'token-embedding', name: key, shape: info.shape, dtype: info.dtype });
      continue;
    }
    refuse(file.path, `unrecognised tensor "${key}" in a lora_diffusion (cloneofsimo) file (expected <component>:<i>:up / :down)`, 'only plain LoRA weights can be composed');
  }
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of parts) {
    if (!p.down || !p.up) throw new ComposerError('adapter-format', `module "${name}" has only its ${p.down ? 'down' : 'up'} factor`, { file: file.path });
    const shape = plainFactorShape(file.path, name, file.info(p.down), file.info(p.up));
    modules.set(name, plainModule(name, shape, shape.rank, p.down, p.up));
  }
  return { modules, extras };
}

/** cloneofsimo's metadata of a composite: the first input's module lists, and each module's rank. */
export function cloneofsimoCompositeMetadata(first: Record<string, string>, modules: { name: string; rank: number }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (!k.includes(':') && v.startsWith('[')) out[k] = v;
  for (const p of modules) out[`${p.name}:rank`] = String(p.rank);
  return out;
}
