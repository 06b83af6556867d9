/**
 * A problem found in a recipe: what the language server shows as a diagnostic and the CLI prints as
 * `file:line:col: severity: message`. Ranges are 0-based (LSP style); printing makes them 1-based.
 */
import { ComposerError, type ErrorCode } from '../errors';

export interface Position {
  /** 0-based line. */
  line: number;
  /** 0-based UTF-16 column. */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A key or index path into the recipe, e.g. ['weights', 'lambda'] or ['evaluate', 'command', 0]. */
export type RecipePath = (string | number)[];

export interface Problem {
  severity: Severity;
  /** Stable identifier, e.g. 'unknown-key', 'yaml-syntax', 'manual-sum'. */
  code: string;
  message: string;
  range: Range;
  path?: RecipePath;
  /** For quick fixes: e.g. { suggestion: 'strategy' } or { unnecessary: true }. */
  data?: ProblemData;
}

export interface ProblemData {
  /** A replacement for the text at `range` (did-you-mean). */
  suggestion?: string;
  /** Values allowed at this place. */
  allowed?: string[];
  /** The problem marks something that has no effect (editors may fade it). */
  unnecessary?: boolean;
  [key: string]: unknown;
}

/**
 * A message on one line: control characters (CR, LF, ESC, BEL, …, U+2028/9) as visible escapes.
 * Messages quote the recipe (an unknown key, a name, a `where`): in text output a key holding
 * `\n::error::…` would otherwise start a line of its own — a GitHub workflow command in a CI log —
 * or move a terminal's cursor. Editors get the message as it is (diagnostics are not a terminal).
 */
export function oneLine(s: string): string {
  return visibleText(s).replace(/[\n\r]/g, (c) => (c === '\n' ? '\\n' : '\\r'));
}

/**
 * The characters that print as nothing or reorder a line (zero-width, bidi controls, BOM) and the
 * control characters other than tab and line breaks, as visible `\uXXXX` escapes: for outputs that
 * keep their own line breaks (GitHub annotations and SARIF, which encode them), where a name another
 * tool wrote with a right-to-left override would otherwise read as something else.
 */
export function visibleText(s: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A message that may span lines (a drift report lists one field per line) for a terminal or a CI log:
 * control characters other than line breaks as visible escapes (visibleText), a CR as `\r`, every line
 * after the first indented by two spaces, and none that a CI runner reads as a command: GitHub's runner
 * takes any line that starts, after leading spaces, with `::` (or the older `##[`) for one, so such a
 * line's first character is escaped. A path or name quoted in the message cannot start a line of its own.
 */
export function terminalText(s: string): string {
  return visibleText(s)
    .replace(/\r/g, '\\r')
    .split('\n')
    .map((line, i) => {
      const indented = i === 0 || /^\s/.test(line) ? line : `  ${line}`;
      return indented.replace(/^(\s*)(::|##\[)/, (_, space: string, command: string) => `${space}\\u${command.charCodeAt(0).toString(16).padStart(4, '0')}${command.slice(1)}`);
    })
    .join('\n');
}

/** `file:line:col: severity: message`, 1-based as compilers print it; a hint follows on its own line. */
export function formatProblem(problem: Problem, file: string): string {
  const { line, character } = problem.range.start;
  const text = `${oneLine(file)}:${line + 1}:${character + 1}: ${problem.severity}: ${oneLine(problem.message)}`;
  const hint = problemHint(problem);
  return hint ? `${text}\n  hint: ${oneLine(hint)}` : text;
}

/** The problem's hint (data.hint), if any: every output shows it (text, JSON, diagnostics, errors). */
export function problemHint(problem: Problem): string | undefined {
  return typeof problem.data?.hint === 'string' ? problem.data.hint : undefined;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

function mapDefined<T, R>(v: T | undefined, f: (v: T) => R): R | undefined {
  return v === undefined ? undefined : f(v);
}

/** The first error as a located ComposerError, for callers that stop at the first one. */
export function problemToError(problem: Problem, file: string): ComposerError {
  const code: ErrorCode = problem.code === 'yaml-syntax' ? 'yaml-syntax' : SCHEMA_CODES.has(problem.code) ? 'schema' : 'recipe';
  return new ComposerError(
    code,
    oneLine(problem.message),
    {
      file,
      line: problem.range.start.line + 1,
      column: problem.range.start.character + 1,
      endLine: problem.range.end.line + 1,
      endColumn: problem.range.end.character + 1,
    },
    mapDefined(problemHint(problem), oneLine) ?? (typeof problem.data?.suggestion === 'string' && !problem.message.includes('did you mean') ? `did you mean \`${problem.data.suggestion}\`?` : undefined),
  );
}

const SCHEMA_CODES = new Set(['unknown-key', 'missing-key', 'wrong-type', 'invalid-value', 'out-of-range', 'target-sources', 'non-finite']);

/** Problems in reading order (line, then column), errors first on ties. Stable. */
export function sortProblems(problems: Problem[]): Problem[] {
  const rank: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        a.p.range.start.line - b.p.range.start.line ||
        a.p.range.start.character - b.p.range.start.character ||
        rank[a.p.severity] - rank[b.p.severity] ||
        a.i - b.i,
    )
    .map((x) => x.p);
}
