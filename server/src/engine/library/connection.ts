/**
 * Reaching a library's tables: where the library is (a local folder or an object-store URI such as
 * s3://bucket/lib, with its storage options), the one bounded LanceDB session of the process, and
 * opening an existing library — its metadata row read and its format version checked — for
 * library.ts to wrap. Readers open with readConsistencyInterval 0 by default, so they see rows another
 * process has just added.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import { loadLancedb } from '../nativeModules';
import { ComposerError } from '../errors';
import { ADAPTERS_TABLE, LIBRARY_FORMAT_VERSION, META_TABLE, type MetaRow, PROTOTYPE64 } from './schema';
import { isRemoteUri, localPath as localPathOf } from '../location';
import { libraryError, noLibrary } from './libraryErrors';
import { requireOwnEntries } from './libraryFolder';

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

export function connectOptions(remote: boolean, storageOptions: Record<string, string> | undefined): { storageOptions?: Record<string, string> } {
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

/** A local library location (path or file:// URI) as an absolute folder, relative to the current folder. */
export function localPath(uri: string): string {
  return localPathOf(uri, process.cwd()) ?? uri;
}

/** An open library's connection, adapters table and metadata. */
export interface OpenedTables {
  /** The library folder, for a local library. */
  folder: string | undefined;
  db: lancedb.Connection;
  table: lancedb.Table;
  meta: MetaRow;
  /** The table keeps each prototype in float64 (prototype64); older libraries only in float32. */
  exactPrototypes: boolean;
}

/**
 * A local folder LanceDB has written: its table manifest or the metadata table. Connecting to any
 * other folder creates a `__manifest` in it — `check` of a recipe whose `library:` named an adapter
 * folder or the workspace root wrote there (on every keystroke in the editor), and `library ls ~`
 * wrote into the home folder — so such a folder is "no library" before anything connects.
 */
function looksLikeDatabase(dir: string): boolean {
  try {
    if (!fs.statSync(dir).isDirectory()) return false;
  } catch {
    return false;
  }
  return fs.existsSync(path.join(dir, '__manifest')) || fs.existsSync(path.join(dir, `${META_TABLE}.lance`));
}

/** Opens an existing library's tables; refuses a missing, damaged or newer-format library. */
export async function openTables(uri: string, options: OpenOptions = {}): Promise<OpenedTables> {
  const remote = isRemoteUri(uri);
  const dir = remote ? uri : localPath(uri);
  if (!remote && !looksLikeDatabase(dir)) throw noLibrary(uri);
  // a FIFO fragment hung every read, a link out of it was written through (libraryFolder.ts)
  if (!remote) requireOwnEntries(dir, 'the library');
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
  const exactPrototypes = (await table.schema()).fields.some((f) => f.name === PROTOTYPE64);
  return { folder: remote ? undefined : dir, db, table, meta, exactPrototypes };
}
