/**
 * encoder.json: how raw samples become encoder inputs, and how the encoder's output becomes one
 * vector per sample. It ships beside the encoder (a library folder holds encoder.onnx + encoder.json
 * and, for text encoders, the tokenizer.json the config names).
 *
 * Without a config the encoder reads [batch, d_in] float rows from .npy files, as before.
 *
 * {
 *   "kind": "image" | "text" | "features",
 *   "input": "pixel_values",            image/features: the float input (default: the only input)
 *   "layout": "NCHW" | "NHWC" | "ND",    image: NCHW (default) or NHWC; features: ND
 *   "dtype": "float32" | "float64",      default: what the model declares
 *   "image": { "size": 224 | [height, width], "resize": "shorter-side-center-crop" | "stretch",
 *              "shorter_side": 256, "interpolation": "bilinear", "scale": 1/255,
 *              "mean": [r, g, b], "std": [r, g, b], "channel_order": "RGB" | "BGR" },
 *   "text":  { "tokenizer": "tokenizer.json", "max_length": 128, "text_field": "text",
 *              "inputs": { "input_ids": "input_ids", "attention_mask": "attention_mask",
 *                          "token_type_ids": null } },
 *   "output": { "name": "last_hidden_state", "pooling": "none" | "cls" | "mean" },
 *   "accept": ["image", "npy"]           sample kinds that may be mixed in one glob
 * }
 *
 * Errors point at the offending key (file:line:column), parsed with the YAML parser (JSON is YAML).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ComposerError, type SourceLocation } from '../errors';
import { sha256Bytes, sha256FileSync } from './contentHash';
import { parseJsonQuiet, readTextSafe } from '../safeRead';

export const ENCODER_CONFIG_FILE = 'encoder.json';

export type EncoderInputKind = 'features' | 'image' | 'text';
export type SampleKind = 'npy' | 'image' | 'text';
export type Pooling = 'none' | 'cls' | 'mean';
export type ResizeMode = 'shorter-side-center-crop' | 'stretch';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

export interface ImagePreprocessing {
  height: number;
  width: number;
  resize: ResizeMode;
  /** shorter-side-center-crop: the shorter side is resized to this, then the center is cropped. */
  shorterSide?: number;
  interpolation: Interpolation;
  /** Pixel values (0..255) are multiplied by this before mean/std. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  channelOrder: 'RGB' | 'BGR';
}

export interface TextPreprocessing {
  /** Absolute path of the tokenizer.json. */
  tokenizerFile: string;
  /** As written in the config (relative to it), for copying the config elsewhere. */
  tokenizerName: string;
  maxLength: number;
  /** The field of a JSON Lines record holding the text. */
  textField: string;
  inputIds: string;
  attentionMask?: string;
  tokenTypeIds?: string;
  /** Padding id for a batch of unequal lengths (default: the tokenizer's padding id, else 0). */
  padId?: number;
}

export interface EncoderConfig {
  kind: EncoderInputKind;
  input?: string;
  layout: 'NCHW' | 'NHWC' | 'ND';
  dtype?: 'float32' | 'float64';
  image?: ImagePreprocessing;
  text?: TextPreprocessing;
  output: { name?: string; pooling: Pooling };
  /** Sample file kinds this encoder reads; more than one means globs may mix them. */
  accept: SampleKind[];
  /** The config file it was read from (absent for a config built in code). */
  file?: string;
  /**
   * sha256 over the normalised config and the tokenizer's bytes: part of every prototype cache key,
   * since changing preprocessing changes the prototypes.
   */
  sha256: string;
}

type Raw = Record<string, unknown>;

/** Reads and validates an encoder config file. */
export function readEncoderConfig(file: string): EncoderConfig {
  return parseEncoderConfig(readTextSafe(file, 'config', 'the encoder config'), file);
}

/** The config beside an encoder file (`encoder.json` in its folder), when there is one. */
export function encoderConfigBeside(encoderFile: string): string | undefined {
  const candidate = path.join(path.dirname(path.resolve(encoderFile)), ENCODER_CONFIG_FILE);
  return fs.existsSync(candidate) ? candidate : undefined;
}

/** Validates config text; `file` locates errors and anchors the tokenizer path. */
export function parseEncoderConfig(text: string, file: string): EncoderConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ComposerError('encoder', `the encoder config is not valid JSON: ${e.message.split('\n')[0]}`, { file, line: pos.line, column: pos.col });
  }
  const raw = doc.toJS() as unknown;
  const at = (keys: (string | number)[]): SourceLocation => locate(doc, lineCounter, file, keys);
  const fail = (keys: (string | number)[], message: string, hint?: string): never => {
    throw new ComposerError('encoder', `${keys.length ? `\`${keys.join('.')}\`: ` : ''}${message}`, at(keys), hint);
  };
  if (!isPlainObject(raw)) fail([], 'the encoder config must be a JSON object');
  const root = raw as Raw;
  const known = ['kind', 'input', 'layout', 'dtype', 'image', 'text', 'output', 'accept', '$schema', 'description'];
  for (const key of Object.keys(root)) {
    if (!known.includes(key)) fail([key], `unknown key`, `keys: ${known.filter((k) => !k.startsWith('$')).join(', ')}`);
  }
  const kind = oneOf(root.kind, ['image', 'text', 'features'] as const, ['kind'], fail, undefined);

  const config: Omit<EncoderConfig, 'sha256'> = {
    kind,
    layout: kind === 'image' ? 'NCHW' : 'ND',
    output: { pooling: 'none' },
    accept: kind === 'image' ? ['image'] : kind === 'text' ? ['text'] : ['npy'],
    file: path.resolve(file),
  };
  if (root.input !== undefined) config.input = nonEmptyString(root.input, ['input'], fail);
  if (root.layout !== undefined) {
    config.layout = oneOf(root.layout, kind === 'image' ? (['NCHW', 'NHWC'] as const) : (['ND'] as const), ['layout'], fail, undefined);
  }
  if (root.dtype !== undefined) config.dtype = oneOf(root.dtype, ['float32', 'float64'] as const, ['dtype'], fail, undefined);

  if (kind === 'image') {
    if (root.image === undefined) fail(['image'], 'an image encoder needs an `image` section (size, mean, std, …)');
    config.image = imageSection(root.image, fail);
  } else if (root.image !== undefined) fail(['image'], `only an image encoder takes an \`image\` section (kind is ${kind})`);
  if (kind === 'text') {
    if (root.text === undefined) fail(['text'], 'a text encoder needs a `text` section (tokenizer, max_length, inputs)');
    config.text = textSection(root.text, path.dirname(path.resolve(file)), fail);
    if (root.input !== undefined) fail(['input'], 'a text encoder names its inputs under `text.inputs`');
  } else if (root.text !== undefined) fail(['text'], `only a text encoder takes a \`text\` section (kind is ${kind})`);

  if (root.output !== undefined) {
    if (!isPlainObject(root.output)) fail(['output'], 'must be an object { name, pooling }');
    const out = root.output as Raw;
    for (const key of Object.keys(out)) if (!['name', 'pooling'].includes(key)) fail(['output', key], 'unknown key', 'keys: name, pooling');
    if (out.name !== undefined) config.output.name = nonEmptyString(out.name, ['output', 'name'], fail);
    if (out.pooling !== undefined) config.output.pooling = oneOf(out.pooling, ['none', 'cls', 'mean'] as const, ['output', 'pooling'], fail, undefined);
  }

  if (root.accept !== undefined) {
    if (!Array.isArray(root.accept) || root.accept.length === 0) fail(['accept'], 'must be a non-empty list of sample kinds (image, text, npy)');
    const allowed: SampleKind[] = kind === 'image' ? ['image', 'npy'] : kind === 'text' ? ['text'] : ['npy'];
    const accept = (root.accept as unknown[]).map((v, i) => oneOf(v, allowed, ['accept', i], fail, `a ${kind} encoder reads ${allowed.join(' or ')} samples`));
    config.accept = [...new Set(accept)];
  }
  return { ...config, sha256: encoderConfigSha256(config) };
}

/** The hash of a config's meaning: normalised fields plus the tokenizer file's bytes (not paths). */
export function encoderConfigSha256(config: Omit<EncoderConfig, 'sha256'>): string {
  const { file: _file, text, ...rest } = config;
  const textPart = text
    ? { ...text, tokenizerFile: undefined, tokenizerName: undefined, tokenizer: sha256FileSync(text.tokenizerFile) }
    : undefined;
  return sha256Bytes(JSON.stringify({ v: 1, ...rest, text: textPart }));
}

/** The config file's JSON with the tokenizer renamed (used when copying both into a library folder). */
export function encoderConfigJsonWithTokenizer(configFile: string, tokenizerName: string): string {
  const raw = parseJsonQuiet(readTextSafe(configFile, 'config', 'the encoder config')) as Raw;
  if (isPlainObject(raw.text)) raw.text.tokenizer = tokenizerName;
  return JSON.stringify(raw, null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------

type Fail = (keys: (string | number)[], message: string, hint?: string) => never;

function imageSection(value: unknown, fail: Fail): ImagePreprocessing {
  if (!isPlainObject(value)) fail(['image'], 'must be an object');
  const v = value;
  const known = ['size', 'resize', 'shorter_side', 'interpolation', 'scale', 'mean', 'std', 'channel_order'];
  for (const key of Object.keys(v)) if (!known.includes(key)) fail(['image', key], 'unknown key', `keys: ${known.join(', ')}`);
  let height: number;
  let width: number;
  if (typeof v.size === 'number') {
    height = width = positiveInteger(v.size, ['image', 'size'], fail);
  } else if (Array.isArray(v.size) && v.size.length === 2) {
    height = positiveInteger(v.size[0], ['image', 'size', 0], fail);
    width = positiveInteger(v.size[1], ['image', 'size', 1], fail);
  } else {
    fail(['image', 'size'], v.size === undefined ? 'missing: the input image size, e.g. 224 or [224, 224] (height, width)' : 'must be a number or [height, width]');
  }
  const image: ImagePreprocessing = {
    height: height!,
    width: width!,
    resize: v.resize === undefined ? 'shorter-side-center-crop' : oneOf(v.resize, ['shorter-side-center-crop', 'stretch'] as const, ['image', 'resize'], fail, undefined),
    interpolation: v.interpolation === undefined ? 'bilinear' : oneOf(v.interpolation, ['nearest', 'bilinear', 'bicubic', 'lanczos'] as const, ['image', 'interpolation'], fail, undefined),
    scale: v.scale === undefined ? 1 / 255 : finiteNumber(v.scale, ['image', 'scale'], fail),
    mean: triple(v.mean, ['image', 'mean'], fail, [0, 0, 0], false),
    std: triple(v.std, ['image', 'std'], fail, [1, 1, 1], true),
    channelOrder: v.channel_order === undefined ? 'RGB' : oneOf(v.channel_order, ['RGB', 'BGR'] as const, ['image', 'channel_order'], fail, undefined),
  };
  if (v.shorter_side !== undefined) {
    if (image.resize !== 'shorter-side-center-crop') fail(['image', 'shorter_side'], 'only used with resize: shorter-side-center-crop');
    image.shorterSide = positiveInteger(v.shorter_side, ['image', 'shorter_side'], fail);
    if (image.shorterSide < Math.min(image.height, image.width)) {
      fail(['image', 'shorter_side'], `${image.shorterSide} is smaller than the crop (${image.height}×${image.width})`, 'the shorter side must be at least the crop size');
    }
  }
  return image;
}

function textSection(value: unknown, configDir: string, fail: Fail): TextPreprocessing {
  if (!isPlainObject(value)) fail(['text'], 'must be an object');
  const v = value;
  const known = ['tokenizer', 'max_length', 'text_field', 'inputs', 'pad_id'];
  for (const key of Object.keys(v)) if (!known.includes(key)) fail(['text', key], 'unknown key', `keys: ${known.join(', ')}`);
  const tokenizerName = v.tokenizer === undefined ? 'tokenizer.json' : nonEmptyString(v.tokenizer, ['text', 'tokenizer'], fail);
  const tokenizerFile = path.resolve(configDir, tokenizerName);
  if (!fs.existsSync(tokenizerFile)) {
    fail(['text', 'tokenizer'], `tokenizer file not found: ${tokenizerFile}`, 'ship the tokenizer.json of the encoder beside the config; the path is relative to the config');
  }
  if (v.max_length === undefined) fail(['text', 'max_length'], 'missing: the longest token sequence the encoder takes (longer texts are truncated)');
  const text: TextPreprocessing = {
    tokenizerFile,
    tokenizerName,
    maxLength: positiveInteger(v.max_length, ['text', 'max_length'], fail),
    textField: v.text_field === undefined ? 'text' : nonEmptyString(v.text_field, ['text', 'text_field'], fail),
    inputIds: 'input_ids',
    attentionMask: 'attention_mask',
  };
  if (v.pad_id !== undefined) {
    text.padId = finiteNumber(v.pad_id, ['text', 'pad_id'], fail);
    if (!Number.isInteger(text.padId) || text.padId < 0) fail(['text', 'pad_id'], 'must be a non-negative integer');
  }
  if (v.inputs !== undefined) {
    if (!isPlainObject(v.inputs)) fail(['text', 'inputs'], 'must be an object { input_ids, attention_mask, token_type_ids }');
    const inputs = v.inputs;
    for (const key of Object.keys(inputs)) {
      if (!['input_ids', 'attention_mask', 'token_type_ids'].includes(key)) fail(['text', 'inputs', key], 'unknown key', 'keys: input_ids, attention_mask, token_type_ids');
    }
    if (inputs.input_ids !== undefined) text.inputIds = nonEmptyString(inputs.input_ids, ['text', 'inputs', 'input_ids'], fail);
    // null: the model has no such input.
    if (inputs.attention_mask === null) delete text.attentionMask;
    else if (inputs.attention_mask !== undefined) text.attentionMask = nonEmptyString(inputs.attention_mask, ['text', 'inputs', 'attention_mask'], fail);
    if (inputs.token_type_ids !== undefined && inputs.token_type_ids !== null) {
      text.tokenTypeIds = nonEmptyString(inputs.token_type_ids, ['text', 'inputs', 'token_type_ids'], fail);
    }
  }
  return text;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(v: unknown, options: readonly T[], keys: (string | number)[], fail: Fail, hint: string | undefined): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
    fail(keys, `${v === undefined ? 'missing' : `${JSON.stringify(v)} is not allowed`}; expected one of ${options.map((o) => `"${o}"`).join(', ')}`, hint);
  }
  return v as T;
}

function nonEmptyString(v: unknown, keys: (string | number)[], fail: Fail): string {
  if (typeof v !== 'string' || v === '') fail(keys, 'must be a non-empty string');
  return v;
}

function finiteNumber(v: unknown, keys: (string | number)[], fail: Fail): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(keys, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInteger(v: unknown, keys: (string | number)[], fail: Fail): number {
  const n = finiteNumber(v, keys, fail);
  if (!Number.isInteger(n) || n < 1) fail(keys, `must be a positive integer, got ${n}`);
  return n;
}

function triple(v: unknown, keys: (string | number)[], fail: Fail, fallback: [number, number, number], positive: boolean): [number, number, number] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.length !== 3) fail(keys, 'must be a list of 3 numbers (one per channel, in RGB order)');
  const out = (v as unknown[]).map((x, i) => finiteNumber(x, [...keys, i], fail)) as [number, number, number];
  out.forEach((x, i) => {
    if (positive && x <= 0) fail([...keys, i], `must be positive, got ${x}`);
  });
  return out;
}

function locate(doc: Document, lineCounter: LineCounter, file: string, keys: (string | number)[]): SourceLocation {
  // The deepest node that exists along the path: a missing key points at its parent.
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    const parent = n === 0 ? undefined : n === 1 ? doc.contents : doc.getIn(keys.slice(0, n - 1), true);
    // Point at the key (not the value) of an unknown or wrong object member.
    let range: readonly number[] | null | undefined;
    if (isMap(parent) && n > 0) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === keys[n - 1]);
      const keyNode = pair?.key as { range?: readonly number[] } | undefined;
      const valueNode = pair?.value as { range?: readonly number[] } | undefined;
      range = valueNode?.range ?? keyNode?.range;
    } else if (isSeq(parent) || n === 0) {
      range = (node as { range?: readonly number[] } | null | undefined)?.range;
    }
    if (range) {
      const start = lineCounter.linePos(range[0]);
      return { file, line: start.line, column: start.col };
    }
  }
  return { file };
}

/**
 * Copies a config into a library folder as encoder.json; a text encoder's tokenizer.json (and the
 * tokenizer_config.json beside it) comes along and the copied config names it by its new place.
 */
export function copyEncoderConfigInto(config: EncoderConfig, folder: string): void {
  if (!config.file) throw new ComposerError('internal', 'an encoder config built in code has no file to copy');
  const target = path.join(folder, ENCODER_CONFIG_FILE);
  if (!config.text) {
    if (path.resolve(config.file) !== path.resolve(target)) fs.copyFileSync(config.file, target);
    return;
  }
  const tokenizerTarget = path.join(folder, 'tokenizer.json');
  if (path.resolve(config.text.tokenizerFile) !== path.resolve(tokenizerTarget)) fs.copyFileSync(config.text.tokenizerFile, tokenizerTarget);
  const tokenizerConfig = path.join(path.dirname(config.text.tokenizerFile), 'tokenizer_config.json');
  const tokenizerConfigTarget = path.join(folder, 'tokenizer_config.json');
  if (fs.existsSync(tokenizerConfig) && path.resolve(tokenizerConfig) !== path.resolve(tokenizerConfigTarget)) fs.copyFileSync(tokenizerConfig, tokenizerConfigTarget);
  fs.writeFileSync(target, encoderConfigJsonWithTokenizer(config.file, 'tokenizer.json'));
}
