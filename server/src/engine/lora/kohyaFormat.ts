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
