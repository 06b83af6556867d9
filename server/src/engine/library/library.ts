/**
 * The adapter library: an embedded LanceDB database (a local folder or an object-store URI such as
 * s3://bucket/lib) holding one row per adapter and one row of metadata saying which encoder made
 * the prototypes. `Library` is the one gate to the tables: every caller opens a library here and
 * reads, writes and searches through it. The parts live beside it, one concern per file:
 *
 *   connection.ts  where the library is, storage options, the LanceDB session, opening the tables
 *   create.ts      `library init`: a new library's tables and files
 *   rowCodec.ts    rows ↔ records (columns read, adapter paths relative to the library folder)
 *   writes.ts      add / replace / remove rows: validated first, one commit under the write lock
 *   search.ts      the k-NN search (prefilter, float64 re-rank, order at equal distance)
 *   schema.ts, whereFilter.ts, annIndex.ts, integrity.ts, verify.ts: tables, filters, index, checks
 */
import * as path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import type { AdapterRecord, EncoderInfo } from '../types';
import { ADAPTER_COLUMNS, encoderInfo, type MetaRow, sqlString } from './schema';
import { tableOf } from '../nameTable';
import { canonicalWhere } from './whereFilter';
import { ensureAnnIndex, AnnIndexReport, IndexBuildOptions } from './annIndex';
import { isRemoteUri } from '../location';
import { openTables, type OpenOptions } from './connection';
import { createLibrary, type InitOptions } from './create';
import { libraryError, runQuery } from './libraryErrors';
import { RowCodec } from './rowCodec';
import { searchNearest, type SearchHit, type SearchOptions } from './search';
import { addRecords, removeRecord } from './writes';

export { isRemoteUri };
export { storageOptionsFromEnv } from './connection';
export type { OpenOptions } from './connection';
export { LIBRARY_ENCODER_FILE } from './create';
export type { InitOptions } from './create';
export type { SearchHit, SearchOptions } from './search';
export { LIBRARY_WRITE_LOCK } from './writes';

export interface LibraryInfo {
  uri: string;
  encoder: EncoderInfo;
  /** Original file name of the encoder. */
  encoderName?: string;
  dim: number;
  /** Number of adapters. */
  size: number;
  /** LanceDB version of the adapters table: changes with every write (use it to invalidate caches). */
  version: number;
  formatVersion: number;
  createdAt: string;
  /** The ANN index on the prototypes, when there is one. */
  index?: { type: string; indexedRows: number; unindexedRows: number };
  /** float64: prototypes kept as given; float32: an older library without the prototype64 column. */
  prototypePrecision: 'float64' | 'float32';
}

/** Creates a library. Refuses an existing one. */
export async function initLibrary(uri: string, options: InitOptions = {}): Promise<Library> {
  await createLibrary(uri, options);
  return openLibrary(uri, { storageOptions: options.storageOptions });
}

export async function openLibrary(uri: string, options: OpenOptions = {}): Promise<Library> {
  const { folder, db, table, meta, exactPrototypes } = await openTables(uri, options);
  return new Library(uri, folder, db, table, meta, exactPrototypes);
}

/** Opens the library at `uri` for one use and closes it after, whatever `use` does (returns or throws). */
export async function withLibrary<T>(uri: string, use: (library: Library) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const library = await openLibrary(uri, options);
  try {
    return await use(library);
  } finally {
    library.close();
  }
}

export class Library {
  /** How this library's rows read and write (columns, stored adapter paths). */
  private readonly rows: RowCodec;

  /** @internal use openLibrary / initLibrary */
  constructor(
    readonly uri: string,
    /** The library folder, for a local library. */
    readonly folder: string | undefined,
    private readonly db: lancedb.Connection,
    private readonly table: lancedb.Table,
    private readonly meta: MetaRow,
    /** The table keeps each prototype in float64 (prototype64); older libraries only in float32. */
    readonly exactPrototypes = true,
  ) {
    this.rows = new RowCodec(folder, exactPrototypes);
  }

  /** The table and its row codec, as the search and the writes take them. */
  private get parts(): { uri: string; folder: string | undefined; dim: number; table: lancedb.Table; rows: RowCodec } {
    return { uri: this.uri, folder: this.folder, dim: this.meta.dim, table: this.table, rows: this.rows };
  }

  get dim(): number {
    return this.meta.dim;
  }

  get encoder(): EncoderInfo {
    return encoderInfo(this.meta);
  }

  /** The encoder file to compute new prototypes with: inside the folder for a local library. */
  encoderFile(): string | undefined {
    const p = this.meta.encoder_path;
    if (!p) return undefined;
    return this.folder && !path.isAbsolute(p) ? path.join(this.folder, p) : p;
  }

  async version(): Promise<number> {
    return this.table.version();
  }

  async size(): Promise<number> {
    return this.table.countRows();
  }

  /**
   * `indexStats: false` leaves out `index` (how many rows the ANN index covers): LanceDB loads the
   * index to count them, ~0.1–0.2 s on a 100k library, and a plan does not need them.
   */
  async info(options: { indexStats?: boolean } = {}): Promise<LibraryInfo> {
    const [size, version, indices] = await Promise.all([this.table.countRows(), this.table.version(), options.indexStats === false ? [] : this.table.listIndices()]);
    const info: LibraryInfo = {
      uri: this.uri,
      encoder: this.encoder,
      dim: this.meta.dim,
      size,
      version,
      formatVersion: this.meta.format_version,
      createdAt: this.meta.created_at,
      prototypePrecision: this.exactPrototypes ? 'float64' : 'float32',
    };
    if (this.meta.encoder_name) info.encoderName = this.meta.encoder_name;
    const vectorIndex = indices.find((i) => i.columns.includes('prototype'));
    if (vectorIndex) {
      const stats = await this.table.indexStats(vectorIndex.name);
      info.index = { type: vectorIndex.indexType, indexedRows: stats?.numIndexedRows ?? 0, unindexedRows: stats?.numUnindexedRows ?? 0 };
    }
    return info;
  }

  /**
   * Refuses a prototype made by another encoder: pass the sha256 of the encoder that computed it.
   * Libraries made with --dim (no encoder) accept any prototype of the right dimension.
   */
  checkEncoder(encoderSha256: string | undefined, what = 'the prototype'): void {
    const ours = this.meta.encoder_sha256;
    if (ours && encoderSha256 && encoderSha256 !== ours) {
      throw libraryError(`${what} was computed with another encoder (sha256 ${encoderSha256.slice(0, 12)}…) than this library's (${ours.slice(0, 12)}…${this.meta.encoder_name ? `, ${this.meta.encoder_name}` : ''})`,
        'prototypes are only comparable when made by the same encoder; use the library\'s encoder (`library info` shows where it is)');
    }
  }

  /** Adds adapters in one commit, after checking all of them; nothing is written if any is refused. */
  async add(records: AdapterRecord | AdapterRecord[], options: { encoderSha256?: string; /** Replace rows of the same names (library add --replace, verify --fix). */ replace?: boolean } = {}): Promise<{ version: number }> {
    const list = Array.isArray(records) ? records : [records];
    if (list.length === 0) return { version: await this.version() };
    this.checkEncoder(options.encoderSha256);
    return addRecords(this.parts, list, options);
  }

  async list(options: { prototypes?: boolean; where?: string } = {}): Promise<AdapterRecord[]> {
    const withPrototypes = options.prototypes ?? true;
    let q = this.table.query().select(this.rows.columns(withPrototypes));
    // A user filter reaches LanceDB only as the canonical SQL of its parse (see whereFilter.ts).
    if (options.where) q = q.where(canonicalWhere(options.where));
    const rows = await runQuery(this.uri, () => q.toArray(), options.where);
    return rows.map((r) => this.rows.record(r)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The rows of these names (those that exist), in one query per 500 names. */
  async getMany(names: string[], options: { prototypes?: boolean } = {}): Promise<AdapterRecord[]> {
    const columns = this.rows.columns(options.prototypes !== false);
    const unique = [...new Set(names)];
    const out: AdapterRecord[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      const chunk = unique.slice(i, i + 500);
      const rows = await this.table.query().where(`name IN (${chunk.map(sqlString).join(', ')})`).select([...columns]).toArray();
      for (const r of rows) out.push(this.rows.record(r));
    }
    return out;
  }

  async get(name: string): Promise<AdapterRecord | undefined> {
    const rows = await this.table.query().where(`name = ${sqlString(name)}`).select(this.rows.columns()).limit(1).toArray();
    return rows.length > 0 ? this.rows.record(rows[0]) : undefined;
  }

  /**
   * One page of rows in storage order (stable for one table version), optionally of one base and one
   * tag, without prototypes unless asked: what a lazily drawn tree reads, never the whole table.
   */
  async page(options: { base?: string; tag?: string; offset: number; limit: number; prototypes?: boolean }): Promise<AdapterRecord[]> {
    const columns = ADAPTER_COLUMNS.filter((c) => options.prototypes === true || c !== 'prototype');
    const filters: string[] = [];
    if (options.base !== undefined) filters.push(`base = ${sqlString(options.base)}`);
    if (options.tag !== undefined) filters.push(`array_has(tags, ${sqlString(options.tag)})`);
    let q = this.table.query().select([...columns]);
    if (filters.length) q = q.where(filters.join(' AND '));
    q = q.offset(Math.max(0, Math.floor(options.offset))).limit(Math.max(1, Math.floor(options.limit)));
    const rows = await runQuery(this.uri, () => q.toArray(), undefined);
    return rows.map((r) => this.rows.record(r));
  }

  /** Rows of one base (or all) matching a filter: how many (a count query, no rows read). */
  async count(options: { base?: string; tag?: string } = {}): Promise<number> {
    const filters: string[] = [];
    if (options.base !== undefined) filters.push(`base = ${sqlString(options.base)}`);
    if (options.tag !== undefined) filters.push(`array_has(tags, ${sqlString(options.tag)})`);
    return this.table.countRows(filters.length ? filters.join(' AND ') : undefined);
  }

  /** Adapters per base and, within each, per tag: reads only the `base` and `tags` columns. */
  async groups(): Promise<{ base: string; count: number; tags: Record<string, number> }[]> {
    // Column by column from Arrow: row objects (toArray) cost ~7× more on a 100k-row table.
    const table = await runQuery(this.uri, () => this.table.query().select(['base', 'tags']).toArrow(), undefined);
    const byBase = new Map<string, { count: number; tags: Map<string, number> }>();
    for (const batch of table.batches) {
      const bases = batch.getChild('base');
      const tagLists = batch.getChild('tags');
      for (let i = 0; i < batch.numRows; i++) {
        const base = String(bases?.get(i));
        let g = byBase.get(base);
        if (!g) byBase.set(base, (g = { count: 0, tags: new Map() }));
        g.count++;
        const tags = tagLists?.get(i) as { length: number; get(j: number): unknown } | null | undefined;
        for (let j = 0; tags && j < tags.length; j++) {
          const t = String(tags.get(j));
          g.tags.set(t, (g.tags.get(t) ?? 0) + 1);
        }
      }
    }
    return [...byBase.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([base, g]) => ({
      base,
      count: g.count,
      tags: tableOf([...g.tags.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    }));
  }

  /** Removes one adapter; refuses an unknown name. */
  async remove(name: string): Promise<{ version: number }> {
    return removeRecord(this.parts, name);
  }

  /**
   * The k adapters whose prototypes are nearest the target (squared L2), among those that pass the
   * filters (applied before the k-NN); sorted by distance, then name. See search.ts.
   */
  async search(target: Float32Array | Float64Array | number[], options: SearchOptions): Promise<SearchHit[]> {
    return searchNearest(this.parts, target, options);
  }

  /**
   * Builds (or refreshes) an ANN index on the prototypes once the library is large enough for
   * brute force to be slow; below `minRows` it does nothing and says so.
   */
  async ensureIndex(options: IndexBuildOptions = {}): Promise<AnnIndexReport> {
    return ensureAnnIndex(this.table, options);
  }

  close(): void {
    this.table.close();
    this.db.close();
  }
}
