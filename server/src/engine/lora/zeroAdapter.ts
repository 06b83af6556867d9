/**
 * The base model as a library candidate: a zero adapter (ΔW = 0 on every module of a reference
 * adapter, B = 0 as PEFT initialises it) whose prototype is the base model's own training domain.
 * Retrieved and weighted like any other adapter, it lets `convex`/`sparse` shrink a composite toward
 * the base model when the target lies near the base's domain (with Σw = 1, no other way backs off).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { openAdapter } from './formats';
import { writeFloatTensors } from './safetensors';

export interface ZeroAdapterResult {
  dir: string;
  modules: number;
  base?: string;
  /** The files written (to undo them) and whether the folder itself was made here. */
  files: string[];
  createdDir: boolean;
}

/** Writes a PEFT folder with the modules and shapes of `like` and rank 1, A = 0 and B = 0. */
export function writeZeroAdapter(like: string, dir: string, base?: string): ZeroAdapterResult {
  const reference = openAdapter(like);
  const baseModel = base ?? reference.base;
  if (!baseModel) throw new ComposerError('usage', `the reference adapter names no base model`, { file: like }, 'pass --base MODEL');
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new ComposerError('io', `${dir} exists and is not empty`, { file: dir }, 'choose an empty or new folder for the zero adapter');
  const modules = [...reference.modules.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (modules.length === 0) throw new ComposerError('adapter-format', 'the reference adapter has no LoRA modules', { file: like });
  const createdDir = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, 'adapter_config.json'), path.join(dir, 'adapter_model.safetensors')];
  fs.writeFileSync(files[0], JSON.stringify({
    base_model_name_or_path: baseModel,
    peft_type: 'LORA',
    r: 1,
    lora_alpha: 1,
    lora_dropout: 0,
    target_modules: [...new Set(modules.map((m) => m.name.split('.').pop()!))],
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    inference_mode: true,
  }, null, 2) + '\n');
  writeFloatTensors(files[1], modules.flatMap((m) => [
    { name: `base_model.model.${m.name}.lora_A.weight`, dtype: 'F32' as const, shape: [1, m.inFeatures], data: new Float32Array(m.inFeatures) },
    { name: `base_model.model.${m.name}.lora_B.weight`, dtype: 'F32' as const, shape: [m.outFeatures, 1], data: new Float32Array(m.outFeatures) },
  ]), { format: 'pt', description: 'the base model as a candidate: a zero adapter (ΔW = 0)' });
  return { dir, modules: modules.length, base: baseModel, files, createdDir };
}

/** Undoes writeZeroAdapter: its two files, and the folder only when it made it (a folder the user had stays). */
export function removeZeroAdapter(result: ZeroAdapterResult): void {
  for (const f of result.files) fs.rmSync(f, { force: true });
  if (result.createdDir) {
    try {
      fs.rmdirSync(result.dir); // only while empty
    } catch {
      // something else appeared in it: leave it
    }
  }
}
