/**
 * One library's rows ↔ records: which columns to read (the float64 prototype instead of the float32
 * one when the table has it), and adapter paths stored relative to a local library's folder and read
 * back absolute. The column-level conversion (Arrow values, validation) is schema.ts's.
 */
import * as path from 'node:path';
import type { AdapterRecord } from '../types';
import { ADAPTER_COLUMNS, PROTOTYPE64, recordFromRow, rowFromRecord } from './schema';
import { isRemoteUri } from '../location';

export class RowCodec {
  constructor(
    /** The library folder, for a local library. */
    private readonly folder: string | undefined,
    /** The table keeps each prototype in float64 (prototype64); older libraries only in float32. */
    private readonly exactPrototypes: boolean,
  ) {}

  /** Columns to read: the float64 prototype instead of the float32 one when the table has it. */
  columns(withPrototypes = true): string[] {
    const columns: string[] = ADAPTER_COLUMNS.filter((c) => c !== 'prototype' || (withPrototypes && !this.exactPrototypes));
    if (withPrototypes && this.exactPrototypes) columns.push(PROTOTYPE64);
    return columns;
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
  row(record: AdapterRecord): Record<string, unknown> {
    return rowFromRecord({ ...record, path: this.storedPath(record.path) }, this.exactPrototypes);
  }

  /** A row as a record, its adapter path absolute (resolved against the library folder). */
  record(row: unknown): AdapterRecord {
    const record = recordFromRow(row as Record<string, unknown>);
    if (this.folder && !isRemoteUri(record.path) && !path.isAbsolute(record.path)) record.path = path.resolve(this.folder, record.path);
    return record;
  }
}
