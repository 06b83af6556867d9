/**
 * diffusers `pytorch_lora_weights.safetensors` in its pre-PEFT layouts (no alpha: α = r, scale 1
 * unless an `.alpha` tensor is present):
 *   old attention-processor layout: `<path>.processor.to_q_lora.down.weight` (UNet, no prefix);
 *   `unet.`/`text_encoder.` layout: `<module>.lora.down.weight`, `<module>.lora_linear_layer.up.weight`.
 * Module names are normalised to the model path with its component prefix: `unet.<path>.to_q`,
 * `unet.<path>.to_out.0`, `text_encoder.<path>.q_proj`, so both layouts (and the PEFT-key layout) agree.
 */
import { ComposerError } from '../errors';
import type { LoraModule } from './adapter';
import { plainFactorShape, plainModule } from './factorShapes';
import { refuse } from './refusals';
import type { SafetensorsFile } from './safetensors';

const PROCESSOR_KEY = /^(.*)\.processor\.(to_q|to_k|to_v|to_out|add_q_proj|add_k_proj|add_v_proj|to_add_out)_lora\.(down|up)\.weight$/;
const LAYER_KEY = /^(.*)\.(?:lora|lora_linear_layer)\.(down|up)\.weight$/;
const ALPHA_KEY = /^(.*)\.alpha$/;
const COMPONENTS = ['unet.', 'text_encoder.', 'text_encoder_2.', 'transformer.', 'prior.'];

export function isDiffusersKey(key: string): boolean {
  return PROCESSOR_KEY.test(key) || LAYER_KEY.test(key);
}

function processorModule(path: string, projection: string): string {
  const prefixed = COMPONENTS.some((c) => path.startsWith(c)) ? path : `unet.${path}`;
  return projection === 'to_out' ? `${prefixed}.to_out.0` : `${prefixed}.${projection}`;
}

export function readDiffusersKeys(file: SafetensorsFile): Map<string, LoraModule> {
  const parts = new Map<string, { down?: string; up?: string; alpha?: string }>();
  const alphas = new Map<string, string>();
  for (const key of file.tensors.keys()) {
    let module: string | undefined;
    let role: string | undefined;
    const p = PROCESSOR_KEY.exec(key);
    if (p) {
      module = processorModule(p[1], p[2]);
      role = p[3];
    } else {
      const l = LAYER_KEY.exec(key);
      if (l) {
        module = COMPONENTS.some((c) => l[1].startsWith(c)) ? l[1] : `unet.${l[1]}`;
        role = l[2];
      }
    }
    if (module && role) {
      const entry = parts.get(module) ?? {};
      if (role === 'down') entry.down = key;
      else entry.up = key;
      parts.set(module, entry);
      continue;
    }
    const a = ALPHA_KEY.exec(key);
    if (a) {
      alphas.set(COMPONENTS.some((c) => a[1].startsWith(c)) ? a[1] : `unet.${a[1]}`, key);
      continue;
    }
    refuse(file.path, `unrecognised tensor "${key}" in a diffusers LoRA (expected ….lora.down.weight / ….lora.up.weight or the attention-processor layout)`, 'only plain LoRA weights can be composed');
  }
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of parts) {
    if (!p.down || !p.up) throw new ComposerError('adapter-format', `module "${name}" has only its ${p.down ? 'down' : 'up'} factor`, { file: file.path });
    const shape = plainFactorShape(file.path, name, file.info(p.down), file.info(p.up));
    const alphaKey = alphas.get(name);
    const alpha = alphaKey ? file.readFloat64(alphaKey)[0] : shape.rank;
    modules.set(name, plainModule(name, shape, alpha, p.down, p.up));
  }
  return modules;
}
