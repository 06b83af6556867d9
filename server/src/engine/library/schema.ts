/**
 * The library's two LanceDB tables, with explicit Arrow schemas:
 *
 *   adapters      one row per adapter (AdapterRecord); `prototype` is a FixedSizeList<Float32>[dim]
 *                 for the ANN search, `prototype64` the same prototype as given (Float64), used by the
 *                 weights solve. Libraries made before `prototype64` existed are read from `prototype`.
 *   library_meta  one row: which encoder made the prototypes, their dimension, format version
 *
 * Row ↔ record conversion lives here too, and the checks every record passes before it is written.
 */
import type * as arrow from 'apache-arrow';
import { loadArrow } from '../nativeModules';
import { ComposerError } from '../errors';
import type { AdapterRecord, EncoderInfo } from '../types';

export const ADAPTERS_TABLE = 'adapters';
export const META_TABLE = 'library_meta';
/** Bumped when the tables change shape; older libraries are refused with a clear message. */
export const LIBRARY_FORMAT_VERSION = 1;

const utf8List = (arrow = loadArrow()) => new arrow.List(new arrow.Field('item', new arrow.Utf8(), true));

export function adaptersSchema(dim: number): arrow.Schema {
  const arrow = loadArrow();
  return new arrow.Schema([
    new arrow.Field('name', new arrow.Utf8(), false),
    new arrow.Field('base', new arrow.Utf8(), false),
    new arrow.Field('rank', new arrow.Int32(), false),
    new arrow.Field('alpha', new arrow.Float64(), false),
    new arrow.Field('target_modules', utf8List(), false),
    new arrow.Field('format', new arrow.Utf8(), false),
    new arrow.Field('path', new arrow.Utf8(), false),
    new arrow.Field('sha256', new arrow.Utf8(), false),
    new arrow.Field('prototype', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
    new arrow.Field('description', new arrow.Utf8(), false),
    new arrow.Field('tags', utf8List(), false),
    new arrow.Field('created_at', new arrow.Utf8(), false),
    new arrow.Field('details', new arrow.Utf8(), true),
    new arrow.Field(PROTOTYPE64, new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float64(), true)), true),
  ]);
}

/** The float64 prototype column (absent in older libraries). */
export const PROTOTYPE64 = 'prototype64';

/** Columns returned by list/get/search, in schema order. */
export const ADAPTER_COLUMNS = [
  'name', 'base', 'rank', 'alpha', 'target_modules', 'format', 'path', 'sha256', 'prototype', 'description', 'tags', 'created_at', 'details',
] as const;

export function metaSchema(): arrow.Schema {
  const arrow = loadArrow();
  return new arrow.Schema([
    new arrow.Field('format_version', new arrow.Int32(), false),
    new arrow.Field('dim', new arrow.Int32(), false),
    new arrow.Field('encoder_sha256', new arrow.Utf8(), true),
    /** Relative to the library folder when the encoder was copied in; as given otherwise. */
    new arrow.Field('encoder_path', new arrow.Utf8(), true),
    new arrow.Field('encoder_name', new arrow.Utf8(), true),
    new arrow.Field('created_at', new arrow.Utf8(), false),
  ]);
}

export interface MetaRow {
  format_version: number;
  dim: number;
  encoder_sha256: string | null;
  encoder_path: string | null;
  encoder_name: string | null;
  created_at: string;
}

export function encoderInfo(meta: MetaRow): EncoderInfo {
  const info: EncoderInfo = { dim: meta.dim };
  if (meta.encoder_sha256) info.sha256 = meta.encoder_sha256;
  if (meta.encoder_path) info.path = meta.encoder_path;
  return info;
}

/** Arrow values (Vectors, BigInts, typed arrays) → plain JS. */
function plainStrings(v: unknown): string[] {
  if (v == null) return [];
  const arr = typeof (v as { toArray?: unknown }).toArray === 'function' ? (v as { toArray(): unknown[] }).toArray() : (v as unknown[]);
  return Array.from(arr, (x) => String(x));
}

function plainNumbers(v: unknown): number[] {
  if (v == null) return [];
  const arr = typeof (v as { toArray?: unknown }).toArray === 'function' ? (v as { toArray(): ArrayLike<number> }).toArray() : (v as ArrayLike<number>);
  return Array.from(arr, Number);
}

export function recordFromRow(row: Record<string, unknown>): AdapterRecord {
  const record: AdapterRecord = {
    name: String(row.name),
    base: String(row.base),
    rank: Number(row.rank),
    alpha: Number(row.alpha),
    target_modules: plainStrings(row.target_modules),
    format: String(row.format),
    path: String(row.path),
    sha256: String(row.sha256),
    // The prototype as given (float64) when the library keeps it, else the float32 search column.
    prototype: plainNumbers(row[PROTOTYPE64] ?? row.prototype),
    description: typeof row.description === 'string' ? row.description : '',
    tags: plainStrings(row.tags),
    created_at: String(row.created_at),
  };
  if (typeof row.details === 'string') record.details = row.details;
  return record;
}

/**
 * The row LanceDB writes: the record with the prototype as float32 (search) and, when the table has
 * the column, as given in float64; optional fields filled.
 */
export function rowFromRecord(record: AdapterRecord, exact = true): Record<string, unknown> {
  const row: Record<string, unknown> = {
    name: record.name,
    base: record.base,
    rank: record.rank,
    alpha: record.alpha,
    target_modules: [...record.target_modules],
    format: record.format,
    path: record.path,
    sha256: record.sha256,
    prototype: Array.from(Float32Array.from(record.prototype)),
    description: record.description ?? '',
    tags: [...(record.tags ?? [])],
    created_at: record.created_at,
    details: record.details ?? null,
  };
  if (exact) row[PROTOTYPE64] = Array.from(Float64Array.from(record.prototype));
  return row;
}

function libraryError(message: string, hint?: string): ComposerError {
  return new ComposerError('library', message, undefined, hint);
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/**
 * Characters that print as nothing or reorder what follows (zero-width, bidi embeddings, overrides
 * and isolates, the BOM): `grammar-01` + U+200B looks like `grammar-01` in every table, lock and
 * review comment, and U+202E makes a name read backwards.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

function unprintableCharacter(s: string): string | undefined {
  const control = CONTROL.exec(s);
  const invisible = control ? undefined : INVISIBLE.exec(s);
  const c = control ?? invisible;
  if (!c) return undefined;
  return `the ${control ? 'control' : 'invisible or reordering'} character U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Everything LanceDB would not check (it silently accepts a short FixedSizeList, for one), checked
 * before writing so that a refused add leaves the table untouched.
 */
export function validateRecord(record: AdapterRecord, dim: number): void {
  const r = record as unknown as Record<string, unknown>;
  const label = typeof r.name === 'string' && r.name ? `adapter '${r.name}'` : 'adapter';
  if (typeof r.name !== 'string' || r.name.trim() === '') throw libraryError('an adapter needs a non-empty name');
  // Names are printed in tables, diagnostics and YAML keys: no line breaks or other control characters.
  const odd = unprintableCharacter(r.name);
  if (odd) throw libraryError(`adapter name ${JSON.stringify(r.name)} contains ${odd}; names must be printable`);
  for (const key of ['base', 'format', 'path', 'sha256', 'created_at'] as const) {
    if (typeof r[key] !== 'string') throw libraryError(`${label}: '${key}' must be a string`);
  }
  // The base and the tags are printed and written into recipes (`new`) as the name is: printable too.
  const unprintable = (what: string, s: string) => {
    const odd = unprintableCharacter(s);
    if (odd) throw libraryError(`${label}: ${what} ${JSON.stringify(s)} contains ${odd}; it must be printable`);
  };
  unprintable('base', r.base as string);
  if (r.description !== undefined && typeof r.description !== 'string') throw libraryError(`${label}: 'description' must be a string`);
  if (r.details !== undefined && r.details !== null) {
    if (typeof r.details !== 'string') throw libraryError(`${label}: 'details' must be a JSON string`);
    if (!parseDetails(r.details)) {
      let json = true;
      try {
        JSON.parse(r.details);
      } catch {
        json = false;
      }
      throw libraryError(json ? `${label}: 'details' must be a JSON object nested at most ${MAX_DETAILS_DEPTH} levels deep` : `${label}: 'details' is not valid JSON`);
    }
  }
  if (!Number.isInteger(r.rank) || (r.rank as number) < 1 || (r.rank as number) > 2 ** 31 - 1) throw libraryError(`${label}: rank must be a positive integer, got ${String(r.rank)}`);
  if (typeof r.alpha !== 'number' || !Number.isFinite(r.alpha)) throw libraryError(`${label}: alpha must be a finite number, got ${String(r.alpha)}`);
  for (const key of ['target_modules', 'tags'] as const) {
    const v = r[key];
    if (key === 'tags' && v === undefined) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw libraryError(`${label}: '${key}' must be a list of strings`);
    if (key === 'tags') for (const tag of v) unprintable('tag', tag);
  }
  const p = r.prototype as ArrayLike<number> | undefined;
  if (!p || typeof p.length !== 'number') throw libraryError(`${label}: no prototype`);
  if (p.length !== dim) {
    throw libraryError(`${label}: prototype has dimension ${p.length} but the library's prototypes have ${dim}`,
      'compute the prototype with the encoder the library was made with (`library info` shows it)');
  }
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw libraryError(`${label}: prototype[${i}] is ${String(v)}`, 'the prototype must be finite; check the samples it was computed from');
    if (Math.abs(v) > 3.4e38) throw libraryError(`${label}: prototype[${i}] = ${v} overflows float32`);
  }
}

/** How deep a row's details may nest (what `library add` records is three levels deep). */
export const MAX_DETAILS_DEPTH = 32;

/**
 * A row's details as a plain object; undefined when absent, not JSON, not an object, or nested deeper
 * than MAX_DETAILS_DEPTH (rows another tool wrote: `null` made the planner's readers throw a
 * TypeError, 200,000 levels overflowed the stack of `library show`). The depth is counted on the text,
 * before anything parses it.
 */
export function parseDetails(text: string | null | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DETAILS_DEPTH) return undefined;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A SQL string literal (DataFusion): single quotes doubled. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
