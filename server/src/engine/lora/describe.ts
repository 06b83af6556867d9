/**
 * The facts `library add` records about an adapter, from its config and safetensors header only
 * (plus one streamed hash of the weights file).
 */
import * as fs from 'node:fs';
import type { AdapterFormat, LoraAdapter } from './adapter';
import { decodeToFloat64, DTYPE_SIZES, firstNonFiniteEncoded, isFloatDType, widestFloatDType } from './dtypes';
import { ComposerError } from '../errors';
import { openAdapter } from './formats';
import { sha256FileSync } from '../prototype/contentHash';
import { mostCommon, shortModuleName } from './moduleFacts';

export interface AdapterDescription {
  format: AdapterFormat;
  base?: string;
  /** The most common rank over modules (ties: the larger). */
  rank: number;
  /** Module → rank. */
  ranks: Record<string, number>;
  /** The most common α; `alphas` per module. */
  alpha: number;
  alphas: Record<string, number>;
  /** Short names of the adapted layers (q_proj, to_out.0, …), sorted. */
  target_modules: string[];
  dtype: string;
  rslora: boolean;
  modules_to_save: string[];
  token_embeddings: string[];
  weights_file: string;
  sha256: string;
  /** Size and mtime of the weights file when it was hashed: `check` re-hashes only when they change. */
  weights_size: number;
  weights_mtime_ms: number;
  tensor_count: number;
  module_count: number;
  notes: string[];
}

export function describeOpened(adapter: LoraAdapter): AdapterDescription {
  const ranks: Record<string, number> = {};
  const alphas: Record<string, number> = {};
  const short = new Set<string>();
  for (const m of [...adapter.modules.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    ranks[m.name] = m.rank;
    alphas[m.name] = m.alpha;
    short.add(shortModuleName(m.name, adapter.format));
  }
  const rankList = Object.values(ranks);
  const stat = adapter.file.pinned ? { weights_size: adapter.file.pinned.size, weights_mtime_ms: adapter.file.pinned.mtimeMs } : weightsStat(adapter.weightsFile);
  return {
    format: adapter.format,
    base: adapter.base,
    rank: mostCommon(rankList),
    ranks,
    alpha: mostCommon(Object.values(alphas)),
    alphas,
    target_modules: [...short].sort(),
    dtype: widestFloatDType([...adapter.modules.values()].map((m) => m.dtype)),
    rslora: adapter.rslora,
    modules_to_save: [...new Set(adapter.extras.filter((e) => e.kind === 'modules_to_save').map((e) => e.name))].sort(),
    token_embeddings: adapter.extras.filter((e) => e.kind === 'token-embedding').map((e) => e.name).sort(),
    weights_file: adapter.weightsFile,
    // stat before hashing: a write during the hash changes the mtime, so `check` hashes again
    ...stat,
    sha256: adapter.file.pinned?.sha256 ?? sha256FileSync(adapter.weightsFile),
    tensor_count: adapter.file.tensors.size,
    module_count: adapter.modules.size,
    notes: adapter.notes,
  };
}

function weightsStat(file: string): { weights_size: number; weights_mtime_ms: number } {
  const st = fs.statSync(file);
  return { weights_size: st.size, weights_mtime_ms: st.mtimeMs };
}

/** The facts of an adapter; its sha256 is of the bytes its header was parsed from (one pinned pass). */
export function describeAdapter(adapterPath: string): AdapterDescription {
  const adapter = openAdapter(adapterPath, { pin: true });
  try {
    return describeOpened(adapter);
  } finally {
    adapter.file.close();
  }
}

/**
 * `library add` refuses weights that are not finite (NaN, ±Infinity) up front, naming the tensor:
 * compose would refuse them later anyway, after the adapter had been retrieved and weighed. Reads
 * every factor and full tensor once (the add hashes the whole file too).
 */
export function checkFiniteWeights(adapterPath: string): void {
  const adapter = openAdapter(adapterPath);
  const keys = [...[...adapter.modules.values()].flatMap((m) => [m.aKey, m.bKey]), ...adapter.extras.map((e) => e.key)];
  for (const key of keys) {
    const info = adapter.file.info(key);
    if (!isFloatDType(info.dtype)) continue;
    const at = firstNonFiniteEncoded(adapter.file.readBytes(key), info.dtype);
    if (at >= 0) {
      const value = decodeToFloat64(adapter.file.readBytes(key).subarray(at * DTYPE_SIZES[info.dtype], (at + 1) * DTYPE_SIZES[info.dtype]), info.dtype, 1)[0];
      throw new ComposerError('non-finite', `tensor "${key}" has ${value} at element ${at}: the adapter's weights must be finite numbers`, { file: adapter.file.path },
        'the adapter file is corrupt or was trained into overflow; re-export it');
    }
  }
}
