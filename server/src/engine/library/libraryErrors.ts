/**
 * The library's errors: one constructor for a located `library` ComposerError, LanceDB's messages
 * without the Rust source locations it appends, and a failed query explained (a bad user filter
 * named as such, with the columns it may use). Shared by every part of the library.
 */
import { ComposerError } from '../errors';
import { ADAPTER_COLUMNS } from './schema';

export function libraryError(message: string, hint?: string, file?: string): ComposerError {
  return new ComposerError('library', message, file ? { file } : undefined, hint);
}

export function noLibrary(uri: string): ComposerError {
  return libraryError(`no library at ${uri}`, `run \`adapter-composer library init ${uri} --encoder ENCODER.onnx\` (or --dim D) first`);
}

export function lanceMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // LanceDB appends source locations of its Rust code; keep what the user can act on.
  return m.replace(/,?\s*\/[^\s]*\.rs:\d+:\d+.*$/s, '').replace(/^Failed to execute query stream: GenericFailure, /, '').trim();
}

/** Runs one query on the library at `uri`; a failure becomes a library error (an invalid filter when `userWhere` was given). */
export async function runQuery<T>(uri: string, run: () => Promise<T>, userWhere: string | undefined): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const message = lanceMessage(e);
    if (userWhere !== undefined) {
      throw libraryError(`invalid filter ${JSON.stringify(userWhere)}: ${message}`,
        `filters are SQL over the columns ${ADAPTER_COLUMNS.filter((c) => c !== 'prototype').join(', ')}; e.g. "rank <= 16 AND array_has(tags, 'math')"`);
    }
    throw libraryError(`query on the library at ${uri} failed: ${message}`);
  }
}
