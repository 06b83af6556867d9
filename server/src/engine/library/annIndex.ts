/**
 * The approximate-nearest-neighbour index on the prototype column, for large libraries.
 *
 * Below 50k adapters brute force (LanceDB's flat scan) is exact and fast enough, so no index is
 * built. From 50k, IVF_FLAT: it keeps full float32 vectors, so only the partitions probed limit
 * recall (100k × 768: recall@10 1.000 probing 10 of 316). From 400k, IVF_RQ: at 1M × 768 IVF_FLAT's
 * index is 2.9 GB, a query touches a few MB of it per partition probed, and the process grew to
 * 4.3 GB over 100 queries (p95 89–537 ms while its pages were read in); IVF_RQ's 1-bit codes are
 * 110 MB, built in 418 s instead of 546 s, and re-ranked ×40 by the full vectors give recall@10
 * 0.997 at p50 36 ms / p95 62 ms (bench/libraryIndex.ts; docs/benchmarks.md#library-at-1m). HNSW_SQ
 * and IVF_PQ were measured at 100k only (build 204 s and 540 s, IVF_PQ recall 0.715).
 */
import type * as lancedb from '@lancedb/lancedb';
import { loadLancedb } from '../nativeModules';
import { ComposerError } from '../errors';

export const ANN_INDEX_KINDS = ['ivf_flat', 'ivf_rq', 'hnsw_sq', 'ivf_pq'] as const;
export type AnnIndexKind = (typeof ANN_INDEX_KINDS)[number];

export const DEFAULT_INDEX_MIN_ROWS = 50_000;
/** From this many rows the automatic index is IVF_RQ instead of IVF_FLAT (bench/libraryIndex.ts). */
export const RQ_INDEX_MIN_ROWS = 400_000;

export interface AnnIndexReport {
  indexed: boolean;
  kind?: AnnIndexKind;
  rows: number;
  /** What was done and why, for the user. */
  message: string;
}

export interface IndexBuildOptions {
  minRows?: number;
  kind?: AnnIndexKind;
  /** Build even below minRows; rebuild even if an index exists. */
  force?: boolean;
  /** Override the number of IVF partitions (default ≈ √rows). */
  numPartitions?: number;
}

export interface IndexChoice {
  kind: AnnIndexKind;
  numPartitions: number;
}

/** IVF partitions for `rows` prototypes: √rows (LanceDB's own default), at least 1. */
export function partitionsFor(rows: number): number {
  return Math.max(1, Math.round(Math.sqrt(rows)));
}

/**
 * The index built when none is asked for by kind. IVF_FLAT keeps float32 vectors, so only the
 * partitions probed limit recall, but every probed row is a full 768-float distance and every probed
 * partition a few MB in LanceDB's index cache; at 1M rows that put the query at 482 ms p50. IVF_RQ
 * keeps a 1-bit-per-dimension code per row (RaBitQ, ~1/32 of the vector), scans the codes and
 * re-ranks refineFactor × limit candidates by their full vectors: the same recall for a fraction of
 * the scan and of the memory. Below RQ_INDEX_MIN_ROWS IVF_FLAT is already fast and builds quicker.
 */
export function automaticIndex(rows: number): IndexChoice {
  return { kind: rows >= RQ_INDEX_MIN_ROWS ? 'ivf_rq' : 'ivf_flat', numPartitions: partitionsFor(rows) };
}

/**
 * The index's name records its kind and partition count (LanceDB's index statistics report neither
 * partitions nor parameters, and the query parameters depend on them): `prototype_ivf_rq_p1000`.
 */
export function indexName(kind: AnnIndexKind, numPartitions: number): string {
  return `prototype_${kind}_p${numPartitions}`;
}

/** Partitions recorded in an index name made by indexName; undefined for other names. */
export function partitionsOfIndexName(name: string): number | undefined {
  const m = /^prototype_[a-z_]+_p(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function indexConfig(kind: AnnIndexKind, dim: number, partitions: number): lancedb.Index {
  const lancedb = loadLancedb();
  switch (kind) {
    case 'ivf_rq':
      return lancedb.Index.ivfRq({ distanceType: 'l2', numPartitions: partitions });
    case 'ivf_flat':
      return lancedb.Index.ivfFlat({ distanceType: 'l2', numPartitions: partitions });
    case 'hnsw_sq':
      return lancedb.Index.hnswSq({ distanceType: 'l2', numPartitions: partitions });
    case 'ivf_pq': {
      // Sub-vectors of 16 values when the dimension allows; PQ needs dim divisible by them.
      let sub = Math.max(1, Math.floor(dim / 16));
      while (dim % sub !== 0) sub--;
      return lancedb.Index.ivfPq({ distanceType: 'l2', numPartitions: partitions, numSubVectors: sub });
    }
  }
}

/**
 * A BITMAP index on `base`: every plan's k-NN is prefiltered by base, and without a scalar index
 * LanceDB evaluates the filter over every row per query (1M × 768, IVF_RQ: filtered p50 97–106 ms
 * without it, 42–48 ms with it, unfiltered 40–47 ms; built in 0.5 s). optimize() keeps it current.
 */
export const BASE_INDEX_NAME = 'base_idx';
async function ensureBaseIndex(table: lancedb.Table): Promise<void> {
  const indices = await table.listIndices();
  if (indices.some((i) => i.columns.length === 1 && i.columns[0] === 'base')) return;
  await table.createIndex('base', { config: loadLancedb().Index.bitmap(), replace: true, name: BASE_INDEX_NAME });
}

async function prototypeIndex(table: lancedb.Table): Promise<lancedb.IndexConfig | undefined> {
  const indices = await table.listIndices();
  return indices.find((i) => i.columns.includes('prototype'));
}

export async function ensureAnnIndex(table: lancedb.Table, options: IndexBuildOptions = {}): Promise<AnnIndexReport> {
  const minRows = options.minRows ?? DEFAULT_INDEX_MIN_ROWS;
  if (options.kind !== undefined && !(ANN_INDEX_KINDS as readonly string[]).includes(options.kind)) {
    throw new ComposerError('usage', `unknown index kind '${options.kind}'`, undefined, `kinds: ${ANN_INDEX_KINDS.join(', ')} (leave it out for the automatic choice)`);
  }
  const rows = await table.countRows();
  const existing = await prototypeIndex(table);
  if (existing && !options.force) {
    const stats = await table.indexStats(existing.name);
    const unindexed = stats?.numUnindexedRows ?? 0;
    if (unindexed > 0) {
      // New rows are searched by flat scan until folded into the index; optimize() folds them in.
      await table.optimize();
      await ensureBaseIndex(table);
      return { indexed: true, rows, message: `index ${existing.indexType} on ${rows} adapters: added ${unindexed} new rows to it` };
    }
    // A library indexed before the base index existed gets it here; a read-only store keeps working without it.
    const note = await ensureBaseIndex(table).then(() => '', (e: unknown) => `; no BITMAP index on base (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): base-filtered searches scan the column`);
    return { indexed: true, rows, message: `index ${existing.indexType} on ${rows} adapters is up to date${note}` };
  }
  if (rows < minRows && !options.force) {
    return { indexed: false, rows, message: `${rows} adapters: exact (brute-force) search is fast below ${minRows}; no index built` };
  }
  const schema = await table.schema();
  const field = schema.fields.find((f) => f.name === 'prototype');
  const dim = (field?.type as { listSize?: number } | undefined)?.listSize ?? 0;
  const automatic = automaticIndex(rows);
  const kind = options.kind ?? automatic.kind;
  // HNSW partitions are sub-graphs, not IVF cells: one unless asked.
  const partitions = options.numPartitions ?? (kind === 'hnsw_sq' ? 1 : automatic.numPartitions);
  if (existing) await table.dropIndex(existing.name);
  await table.createIndex('prototype', { config: indexConfig(kind, dim, partitions), replace: true, name: indexName(kind, partitions) });
  await ensureBaseIndex(table);
  return { indexed: true, kind, rows, message: `built a ${kind.toUpperCase()} index (${partitions} partitions) on ${rows} adapters` };
}

export interface SearchTuning {
  nprobes?: number;
  ef?: number;
  refineFactor?: number;
}

/**
 * Query parameters for an index of LanceDB type `indexType` with `partitions` IVF partitions, chosen
 * from bench/libraryIndex.ts (recall@10 against brute force, 1M × 768): enough partitions probed for
 * recall@10 ≥ 0.99; quantized codes (RQ, PQ, SQ) re-ranked by the full vectors.
 */
export function tuningFor(indexType: string, partitions: number): SearchTuning {
  const type = indexType.toUpperCase();
  const nprobes = Math.min(partitions, Math.max(20, Math.ceil(partitions * 0.02)));
  if (type.includes('HNSW')) return { ef: 200, refineFactor: 4 };
  // 1-bit codes rank coarsely: at 1M × 768, 20 of 1000 partitions, recall@10 was 0.937 re-ranking
  // ×10, 0.975 ×20, 0.997 ×40, 1.000 ×80 (p50 27 / 28 / 36 / 62 ms); the probes hardly matter there.
  if (type.includes('RQ')) return { nprobes, refineFactor: 40 };
  if (type.includes('PQ')) return { nprobes, refineFactor: 10 };
  return { nprobes };
}

/** Query parameters for the index present (none without one); `rows` estimates partitions for indexes of other names. */
export async function searchTuning(table: lancedb.Table, rows: number): Promise<SearchTuning> {
  const index = await prototypeIndex(table);
  if (!index) return {};
  return tuningFor(index.indexType, partitionsOfIndexName(index.name) ?? partitionsFor(rows));
}
