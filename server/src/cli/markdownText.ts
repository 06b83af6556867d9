/**
 * Text of a pull request's (or a library's) in Markdown that GitHub renders as a comment: names, paths
 * and messages come from library rows, locks and recipes another author wrote, so they are escaped
 * here — one line, and nothing that could end a table cell, open code, emphasis, a link, an image or
 * HTML (`<!--` would hide the rest of the comment from the reviewer). Used by `plan`, `eval` and `diff`
 * `--format markdown`.
 */
import { oneLine } from '../engine/recipe/problem';

/** A table cell of Markdown: on one line, and what could end the cell, open code, emphasis, a link or HTML backslash-escaped (CommonMark). */
export function mdText(s: string): string {
  return oneLine(s).replace(/[\\`*|<>&()~]/g, '\\$&');
}

/** Inline code that no content can close: a backtick fence longer than any run of backticks inside. */
export function mdCode(s: string): string {
  const text = oneLine(s);
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
