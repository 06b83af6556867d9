/**
 * The adapter library: an embedded LanceDB database (a local folder or an object-store URI such as
 * s3://bucket/lib) holding one row per adapter and one row of metadata saying which encoder made
 * the prototypes.
 *
 * Every write is validated in full before LanceDB is called, and each LanceDB write is one atomic
 * commit, so a refused or failed add leaves the table as it was. Readers open with
 * readConsistencyInterval 0 by default, so they see rows another process has just added.
 *
 * Size (~580 lines): the Library class is the one gate to the tables (validation, write lock,
 * commits, reads); the schemas, search filters, integrity and ANN index already live apart
 * (schema.ts, whereFilter.ts, integrity.ts, annIndex.ts). Splitting the class further is open.
 */
import { baseSpellings } from './baseModels';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import { loadLancedb } from '../nativeModules';
import { ComposerError } from '../errors';
import type { AdapterRecord, Candidate, EncoderInfo } from '../types';
import { openEncoder } from '../prototype/encoder';
import { sha256FileSync } from '../prototype/contentHash';
import { copyEncoderConfigInto, encoderConfigBeside, ENCODER_CONFIG_FILE, readEncoderConfig, type EncoderConfig } from '../prototype/encoderConfig';
import {
  ADAPTER_COLUMNS,
  ADAPTERS_TABLE,
  adaptersSchema,
  encoderInfo,
  LIBRARY_FORMAT_VERSION,
  META_TABLE,
  MetaRow,
  metaSchema,
  PROTOTYPE64,
  recordFromRow,
  rowFromRecord,
  sqlString,
  validateRecord,
} from './schema';
import { withLockFile } from '../singleWriter';
import { tableOf } from '../nameTable';
import { canonicalWhere } from './whereFilter';
import { ensureAnnIndex, AnnIndexReport, IndexBuildOptions, searchTuning, SearchTuning } from './annIndex';
import { isRemoteUri, localPath as localPathOf } from '../location';

/** The file name an encoder gets when it is copied into a local library folder. */
export const LIBRARY_ENCODER_FILE = 'encoder.onnx';
/** Held (O_EXCL, with the writer's pid) while an add checks names and commits. */
export const LIBRARY_WRITE_LOCK = '.adapter-composer-write.lock';

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

export interface InitOptions {
  /** The ONNX encoder that makes (made) the prototypes. Copied into a local library folder. */
  encoderPath?: string;
  /** The prototype dimension; required without an encoder, checked against it with one. */
  dim?: number;
  /**
   * The encoder's input config (encoder.json: image/text preprocessing, pooling). Default: the
   * encoder.json beside the encoder, if any. Copied into a local library folder as encoder.json
   * (with its tokenizer.json); a remote library reads it beside the encoder file.
   */
  encoderConfigPath?: string;
  /** Object-store settings for a remote library (see OpenOptions.storageOptions). */
  storageOptions?: Record<string, string>;
}

export interface OpenOptions {
  /** Seconds between checks for other writers' commits; 0 (default) checks on every read. */
  readConsistency?: number;
  /** Object-store settings for a remote library (LanceDB storageOptions); default: storageOptionsFromEnv(). */
  storageOptions?: Record<string, string>;
}

/**
 * Object-store settings from the environment: the JSON object in ADAPTER_COMPOSER_STORAGE_OPTIONS
 * (e.g. {"aws_endpoint": "http://127.0.0.1:9000", "allow_http": "true"}), plus AWS_ENDPOINT_URL as
 * aws_endpoint. LanceDB itself also reads AWS_*, GOOGLE_*, AZURE_* credentials from the environment.
 */
export function storageOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.AWS_ENDPOINT_URL && !env.AWS_ENDPOINT) out.aws_endpoint = env.AWS_ENDPOINT_URL;
  const json = env.ADAPTER_COMPOSER_STORAGE_OPTIONS;
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new ComposerError('usage', `ADAPTER_COMPOSER_STORAGE_OPTIONS is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ComposerError('usage', 'ADAPTER_COMPOSER_STORAGE_OPTIONS must be a JSON object of strings');
    for (const [k, v] of Object.entries(parsed)) out[k] = String(v);
  }
  return out;
}

function connectOptions(remote: boolean, storageOptions: Record<string, string> | undefined): { storageOptions?: Record<string, string> } {
  if (!remote) return {};
  const options = storageOptions ?? storageOptionsFromEnv();
  return Object.keys(options).length > 0 ? { storageOptions: options } : {};
}

/**
 * One LanceDB session per process with bounded caches: the defaults (6 GB index, 1 GB metadata) are
 * sized for servers; an editor's language server must stay small. 128 MB holds the IVF partitions
 * of a 100k × 768 library.
 */
let session: lancedb.Session | undefined;
function librarySession(): lancedb.Session {
  session ??= new (loadLancedb().Session)(BigInt(128 << 20), BigInt(32 << 20));
  return session;
}

export { isRemoteUri };

/** A local library location (path or file:// URI) as an absolute folder, relative to the current folder. */
function localPath(uri: string): string {
  return localPathOf(uri, process.cwd()) ?? uri;
}

function libraryError(message: string, hint?: string, file?: string): ComposerError {
  return new ComposerError('library', message, file ? { file } : undefined, hint);
}

function noLibrary(uri: string): ComposerError {
  return libraryError(`no library at ${uri}`, `run \`adapter-composer library init ${uri} --encoder ENCODER.onnx\` (or --dim D) first`);
}

function lanceMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // LanceDB appends source locations of its Rust code; keep what the user can act on.
  return m.replace(/,?\s*\/[^\s]*\.rs:\d+:\d+.*$/s, '').replace(/^Failed to execute query stream: GenericFailure, /, '').trim();
}

/** Creates a library. Refuses an existing one. */
export async function initLibrary(uri: string, options: InitOptions = {}): Promise<Library> {
  const remote = isRemoteUri(uri);
  const dir = remote ? uri : localPath(uri);
  let dim = options.dim;
  let encoderSha: string | null = null;
  let encoderPathRecorded: string | null = null;
  let encoderName: string | null = null;
  let encoderConfig: EncoderConfig | undefined;

  if (options.encoderConfigPath && !options.encoderPath) throw new ComposerError('usage', 'an encoder config needs its encoder (--encoder model.onnx)');
  if (options.encoderPath) {
    const encoderFile = path.resolve(options.encoderPath);
    if (!fs.existsSync(encoderFile)) throw new ComposerError('encoder', `encoder file not found: ${options.encoderPath}`, { file: options.encoderPath });
    encoderSha = sha256FileSync(encoderFile);
    encoderName = path.basename(encoderFile);
    const besideEncoder = encoderConfigBeside(encoderFile);
    const configFile = options.encoderConfigPath ? path.resolve(options.encoderConfigPath) : besideEncoder;
    if (remote && configFile && configFile !== besideEncoder) {
      throw libraryError(`a remote library reads the encoder config beside the encoder file (${path.join(path.dirname(encoderFile), ENCODER_CONFIG_FILE)})`,
        `copy ${options.encoderConfigPath} there as ${ENCODER_CONFIG_FILE}`, options.encoderConfigPath);
    }
    encoderConfig = configFile ? readEncoderConfig(configFile) : undefined;
    const encoder = await openEncoder(encoderFile, { provider: 'cpu', config: encoderConfig ?? null });
    let encoderDim: number;
    try {
      encoderDim = await encoder.outputDim();
    } finally {
      await encoder.dispose();
    }
    if (dim !== undefined && dim !== encoderDim) {
      throw libraryError(`--dim ${dim} does not match the encoder's output dimension ${encoderDim}`, 'leave out --dim: it is read from the encoder', options.encoderPath);
    }
    dim = encoderDim;
    encoderPathRecorded = remote ? encoderFile : LIBRARY_ENCODER_FILE;
  }
  if (dim === undefined) throw new ComposerError('usage', 'a new library needs an encoder (--encoder FILE.onnx) or a prototype dimension (--dim D)');
  if (!Number.isInteger(dim) || dim < 1) throw new ComposerError('usage', `the prototype dimension must be a positive integer, got ${dim}`);

  if (!remote && fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw libraryError(`${dir} exists and is not a folder`);
  if (options.encoderPath && !remote) {
    // init copies the encoder in as encoder.onnx: never over a different file of the user's
    const target = path.join(dir, LIBRARY_ENCODER_FILE);
    if (fs.existsSync(target) && path.resolve(options.encoderPath) !== path.resolve(target) && sha256FileSync(target) !== sha256FileSync(path.resolve(options.encoderPath))) {
      throw libraryError(`${target} exists and is a different file; library init would overwrite it`, 'choose an empty folder for the library, or move that file away', target);
    }
  }
  const db = await loadLancedb().connect(dir, connectOptions(remote, options.storageOptions));
  try {
    const names = await db.tableNames();
    if (names.includes(META_TABLE)) throw libraryError(`a library already exists at ${uri}`, 'open it, or choose another folder');
    if (names.includes(ADAPTERS_TABLE)) {
      // An init that stopped before writing its metadata: only an empty table may be replaced.
      const existing = await db.openTable(ADAPTERS_TABLE);
      const rows = await existing.countRows();
      existing.close();
      if (rows > 0) throw libraryError(`${uri} has an adapters table but no library metadata`, 'this folder was not made by adapter-composer, or its library_meta table was removed');
    }
    const adapters = await db.createEmptyTable(ADAPTERS_TABLE, adaptersSchema(dim), { mode: names.includes(ADAPTERS_TABLE) ? 'overwrite' : 'create' });
    adapters.close();
    if (options.encoderPath && !remote) fs.copyFileSync(path.resolve(options.encoderPath), path.join(dir, LIBRARY_ENCODER_FILE));
    if (encoderConfig && !remote) copyEncoderConfigInto(encoderConfig, dir);
    // The metadata row is written last: its presence marks a complete library.
    const meta: MetaRow = {
      format_version: LIBRARY_FORMAT_VERSION,
      dim,
      encoder_sha256: encoderSha,
      encoder_path: encoderPathRecorded,
      encoder_name: encoderName,
      created_at: new Date().toISOString(),
    };
    const metaTable = await db.createEmptyTable(META_TABLE, metaSchema());
    await metaTable.add([{ ...meta }]); // a copy: an object type, which (unlike the interface) has an implicit index signature
    metaTable.close();
  } finally {
    db.close();
  }
  return openLibrary(uri, { storageOptions: options.storageOptions });
}

export async function openLibrary(uri: string, options: OpenOptions = {}): Promise<Library> {
  const remote = isRemoteUri(uri);
  const dir = remote ? uri : localPath(uri);
  if (!remote && !fs.existsSync(dir)) throw noLibrary(uri);
  const db = await loadLancedb().connect(dir, { readConsistencyInterval: options.readConsistency ?? 0, ...connectOptions(remote, options.storageOptions) }, librarySession());
  // Open the tables directly rather than listing them: some S3-compatible stores (s3rver) list
  // nothing through LanceDB's table manifest although the tables open fine.
  const opened = async (name: string) => db.openTable(name).catch(() => undefined);
  const metaTable = await opened(META_TABLE);
  if (!metaTable || !(await db.openTable(ADAPTERS_TABLE).then((t) => (t.close(), true), () => false))) {
    metaTable?.close();
    db.close();
    throw noLibrary(uri);
  }
  const metaRows = await metaTable.query().toArray();
  metaTable.close();
  if (metaRows.length !== 1) {
    db.close();
    throw libraryError(`the library at ${uri} has ${metaRows.length} metadata rows (1 expected); it is damaged`);
  }
  const raw = metaRows[0] as Record<string, unknown>;
  const meta: MetaRow = {
    format_version: Number(raw.format_version),
    dim: Number(raw.dim),
    encoder_sha256: (raw.encoder_sha256 as string | null) ?? null,
    encoder_path: (raw.encoder_path as string | null) ?? null,
    encoder_name: (raw.encoder_name as string | null) ?? null,
    created_at: String(raw.created_at),
  };
  if (meta.format_version > LIBRARY_FORMAT_VERSION) {
    db.close();
    throw libraryError(`the library at ${uri} has format version ${meta.format_version}; this adapter-composer reads up to ${LIBRARY_FORMAT_VERSION}`, 'upgrade adapter-composer');
  }
  const table = await db.openTable(ADAPTERS_TABLE);
  const exact = (await table.schema()).fields.some((f) => f.name === PROTOTYPE64);
  return new Library(uri, remote ? undefined : dir, db, table, meta, exact);
}

export class Library {
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
  ) {}

  /** Columns to read: the float64 prototype instead of the float32 one when the table has it. */
  private columns(withPrototypes = true): string[] {
    const columns: string[] = ADAPTER_COLUMNS.filter((c) => c !== 'prototype' || (withPrototypes && !this.exactPrototypes));
    if (withPrototypes && this.exactPrototypes) columns.push(PROTOTYPE64);
    return columns;
  }

  get dim(): number {
    return this.meta.dim;
  }

  get encoder(): EncoderInfo {
    return encoderInfo(this.meta);
  }

  /**
   * An adapter's path as its row stores it: in a local library, relative to the library folder (so a
   * repository holding the library and its adapters works in every clone and checkout); a remote URI,
   * a relative path already, or a path on another drive as given. Rows written before this stored
   * absolute paths; those are read as they are.
   */
  private storedPath(p: string): string {
    if (!this.folder || isRemoteUri(p) || !path.isAbsolute(p)) return p;
    const rel = path.relative(this.folder, p);
    return rel === '' || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
  }

  /** A record as the row to write, its adapter path as stored. */
  private row(record: AdapterRecord): Record<string, unknown> {
    return rowFromRecord({ ...record, path: this.storedPath(record.path) }, this.exactPrototypes);
  }

  /** A row as a record, its adapter path absolute (resolved against the library folder). */
  private record(row: unknown): AdapterRecord {
    const record = recordFromRow(row as Record<string, unknown>);
    if (this.folder && !isRemoteUri(record.path) && !path.isAbsolute(record.path)) record.path = path.resolve(this.folder, record.path);
    return record;
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
    const seen = new Set<string>();
    for (const r of list) {
      validateRecord(r, this.meta.dim);
      if (seen.has(r.name)) throw libraryError(`adapter '${r.name}' appears twice in one add`);
      seen.add(r.name);
    }
    // LanceDB has no unique keys: the name check and the commit must not interleave with another
    // writer's, so a local library serialises them on a lock file (a remote one cannot; see docs).
    return this.exclusively(async () => {
      const existing = await this.existingNames([...seen]);
      if (existing.length > 0 && options.replace) {
        // one commit: the rows of those names are updated, the others inserted
        try {
          await this.table.mergeInsert('name').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(list.map((r) => this.row(r)));
        } catch (e) {
          throw libraryError(`could not write to the library at ${this.uri}: ${lanceMessage(e)}`);
        }
        return { version: await this.version() };
      }
      if (existing.length > 0) {
        throw libraryError(`the library already has an adapter named ${existing.map((n) => `'${n}'`).join(', ')}`, 'pass --replace to re-record it, remove it first (`library rm NAME`), or choose another --name');
      }
      try {
        await this.table.add(list.map((r) => this.row(r)));
      } catch (e) {
        throw libraryError(`could not write to the library at ${this.uri}: ${lanceMessage(e)}`);
      }
      return { version: await this.version() };
    });
  }

  private exclusively<T>(body: () => Promise<T>): Promise<T> {
    if (!this.folder) return body();
    return withLockFile(path.join(this.folder, LIBRARY_WRITE_LOCK), `another process is writing the library ${this.uri}`, body);
  }

  private async existingNames(names: string[]): Promise<string[]> {
    const found: string[] = [];
    // Chunked IN lists keep the SQL small for bulk adds.
    for (let i = 0; i < names.length; i += 500) {
      const chunk = names.slice(i, i + 500);
      const rows = await this.table.query().where(`name IN (${chunk.map(sqlString).join(', ')})`).select(['name']).toArray();
      for (const r of rows) found.push(String((r as { name: unknown }).name));
    }
    return found.sort();
  }

  async list(options: { prototypes?: boolean; where?: string } = {}): Promise<AdapterRecord[]> {
    const withPrototypes = options.prototypes ?? true;
    let q = this.table.query().select(this.columns(withPrototypes));
    // A user filter reaches LanceDB only as the canonical SQL of its parse (see whereFilter.ts).
    if (options.where) q = q.where(canonicalWhere(options.where));
    const rows = await this.runQuery(() => q.toArray(), options.where);
    return rows.map((r) => this.record(r)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The rows of these names (those that exist), in one query per 500 names. */
  async getMany(names: string[], options: { prototypes?: boolean } = {}): Promise<AdapterRecord[]> {
    const columns = this.columns(options.prototypes !== false);
    const unique = [...new Set(names)];
    const out: AdapterRecord[] = [];
    for (let i = 0; i < unique.length; i += 500) {
      const chunk = unique.slice(i, i + 500);
      const rows = await this.table.query().where(`name IN (${chunk.map(sqlString).join(', ')})`).select([...columns]).toArray();
      for (const r of rows) out.push(this.record(r));
    }
    return out;
  }

  async get(name: string): Promise<AdapterRecord | undefined> {
    const rows = await this.table.query().where(`name = ${sqlString(name)}`).select(this.columns()).limit(1).toArray();
    return rows.length > 0 ? this.record(rows[0]) : undefined;
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
    const rows = await this.runQuery(() => q.toArray(), undefined);
    return rows.map((r) => this.record(r));
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
    const table = await this.runQuery(() => this.table.query().select(['base', 'tags']).toArrow(), undefined);
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
    const count = await this.table.countRows(`name = ${sqlString(name)}`);
    if (count === 0) throw libraryError(`no adapter named '${name}' in the library at ${this.uri}`, '`library ls` lists the names');
    await this.table.delete(`name = ${sqlString(name)}`);
    return { version: await this.version() };
  }

  /**
   * The k adapters whose prototypes are nearest the target (squared L2), among those that pass the
   * filters. base / where / exclude are applied BEFORE the k-NN (prefilter), so k results come back
   * whenever k adapters pass. Sorted by distance, then name.
   */
  async search(target: Float32Array | Float64Array | number[], options: SearchOptions): Promise<SearchHit[]> {
    const { k } = options;
    if (!Number.isInteger(k) || k < 1) throw new ComposerError('usage', `k must be a positive integer, got ${k}`);
    if (target.length !== this.meta.dim) {
      throw new ComposerError('dimension', `the target prototype has dimension ${target.length} but the library's prototypes have ${this.meta.dim}`, undefined,
        'compute the target with the library\'s encoder');
    }
    for (let i = 0; i < target.length; i++) {
      if (!Number.isFinite(target[i])) throw new ComposerError('non-finite', `the target prototype has ${target[i]} at index ${i}`);
    }
    const size = await this.table.countRows();
    if (size === 0) throw libraryError(`the library at ${this.uri} is empty`, 'add adapters with `adapter-composer library add`');

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
    const tuning = options.tuning ?? await searchTuning(this.table, size);
    let fetch = Math.min(size, k + Math.max(8, k));
    let hits: SearchHit[];
    for (;;) {
      hits = await this.fetchNearest(target, query32, fetch, filters, tuning, options.where);
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
  private async fetchNearest(target: ArrayLike<number>, query32: Float32Array, fetch: number, filters: string[], tuning: SearchTuning, userWhere: string | undefined): Promise<SearchHit[]> {
    let q = this.table.vectorSearch(query32).column('prototype').distanceType('l2').limit(fetch).select([...this.columns(), '_distance']);
    if (filters.length > 0) q = q.where(filters.join(' AND '));
    if (tuning.nprobes) q = q.nprobes(tuning.nprobes);
    if (tuning.ef) q = q.ef(tuning.ef);
    if (tuning.refineFactor) q = q.refineFactor(tuning.refineFactor);
    const rows = await this.runQuery(() => q.toArray(), userWhere);
    return rows.map((row) => {
      const record = this.record(row);
      let distance = 0;
      for (let i = 0; i < record.prototype.length; i++) {
        const d = target[i] - record.prototype[i];
        distance += d * d;
      }
      return { name: record.name, distance, indexDistance: Number((row as { _distance: unknown })._distance), record };
    });
  }

  private async runQuery<T>(run: () => Promise<T>, userWhere: string | undefined): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const message = lanceMessage(e);
      if (userWhere !== undefined) {
        throw libraryError(`invalid filter ${JSON.stringify(userWhere)}: ${message}`,
          `filters are SQL over the columns ${ADAPTER_COLUMNS.filter((c) => c !== 'prototype').join(', ')}; e.g. "rank <= 16 AND array_has(tags, 'math')"`);
      }
      throw libraryError(`query on the library at ${this.uri} failed: ${message}`);
    }
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
