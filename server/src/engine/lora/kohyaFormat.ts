/**
 * kohya sd-scripts LoRA: `<module>.lora_down.weight` [r, in(, kh, kw)], `<module>.lora_up.weight`
 * [out, r(, 1, 1)], `<module>.alpha` scalar (absent: α = r). Module names stay in kohya's flattened
 * form (`lora_unet_down_blocks_0_…`): mapping them to dotted paths needs the model.
 * LyCORIS networks stored in the same container (LoKr, LoHa, …) are refused by name.
 */
import { ComposerError } from '../errors';
import type { LoraModule } from './adapter';
import { plainFactorShape, plainModule } from './factorShapes';
import { refuse, refuseDora, refuseLycoris } from './refusals';
import type { SafetensorsFile } from './safetensors';
import { mostCommon } from './moduleFacts';

/** Keys of LyCORIS algorithms that share kohya's container. */
export function refuseLycorisKeys(file: SafetensorsFile): void {
  for (const key of file.tensors.keys()) {
    if (/\.lokr_(w1|w2|t2)/.test(key)) refuseLycoris(file.path, 'LoKr', `tensor "${key}"`);
    if (/\.hada_(w1|w2|t1|t2)/.test(key)) refuseLycoris(file.path, 'LoHa', `tensor "${key}"`);
    if (/\.lora_mid\.weight$/.test(key)) refuseLycoris(file.path, 'LoCon (Tucker)', `tensor "${key}"`);
    if (/\.oft_(blocks|diag)|\.oft_R/.test(key)) refuseLycoris(file.path, 'OFT', `tensor "${key}"`);
    if (/\.dora_scale$/.test(key)) refuseDora(file.path, `tensor "${key}"`);
  }
}

export function readKohyaKeys(file: SafetensorsFile): Map<string, LoraModule> {
  refuseLycorisKeys(file);
  const parts = new Map<string, { down?: string; up?: string; alpha?: string }>();
  for (const key of file.tensors.keys()) {
    const m = /^(.*)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(key);
    if (!m) {
      if (/\.(diff|diff_b)$/.test(key)) refuseLycoris(file.path, 'full-difference', `tensor "${key}"`);
      refuse(file.path, `unrecognised tensor "${key}" in a kohya LoRA (expected <module>.lora_down.weight, .lora_up.weight, .alpha)`, 'only plain kohya LoRA (networks.lora) files can be composed');
    }
    const entry = parts.get(m[1]) ?? {};
    if (m[2] === 'alpha') entry.alpha = key;
    else if (m[2].startsWith('lora_down')) entry.down = key;
    else entry.up = key;
    parts.set(m[1], entry);
  }
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of parts) {
    if (!p.down || !p.up) {
      if (!p.down && !p.up) continue; // a stray alpha for a module without factors: nothing to merge
      throw new ComposerError('adapter-format', `module "${name}" has ${p.down ? 'lora_down but no lora_up' : 'lora_up but no lora_down'}`, { file: file.path });
    }
    const shape = plainFactorShape(file.path, name, file.info(p.down), file.info(p.up));
    let alpha = shape.rank;
    if (p.alpha) {
      const info = file.info(p.alpha);
      if (info.shape.reduce((x, y) => x * y, 1) !== 1) throw new ComposerError('adapter-format', `"${p.alpha}" must be a scalar, found shape [${info.shape.join(', ')}]`, { file: file.path });
      alpha = file.readFloat64(p.alpha)[0];
      if (!Number.isFinite(alpha)) throw new ComposerError('non-finite', `"${p.alpha}" is ${alpha}`, { file: file.path });
    }
    modules.set(name, plainModule(name, shape, alpha, p.down, p.up));
  }
  return modules;
}

/** kohya's network keys of a composite: α = the most common rank, so that α/r is 1 where r is that rank. */
export function kohyaCompositeMetadata(modules: { name: string; rank: number }[]): Record<string, string> {
  return { ss_network_module: 'networks.lora', ss_network_dim: String(mostCommon(modules.map((p) => p.rank))), ss_network_alpha: String(mostCommon(modules.map((p) => p.rank))) };
}

/**
 * These layouts have no config file, so the base model goes into the safetensors `__metadata__` as
 * kohya's sd-scripts write it: `ss_sd_model_name` (which kohya readers, ours included, take as the
 * base), `ss_base_model_version` for the Stable Diffusion families it names, and the SAI ModelSpec
 * keys (`modelspec.sai_model_spec`, `.architecture` when the family is known, `.implementation`,
 * `.title`, `.merged_from`).
 */
export function baseModelMetadata(layout: 'kohya' | 'diffusers' | 'cloneofsimo', options: { baseModel?: string; title?: string }, inputs: { name: string }[]): Record<string, string> {
  const out: Record<string, string> = {
    'modelspec.sai_model_spec': '1.0.0',
    'modelspec.implementation': layout === 'kohya' ? 'https://github.com/Stability-AI/generative-models' : 'diffusers',
    'modelspec.title': options.title ?? `adapter-composer composite of ${inputs.map((i) => i.name).join(', ')}`,
    'modelspec.merged_from': inputs.map((i) => i.name).join(', '),
  };
  const base = options.baseModel;
  if (!base) return out;
  out.ss_sd_model_name = base;
  const family = stableDiffusionFamily(base);
  if (family) {
    out.ss_base_model_version = family.kohya;
    out['modelspec.architecture'] = `${family.modelspec}/lora`;
  }
  return out;
}

/** The Stable Diffusion family a base model id names, in kohya's and ModelSpec's spelling. */
function stableDiffusionFamily(base: string): { kohya: string; modelspec: string } | undefined {
  const b = base.toLowerCase();
  if (/(xl|sdxl)/.test(b) && /(diffusion|sd)/.test(b)) return { kohya: 'sdxl_base_v1-0', modelspec: 'stable-diffusion-xl-v1-base' };
  if (/stable-diffusion-2|sd-?2(\.|-|_)|sd_v2/.test(b)) return { kohya: 'sd_v2', modelspec: 'stable-diffusion-v2' };
  if (/stable-diffusion-v1|stable-diffusion-v-1|sd-?v?1(\.|-|_)|sd15|sd_v1|sd1\.5/.test(b)) return { kohya: 'sd_v1', modelspec: 'stable-diffusion-v1' };
  return undefined;
}
