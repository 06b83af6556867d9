/**
 * Texts as encoder inputs: tokenized by @huggingface/tokenizers from the encoder's own
 * tokenizer.json (and tokenizer_config.json beside it, when present), truncated to max_length and
 * padded to the longest text of the batch.
 *
 * The library has no truncation, so we truncate around the special tokens: the text is encoded
 * with and without special tokens, the template's prefix/suffix specials are found where the plain
 * tokens sit inside the full encoding, and the plain tokens are cut (from the right) so that
 * prefix + tokens + suffix fits max_length — what `truncation=True` does for a single sequence.
 *
 * Text files: `.txt` holds one text per line (blank lines skipped); `.jsonl` one JSON object per
 * line with the text under `text_field`. Both are read line by line (memory bounded by a line).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Tokenizer } from '@huggingface/tokenizers';
import { ComposerError, ioError } from '../errors';
import type { TextPreprocessing } from './encoderConfig';
import { openRegular, parseJsonQuiet, readTextSafe } from '../safeRead';

export const TEXT_EXTENSIONS = ['.txt', '.jsonl', '.ndjson'];

export function isTextFile(file: string): boolean {
  return TEXT_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

export interface TokenBatch {
  /** n × length, row-major. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  n: number;
  length: number;
}

export interface TextTokenizer {
  /** Token ids of one text, special tokens included, truncated to max_length. */
  encode(text: string): { ids: number[]; tokenTypeIds: number[] };
  /** A padded batch (right padding with the pad id; mask 0 on padding). */
  encodeBatch(texts: string[]): TokenBatch;
  readonly padId: number;
}

export function openTokenizer(p: TextPreprocessing): TextTokenizer {
  const file = p.tokenizerFile;
  const json = readJson(file);
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const tokenizerConfig = fs.existsSync(configFile) ? readJson(configFile) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, tokenizerConfig);
  } catch (e) {
    throw new ComposerError('encoder', `cannot load the tokenizer ${file}: ${(e as Error).message}`, { file },
      'ship the tokenizer.json saved with the encoder (Hugging Face `tokenizer.save_pretrained` writes it)');
  }
  const padding = (json as { padding?: { pad_id?: unknown } }).padding;
  const padId = p.padId ?? (typeof padding?.pad_id === 'number' ? padding.pad_id : 0);
  const maxLength = p.maxLength;

  const encode = (text: string): { ids: number[]; tokenTypeIds: number[] } => {
    const full = tokenizer.encode(text, { add_special_tokens: true, return_token_type_ids: true });
    const fullTypes = full.token_type_ids ?? new Array<number>(full.ids.length).fill(0);
    if (full.ids.length <= maxLength) return { ids: full.ids, tokenTypeIds: fullTypes };
    const plain = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const prefix = findRun(full.ids, plain);
    if (prefix < 0) {
      // A post-processor that rewrites tokens (not just adds specials): cut the full sequence.
      return { ids: full.ids.slice(0, maxLength), tokenTypeIds: fullTypes.slice(0, maxLength) };
    }
    const suffixStart = prefix + plain.length;
    const specials = full.ids.length - plain.length;
    const keep = Math.max(0, maxLength - specials);
    const pick = <T>(a: T[]) => [...a.slice(0, prefix), ...a.slice(prefix, prefix + keep), ...a.slice(suffixStart)];
    return { ids: pick(full.ids).slice(0, maxLength), tokenTypeIds: pick(fullTypes).slice(0, maxLength) };
  };

  return {
    padId,
    encode,
    encodeBatch(texts) {
      const encoded = texts.map(encode);
      const length = Math.max(1, ...encoded.map((e) => e.ids.length));
      const n = texts.length;
      const inputIds = new BigInt64Array(n * length).fill(BigInt(padId));
      const attentionMask = new BigInt64Array(n * length);
      const tokenTypeIds = new BigInt64Array(n * length);
      encoded.forEach((e, i) => {
        for (let t = 0; t < e.ids.length; t++) {
          inputIds[i * length + t] = BigInt(e.ids[t]);
          attentionMask[i * length + t] = 1n;
          tokenTypeIds[i * length + t] = BigInt(e.tokenTypeIds[t] ?? 0);
        }
      });
      return { inputIds, attentionMask, tokenTypeIds, n, length };
    },
  };
}

/** Index where `run` occurs in `within` (first match), or -1. */
function findRun(within: number[], run: number[]): number {
  outer: for (let start = 0; start + run.length <= within.length; start++) {
    for (let j = 0; j < run.length; j++) if (within[start + j] !== run[j]) continue outer;
    return start;
  }
  return -1;
}

function readJson(file: string): object {
  const text = readTextSafe(file, 'tokenizer', 'the tokenizer');
  try {
    const value = parseJsonQuiet(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value;
  } catch (e) {
    throw new ComposerError('encoder', `${path.basename(file)} is ${(e as Error).message}`, { file });
  }
}

/** One text of a text sample file, with its 1-based line for error messages. */
export interface TextSample {
  text: string;
  line: number;
}

/** Streams the texts of a .txt / .jsonl file. */
export async function* readTextSamples(file: string, textField: string): AsyncGenerator<TextSample> {
  const jsonLines = path.extname(file).toLowerCase() !== '.txt';
  // Regular files only, checked on the descriptor the stream then reads (a /dev/zero link never ends).
  const { fd } = openRegular(file, 'text sample file');
  const stream = fs.createReadStream(file, { encoding: 'utf8', fd });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      if (!jsonLines) {
        yield { text, line };
        continue;
      }
      let record: unknown;
      try {
        record = parseJsonQuiet(text);
      } catch (e) {
        throw new ComposerError('io', `line ${line} is ${(e as Error).message}`, { file, line }, 'JSON Lines files hold one JSON object per line');
      }
      const value = (record as Record<string, unknown> | null)?.[textField];
      if (typeof value !== 'string') {
        throw new ComposerError('io', `line ${line} has no string field "${textField}"`, { file, line, column: 1 },
          textField === 'text' ? 'each line must be an object like {"text": "…"}; another field name goes in encoder.json `text.text_field`' : undefined);
      }
      yield { text: value, line };
    }
  } catch (e) {
    if (e instanceof ComposerError) throw e;
    throw ioError('cannot read', file, e);
  } finally {
    lines.close();
    stream.destroy();
  }
}
