/**
 * Detects an adapter's format from a folder or file and opens it in the normalised form.
 * Reads configs and safetensors headers only; factors are read per module on demand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import type { LoraAdapter } from './adapter';
import { isCloneofsimoFile, readCloneofsimoKeys } from './cloneofsimoFormat';
import { isDiffusersKey, readDiffusersKeys } from './diffusersFormat';
import { readKohyaKeys, refuseLycorisKeys } from './kohyaFormat';
import { isMlxFile, mlxScale, readMlxKeys } from './mlxFormat';
import { parsePeftConfig, readPeftKeys } from './peftFormat';
import { looksPickled, refuse, refuseDora, refusePickle } from './refusals';
import { SafetensorsFile } from './safetensors';
import { parseJsonQuiet, readTextSafe } from '../safeRead';

const PICKLE_NAMES = ['adapter_model.bin', 'pytorch_lora_weights.bin', 'adapters.npz'];
const WEIGHT_NAMES = ['adapter_model.safetensors', 'adapters.safetensors', 'pytorch_lora_weights.safetensors'];

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readTextSafe(file, 'config', path.basename(file));
  } catch (e) {
    // a config that cannot be read is the adapter's fault (its format), not an I/O error of ours
    throw e instanceof ComposerError ? new ComposerError('adapter-format', e.message, { file }, e.hint) : e;
  }
  let json: unknown;
  try {
    json = parseJsonQuiet(text);
  } catch (e) {
    throw new ComposerError('adapter-format', `${path.basename(file)} is ${(e as Error).message}`, { file });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ComposerError('adapter-format', `${path.basename(file)} must be a JSON object`, { file });
  return json as Record<string, unknown>;
}

/** Picks the weights file of an adapter folder, refusing pickles and ambiguity. */
function weightsFileOf(dir: string): string {
  for (const name of WEIGHT_NAMES) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  const entries = fs.readdirSync(dir);
  const safetensors = entries.filter((e) => e.endsWith('.safetensors') && !e.startsWith('.'));
  if (safetensors.length === 1) return path.join(dir, safetensors[0]);
  if (safetensors.length > 1) {
    throw new ComposerError('adapter-format', `${dir} holds several .safetensors files (${safetensors.join(', ')}); name the adapter file itself`, { file: dir });
  }
  const pickle = entries.find((e) => PICKLE_NAMES.includes(e) || /\.(bin|pt|pth|ckpt)$/i.test(e));
  if (pickle) refusePickle(path.join(dir, pickle));
  throw new ComposerError('adapter-format', `no adapter weights in ${dir} (expected adapter_model.safetensors, adapters.safetensors or pytorch_lora_weights.safetensors)`, { file: dir });
}

export interface OpenAdapterOptions {
  /** Ignore the adapter_config.json next to a weights file (e.g. reading our own output raw). */
  ignoreConfig?: boolean;
  /**
   * Hash the weights file in the same pass that reads its header and keep the descriptor for the
   * tensor reads (`file.pinned` holds the sha256; close with `file.close()`): what `compose` merges.
   */
  pin?: boolean;
}

/** Opens a LoRA adapter (folder or .safetensors file) of any supported format, or refuses it clearly. */
export function openAdapter(adapterPath: string, options: OpenAdapterOptions = {}): LoraAdapter {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(adapterPath);
  } catch {
    throw new ComposerError('io', `adapter not found: ${adapterPath}`, { file: adapterPath });
  }
  const dir = stat.isDirectory() ? adapterPath : path.dirname(adapterPath);
  const weightsFile = stat.isDirectory() ? weightsFileOf(adapterPath) : adapterPath;
  if (!weightsFile.endsWith('.safetensors') || looksPickled(weightsFile)) {
    if (looksPickled(weightsFile) || /\.(bin|pt|pth|ckpt|pkl)$/i.test(weightsFile)) refusePickle(weightsFile);
  }
  const file = options.pin ? SafetensorsFile.openPinned(weightsFile) : SafetensorsFile.open(weightsFile);
  try {
    return openWith(file, adapterPath, dir, weightsFile, options);
  } catch (e) {
    file.close();
    throw e;
  }
}

function openWith(file: SafetensorsFile, adapterPath: string, dir: string, weightsFile: string, options: OpenAdapterOptions): LoraAdapter {
  const configPath = path.join(dir, 'adapter_config.json');
  const hasConfig = !options.ignoreConfig && fs.existsSync(configPath);
  const config = hasConfig ? readJson(configPath) : undefined;
  const notes: string[] = [];
  const keys = [...file.tensors.keys()];
  const base = {
    path: adapterPath,
    weightsFile,
    metadata: file.metadata,
    file,
    notes,
  };

  // a PEFT config names its algorithm: refuse non-LoRA types before looking at keys
  const peftConfig = config && config.peft_type !== undefined ? parsePeftConfig(config, configPath) : undefined;
  // algorithms that are not LoRA, in whatever container
  refuseLycorisKeys(file);
  const doraKey = keys.find((k) => /lora_magnitude_vector|\.dora_scale$/.test(k));
  if (doraKey) refuseDora(weightsFile, `tensor "${doraKey}"`);

  if (isMlxFile(file)) {
    if (!config) refuse(weightsFile, 'MLX adapter without adapter_config.json: its scale is unknown', 'keep adapter_config.json (written by mlx-lm next to adapters.safetensors) in the same folder');
    const scale = mlxScale(config, configPath, notes);
    const model = config.model ?? config.base_model;
    return { ...base, format: 'mlx', configFile: configPath, config, base: typeof model === 'string' ? model : undefined, rslora: false, modules: readMlxKeys(file, scale), extras: [] };
  }
  if (isCloneofsimoFile(file)) {
    const { modules, extras } = readCloneofsimoKeys(file);
    return { ...base, format: 'cloneofsimo', rslora: false, modules, extras };
  }
  if (keys.some((k) => /\.lora_(down|up)\.weight$/.test(k))) {
    return { ...base, format: 'kohya', base: file.metadata.ss_sd_model_name, rslora: false, modules: readKohyaKeys(file), extras: [] };
  }
  if (keys.some(isDiffusersKey)) {
    return { ...base, format: 'diffusers', rslora: false, modules: readDiffusersKeys(file), extras: [] };
  }
  if (keys.some((k) => /\.lora_(A|B|embedding_A|embedding_B)(\.|$)/.test(k))) {
    if (config && config.lora_parameters !== undefined) refuse(configPath, 'adapter_config.json is an MLX config but the weights use PEFT keys', 'keep each adapter in its own folder');
    if (config) {
      const parsed = peftConfig ?? parsePeftConfig(config, configPath);
      const { modules, extras } = readPeftKeys(file, parsed, configPath);
      if (config.fan_in_fan_out === true) notes.push('fan_in_fan_out');
      return { ...base, format: 'peft', configFile: configPath, config, base: parsed.base, rslora: parsed.use_rslora, modules, extras };
    }
    // PEFT keys without a config: the diffusers ≥ 0.21 export (α = r)
    const { modules, extras } = readPeftKeys(file, undefined, undefined);
    const diffusers = keys.every((k) => /^(unet|text_encoder|text_encoder_2|transformer|prior)\./.test(k));
    if (!diffusers) notes.push('no adapter_config.json: assuming lora_alpha = r (scale 1)');
    return { ...base, format: diffusers ? 'diffusers' : 'peft', rslora: false, modules, extras };
  }
  if (keys.length === 0) throw new ComposerError('adapter-format', `${path.basename(weightsFile)} holds no tensors`, { file: weightsFile });
  refuse(weightsFile, `not a LoRA adapter of a known format (first tensor "${keys.sort()[0]}")`, 'supported: PEFT, kohya sd-scripts, diffusers, cloneofsimo lora_diffusion, MLX');
}
