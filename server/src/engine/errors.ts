/**
 * Typed, located errors. The engine never prints: it throws these (or returns them as diagnostics),
 * and the CLI / language service turn them into `file:line:col: error: message` or LSP diagnostics.
 */

/** A place in a file. Lines and columns are 1-based, as editors and compilers print them. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
}

export type ErrorCode =
  | 'yaml-syntax'
  | 'schema'
  | 'recipe'
  | 'io'
  | 'npy'
  | 'safetensors'
  | 'adapter-format'
  | 'unsupported-adapter'
  | 'library'
  | 'encoder'
  | 'dimension'
  | 'non-finite'
  | 'weights'
  | 'merge'
  | 'lock'
  | 'usage'
  | 'cancelled'
  | 'internal';

export class ComposerError extends Error {
  override readonly name = 'ComposerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly location?: SourceLocation,
    /** What the user can do about it, when we know. */
    readonly hint?: string,
  ) {
    super(message);
  }

  /** `file:line:col: message` (as much of the location as is known). */
  format(): string {
    const where = formatLocation(this.location);
    const text = where ? `${where}: ${this.message}` : this.message;
    return this.hint ? `${text}\n  hint: ${this.hint}` : text;
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) s += `:${loc.column}`;
  return s;
}

export function isComposerError(e: unknown): e is ComposerError {
  return e instanceof ComposerError;
}

/** What a failed system call says: its errno code (ENOENT, EACCES, …), else its message. */
export function errnoOf(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e);
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * The located `io` error of a file operation that failed: `<doing> <file>: <errno>`, e.g.
 * `cannot read the encoder config /m/encoder.json: EACCES` (the one wording of these errors).
 */
export function ioError(doing: string, file: string, e: unknown): ComposerError {
  return new ComposerError('io', `${doing} ${file}: ${errnoOf(e)}`, { file });
}
