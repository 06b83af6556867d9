/**
 * PEFT LoRA: adapter_config.json + adapter_model.safetensors with keys
 * `base_model.model.<module>.lora_A.weight` / `lora_B.weight` (optionally with the adapter name,
 * `.lora_A.default.weight`), embedding LoRAs `lora_embedding_A/B`, and modules_to_save as full tensors.
 * Also the key layout diffusers ≥ 0.21 writes without a config (`unet.….lora_A.weight`, α = r).
 */
import { ComposerError } from '../errors';
import type { ExtraTensor, LoraAdapter, LoraModule } from './adapter';
import { plainFactorShape } from './factorShapes';
import { refuse, refuseDora } from './refusals';
import type { SafetensorsFile } from './safetensors';
import { compilePeftPattern, PatternError, type SafePattern } from './safeRegex';
import { setOwn } from '../nameTable';
import { shortModuleName } from './moduleFacts';

export const PEFT_PREFIX = 'base_model.model.';

const FACTOR_KEY = /^(.*)\.(lora_A|lora_B)(?:\.([A-Za-z0-9_-]+))?\.weight$/;
const EMBEDDING_KEY = /^(.*)\.(lora_embedding_A|lora_embedding_B)(?:\.([A-Za-z0-9_-]+))?$/;

export interface PeftConfig {
  r: number;
  lora_alpha: number;
  use_rslora: boolean;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  modules_to_save: string[];
  base?: string;
  raw: Record<string, unknown>;
}

export function parsePeftConfig(raw: Record<string, unknown>, file: string): PeftConfig {
  const peftType = raw.peft_type;
  const t = typeof peftType === 'string' ? peftType.toUpperCase() : JSON.stringify(peftType);
  if (peftType !== undefined && peftType !== null && t !== 'LORA') {
    const reason: Record<string, string> = {
      LOKR: 'LoKr (Kronecker-product update)',
      LOHA: 'LoHa (Hadamard-product update)',
      ADALORA: 'AdaLoRA (SVD-parameterised update P·Λ·Q with rank masks)',
      IA3: 'IA³ (learned rescaling vectors, not an additive update)',
      VERA: 'VeRA (shared frozen random matrices)',
      BOFT: 'BOFT (orthogonal rotation)',
      OFT: 'OFT (orthogonal rotation)',
    };
    refuse(file, `PEFT adapter of type ${t}${reason[t] ? `: ${reason[t]}` : ''}, not LoRA`, 'only peft_type LORA adapters can be composed');
  }
  if (raw.use_dora === true) refuseDora(file, 'use_dora: true in adapter_config.json');
  const r = raw.r ?? 8;
  const alpha = raw.lora_alpha ?? 8;
  if (typeof r !== 'number' || !(r > 0)) throw new ComposerError('adapter-format', `adapter_config.json: "r" must be a positive number, found ${JSON.stringify(raw.r)}`, { file });
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ComposerError('adapter-format', `adapter_config.json: "lora_alpha" must be a number, found ${JSON.stringify(raw.lora_alpha)}`, { file });
  const patterns = (field: string): Record<string, number> => {
    const v = raw[field];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ComposerError('adapter-format', `adapter_config.json: "${field}" must be an object`, { file });
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x !== 'number') throw new ComposerError('adapter-format', `adapter_config.json: "${field}"."${k}" must be a number`, { file });
      const slow = slowPatternReason(k);
      if (slow) throw new ComposerError('adapter-format', `adapter_config.json: "${field}" key ${JSON.stringify(k.slice(0, 80))} is a regular expression that ${slow}`, { file }, 'use module names or simple patterns such as "layers\\.0\\.self_attn\\.q_proj"');
      setOwn(out, k, x);
    }
    return out;
  };
  const mts = raw.modules_to_save;
  return {
    r,
    lora_alpha: alpha,
    use_rslora: raw.use_rslora === true,
    rank_pattern: patterns('rank_pattern'),
    alpha_pattern: patterns('alpha_pattern'),
    modules_to_save: Array.isArray(mts) ? mts.map(String) : [],
    base: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : undefined,
    raw,
  };
}

/**
 * Pattern keys are regular expressions from a downloaded file. They never reach a backtracking
 * engine: safeRegex.ts compiles them to an NFA matched in linear time. Returns why a key is refused
 * (an unsupported construct or a program too large), if it is.
 */
export function slowPatternReason(pattern: string): string | undefined {
  try {
    compiledPattern(pattern);
    return undefined;
  } catch (e) {
    if (e instanceof PatternError) return e.message;
    throw e;
  }
}

const compiled = new Map<string, SafePattern>();

function compiledPattern(key: string): SafePattern {
  let c = compiled.get(key);
  if (!c) {
    c = compilePeftPattern(key);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

/**
 * PEFT's pattern lookup (`re.match(rf"(.*\.)?({key})$", module)`): the first key that matches the
 * module name in full, after an optional prefix ending with a dot. Linear time per key.
 */
export function patternValue(patterns: Record<string, number>, module: string): number | undefined {
  if (Object.prototype.hasOwnProperty.call(patterns, module)) return patterns[module];
  for (const [key, value] of Object.entries(patterns)) {
    let re: SafePattern;
    try {
      re = compiledPattern(key);
    } catch {
      continue;
    }
    if (re.fullMatch(module)) return value;
  }
  return undefined;
}

export function moduleScale(alpha: number, rank: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

export interface PeftKeysResult {
  modules: Map<string, LoraModule>;
  extras: ExtraTensor[];
}

/**
 * Reads PEFT-layout keys. `config` absent: α = r for every module (diffusers' convention).
 */
export function readPeftKeys(file: SafetensorsFile, config: PeftConfig | undefined, configFile: string | undefined): PeftKeysResult {
  const pairs = new Map<string, { a?: string; b?: string; embedding: boolean }>();
  const extras: ExtraTensor[] = [];
  for (const key of file.tensors.keys()) {
    if (/lora_magnitude_vector/.test(key)) refuseDora(file.path, `tensor "${key}"`);
    const factor = FACTOR_KEY.exec(key);
    const embedding = factor ? null : EMBEDDING_KEY.exec(key);
    const match = factor ?? embedding;
    if (match) {
      const module = stripPrefix(match[1]);
      const entry = pairs.get(module) ?? { embedding: !!embedding };
      if (match[2].endsWith('A')) entry.a = key;
      else entry.b = key;
      pairs.set(module, entry);
      continue;
    }
    if (/\.lora_B(\.[^.]+)?\.bias$/.test(key)) {
      refuse(file.path, `LoRA with a trained bias (tensor "${key}", lora_bias=true): the bias update is not part of B·A`, 'retrain without lora_bias, or merge it into the base model with PEFT');
    }
    const path = stripPrefix(key);
    const owner = config?.modules_to_save.find((m) => `.${path}.`.includes(`.${m}.`) || path.startsWith(`${m}.`));
    if (owner) {
      const t = file.tensors.get(key)!;
      extras.push({ key, kind: 'modules_to_save', name: path, shape: t.shape, dtype: t.dtype });
      continue;
    }
    refuse(
      file.path,
      `unrecognised tensor "${key}": not a LoRA factor (lora_A/lora_B) and not listed in modules_to_save`,
      config ? 'only plain LoRA adapters can be composed; check adapter_config.json modules_to_save' : 'a PEFT adapter needs adapter_config.json next to its weights',
    );
  }
  const modules = new Map<string, LoraModule>();
  for (const [name, p] of pairs) {
    if (!p.a || !p.b) {
      throw new ComposerError('adapter-format', `module "${name}" has ${p.a ? 'lora_A but no lora_B' : 'lora_B but no lora_A'}`, { file: file.path });
    }
    const a = file.info(p.a);
    const b = file.info(p.b);
    const shape = plainFactorShape(file.path, name, a, b);
    let rank = shape.rank;
    let alpha = rank;
    let rslora = false;
    if (config) {
      const configuredRank = patternValue(config.rank_pattern, name) ?? config.r;
      if (configuredRank !== shape.rank) {
        throw new ComposerError(
          'adapter-format',
          `module "${name}": tensors have rank ${shape.rank} but adapter_config.json says r = ${configuredRank}`,
          { file: configFile ?? file.path },
          'the config does not belong to these weights (PEFT would refuse to load them too)',
        );
      }
      rank = configuredRank;
      alpha = patternValue(config.alpha_pattern, name) ?? config.lora_alpha;
      rslora = config.use_rslora;
    }
    modules.set(name, {
      name,
      rank,
      alpha,
      scale: moduleScale(alpha, rank, rslora),
      inFeatures: shape.inFeatures,
      outFeatures: shape.outFeatures,
      aKey: p.a,
      bKey: p.b,
      layout: 'plain',
      kernel: shape.kernel,
      embedding: p.embedding || undefined,
      dtype: shape.dtype,
    });
  }
  return { modules, extras };
}

function stripPrefix(key: string): string {
  return key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
}

/**
 * adapter_config.json of a composite in the PEFT layout: the first PEFT input's config with every
 * module's α equal to its rank (scale 1: the factors carry wᵢ·sᵢ), ranks that differ from the most
 * common one in rank_pattern/alpha_pattern, and the target modules of the output.
 */
export function peftCompositeConfig(adapters: LoraAdapter[], modules: { name: string; rank: number }[], layoutRank: number, hasModulesToSave: boolean, format: string): Record<string, unknown> {
  const first = adapters.find((a) => a.format === 'peft' && a.config)?.config ?? {};
  const ranks: Record<string, number> = {};
  for (const p of modules) if (p.rank !== layoutRank) ranks[p.name] = p.rank;
  const targets = [...new Set(modules.map((p) => shortModuleName(p.name, 'peft')))].sort();
  const config: Record<string, unknown> = {
    ...first,
    peft_type: 'LORA',
    base_model_name_or_path: adapters.find((a) => a.base)?.base ?? (first.base_model_name_or_path ?? null),
    r: layoutRank,
    lora_alpha: layoutRank,
    // every module's α equals its rank: scale 1, the factors carry wᵢ·sᵢ
    rank_pattern: ranks,
    alpha_pattern: { ...ranks },
    target_modules: targets,
    use_rslora: false,
    use_dora: false,
    fan_in_fan_out: adapters.some((a) => a.notes.includes('fan_in_fan_out')),
    modules_to_save: hasModulesToSave ? [...new Set(adapters.flatMap((a) => (Array.isArray(a.config?.modules_to_save) ? (a.config.modules_to_save as string[]) : [])))] : null,
    layers_to_transform: null,
    layers_pattern: null,
    inference_mode: true,
  };
  if (format !== 'peft') config.task_type = config.task_type ?? null;
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(config).sort()) sorted[k] = config[k];
  return sorted;
}
