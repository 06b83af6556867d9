/**
 * The library's k-NN search: the k adapters whose prototypes are nearest a target (squared L2), with
 * base / where / exclude applied before the k-NN (prefilter), re-ranked in float64, and a stable order
 * at equal distance (then by name) — widening the fetched window until ties at the cut are all seen.
 */
import type * as lancedb from '@lancedb/lancedb';
import { ComposerError } from '../errors';
import type { AdapterRecord, Candidate } from '../types';
import { baseSpellings } from './baseModels';
import { sqlString } from './schema';
import { canonicalWhere } from './whereFilter';
import { searchTuning, type SearchTuning } from './annIndex';
import { libraryError, runQuery } from './libraryErrors';
import type { RowCodec } from './rowCodec';

export interface SearchOptions {
  k: number;
  /** Only adapters trained on this base model. */
  base?: string;
  /** A user SQL filter over the adapter columns, e.g. "rank <= 16 AND array_has(tags, 'math')". */
  where?: string;
  /** Adapter names to leave out. */
  exclude?: string[];
  /** The index's query parameters instead of the automatic ones (benches measuring them). */
  tuning?: SearchTuning;
}

/** A retrieved adapter: its name, its squared L2 distance to the target, and its row. */
export interface SearchHit extends Candidate {
  record: AdapterRecord;
  /** The distance as LanceDB computed it (float32); `distance` is recomputed in float64. */
  indexDistance: number;
}

/** What a search reads: the library's adapters table, how its rows read, its prototype dimension, its URI (for messages). */
export interface SearchedTable {
  uri: string;
  dim: number;
  table: lancedb.Table;
  rows: RowCodec;
}

/**
 * The k adapters whose prototypes are nearest the target (squared L2), among those that pass the
 * filters. base / where / exclude are applied BEFORE the k-NN (prefilter), so k results come back
 * whenever k adapters pass. Sorted by distance, then name.
 */
export async function searchNearest(library: SearchedTable, target: Float32Array | Float64Array | number[], options: SearchOptions): Promise<SearchHit[]> {
  const { k } = options;
  if (!Number.isInteger(k) || k < 1) throw new ComposerError('usage', `k must be a positive integer, got ${k}`);
  if (target.length !== library.dim) {
    throw new ComposerError('dimension', `the target prototype has dimension ${target.length} but the library's prototypes have ${library.dim}`, undefined,
      'compute the target with the library\'s encoder');
  }
  for (let i = 0; i < target.length; i++) {
    if (!Number.isFinite(target[i])) throw new ComposerError('non-finite', `the target prototype has ${target[i]} at index ${i}`);
  }
  const size = await library.table.countRows();
  if (size === 0) throw libraryError(`the library at ${library.uri} is empty`, 'add adapters with `adapter-composer library add`');

  // The user's filter is parsed, bounded and rebuilt (self-contained, fully parenthesised) before it
  // is combined with base and exclude, so it can neither escape them nor crash LanceDB.
  const userWhere = options.where && options.where.trim() ? canonicalWhere(options.where) : undefined;
  const filters: string[] = [];
  if (options.base !== undefined) filters.push(`base IN (${baseSpellings(options.base).map(sqlString).join(', ')})`);
  if (userWhere) filters.push(userWhere);
  if (options.exclude && options.exclude.length > 0) filters.push(`name NOT IN (${options.exclude.map(sqlString).join(', ')})`);

  const query32 = Float32Array.from(target);
  // k beyond the size means every row; an enormous k must not reach LanceDB (it overflows there)
  // The index ranks in float32; fetch a margin more and re-rank by the float64 prototypes, so near
  // ties that float32 rounding reorders (prototypes far from the origin) still give the exact k nearest.
  // Ties at the cut: when every fetched row is as near as the k-th (to float32 rounding), rows beyond
  // the window may tie with it too, and which of them LanceDB returns is its own order. Widen the
  // window until the farthest fetched row is strictly farther than the k-th, or every row is fetched,
  // so the k returned are always the first k by (distance, name).
  const tuning = options.tuning ?? await searchTuning(library.table, size);
  let fetch = Math.min(size, k + Math.max(8, k));
  let hits: SearchHit[];
  for (;;) {
    hits = await fetchNearest(library, target, query32, fetch, filters, tuning, options.where);
    if (hits.length < fetch || fetch >= size) break;
    const sorted = [...hits].sort((a, b) => a.indexDistance - b.indexDistance);
    const cut = sorted[Math.min(k, sorted.length) - 1].indexDistance;
    const farthest = sorted[sorted.length - 1].indexDistance;
    if (farthest > cut + 1e-5 * Math.max(1, Math.abs(cut))) break;
    fetch = Math.min(size, fetch * 2);
  }
  // Belt and braces: whatever the filter did, every hit must be of the base and not excluded.
  const excluded = new Set(options.exclude ?? []);
  const bases = options.base === undefined ? undefined : new Set(baseSpellings(options.base));
  for (const h of hits) {
    if (bases !== undefined && !bases.has(h.record.base)) {
      throw libraryError(`retrieval returned \`${h.name}\` of base \`${h.record.base}\`, not \`${options.base}\`; refusing the result`);
    }
    if (excluded.has(h.name)) throw libraryError(`retrieval returned the excluded adapter \`${h.name}\`; refusing the result`);
  }
  return hits.sort((a, b) => a.distance - b.distance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, k);
}

/** One LanceDB query of the `fetch` nearest under the filters, each hit with its exact float64 distance. */
async function fetchNearest(library: SearchedTable, target: ArrayLike<number>, query32: Float32Array, fetch: number, filters: string[], tuning: SearchTuning, userWhere: string | undefined): Promise<SearchHit[]> {
  let q = library.table.vectorSearch(query32).column('prototype').distanceType('l2').limit(fetch).select([...library.rows.columns(), '_distance']);
  if (filters.length > 0) q = q.where(filters.join(' AND '));
  if (tuning.nprobes) q = q.nprobes(tuning.nprobes);
  if (tuning.ef) q = q.ef(tuning.ef);
  if (tuning.refineFactor) q = q.refineFactor(tuning.refineFactor);
  const rows = await runQuery(library.uri, () => q.toArray(), userWhere);
  return rows.map((row) => {
    const record = library.rows.record(row);
    let distance = 0;
    for (let i = 0; i < record.prototype.length; i++) {
      const d = target[i] - record.prototype[i];
      distance += d * d;
    }
    return { name: record.name, distance, indexDistance: Number((row as { _distance: unknown })._distance), record };
  });
}
