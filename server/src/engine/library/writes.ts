/**
 * Writing adapter rows: every record validated in full before LanceDB is called, names checked and
 * committed under the library's write lock, new rows added or (with `replace`) rows of the same names
 * updated, all in one atomic commit — so a refused or failed add leaves the table as it was.
 */
import * as path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import type { AdapterRecord } from '../types';
import { sqlString, validateRecord } from './schema';
import { withLockFile } from '../singleWriter';
import { lanceMessage, libraryError } from './libraryErrors';
import type { RowCodec } from './rowCodec';

/** Held (O_EXCL, with the writer's pid) while an add checks names and commits. */
export const LIBRARY_WRITE_LOCK = '.adapter-composer-write.lock';

/** What a write touches: the library's adapters table, how its rows are written, its folder (local) and URI. */
export interface WrittenTable {
  uri: string;
  /** The library folder, for a local library (where the write lock lives). */
  folder: string | undefined;
  dim: number;
  table: lancedb.Table;
  rows: RowCodec;
}

/** Adds adapters (at least one) in one commit, after checking all of them; nothing is written if any is refused. */
export async function addRecords(library: WrittenTable, list: AdapterRecord[], options: { replace?: boolean }): Promise<{ version: number }> {
  const seen = new Set<string>();
  for (const r of list) {
    validateRecord(r, library.dim);
    if (seen.has(r.name)) throw libraryError(`adapter '${r.name}' appears twice in one add`);
    seen.add(r.name);
  }
  // LanceDB has no unique keys: the name check and the commit must not interleave with another
  // writer's, so a local library serialises them on a lock file (a remote one cannot; see docs).
  return exclusively(library, async () => {
    const existing = await existingNames(library.table, [...seen]);
    if (existing.length > 0 && options.replace) {
      // one commit: the rows of those names are updated, the others inserted
      try {
        await library.table.mergeInsert('name').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(list.map((r) => library.rows.row(r)));
      } catch (e) {
        throw libraryError(`could not write to the library at ${library.uri}: ${lanceMessage(e)}`);
      }
      return { version: await library.table.version() };
    }
    if (existing.length > 0) {
      throw libraryError(`the library already has an adapter named ${existing.map((n) => `'${n}'`).join(', ')}`, 'pass --replace to re-record it, remove it first (`library rm NAME`), or choose another --name');
    }
    try {
      await library.table.add(list.map((r) => library.rows.row(r)));
    } catch (e) {
      throw libraryError(`could not write to the library at ${library.uri}: ${lanceMessage(e)}`);
    }
    return { version: await library.table.version() };
  });
}

function exclusively<T>(library: WrittenTable, body: () => Promise<T>): Promise<T> {
  if (!library.folder) return body();
  return withLockFile(path.join(library.folder, LIBRARY_WRITE_LOCK), `another process is writing the library ${library.uri}`, body);
}

async function existingNames(table: lancedb.Table, names: string[]): Promise<string[]> {
  const found: string[] = [];
  // Chunked IN lists keep the SQL small for bulk adds.
  for (let i = 0; i < names.length; i += 500) {
    const chunk = names.slice(i, i + 500);
    const rows = await table.query().where(`name IN (${chunk.map(sqlString).join(', ')})`).select(['name']).toArray();
    for (const r of rows) found.push(String((r as { name: unknown }).name));
  }
  return found.sort();
}

/** Removes one adapter; refuses an unknown name. */
export async function removeRecord(library: WrittenTable, name: string): Promise<{ version: number }> {
  const count = await library.table.countRows(`name = ${sqlString(name)}`);
  if (count === 0) throw libraryError(`no adapter named '${name}' in the library at ${library.uri}`, '`library ls` lists the names');
  await library.table.delete(`name = ${sqlString(name)}`);
  return { version: await library.table.version() };
}
