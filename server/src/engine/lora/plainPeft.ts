/**
 * Writes a plain PEFT LoRA folder: adapter_config.json and adapter_model.safetensors with float32 factors
 * named base_model.model.<module>.lora_A/B.weight. What this tool itself makes as an adapter (the demo
 * adapters, the real demo's LoRAs, the zero adapter of the base model); one writer, so the config's
 * fields and the tensor names are the same in all of them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFloatTensors } from './safetensorsWriter';

export interface PlainPeftModule {
  name: string;
  /** The module's rank (default: the adapter's). */
  rank?: number;
  inFeatures: number;
  outFeatures: number;
  /** lora_A [rank, inFeatures] and lora_B [outFeatures, rank], row-major. */
  a: ArrayLike<number>;
  b: ArrayLike<number>;
}

export interface PlainPeft {
  base: string;
  rank: number;
  alpha: number;
  /** PEFT's task_type, written as given (null included); left out when undefined. */
  taskType?: string | null;
  targetModules: string[];
  modules: PlainPeftModule[];
  /** The safetensors header's `description`. */
  description?: string;
}

/** Writes the folder `dir` (made when missing); returns its two files, the config first. */
export function writePlainPeft(dir: string, peft: PlainPeft): [string, string] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string] = [path.join(dir, 'adapter_config.json'), path.join(dir, 'adapter_model.safetensors')];
  const config = {
    base_model_name_or_path: peft.base,
    peft_type: 'LORA',
    task_type: peft.taskType,
    r: peft.rank,
    lora_alpha: peft.alpha,
    lora_dropout: 0,
    target_modules: peft.targetModules,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: false,
    inference_mode: true,
  };
  fs.writeFileSync(files[0], JSON.stringify(config, null, 2) + '\n');
  writeFloatTensors(files[1], peft.modules.flatMap((m) => [
    { name: `base_model.model.${m.name}.lora_A.weight`, dtype: 'F32' as const, shape: [m.rank ?? peft.rank, m.inFeatures], data: m.a },
    { name: `base_model.model.${m.name}.lora_B.weight`, dtype: 'F32' as const, shape: [m.outFeatures, m.rank ?? peft.rank], data: m.b },
  ]), { format: 'pt', ...(peft.description !== undefined ? { description: peft.description } : {}) });
  return files;
}
