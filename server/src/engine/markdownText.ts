/**
 * Text another author wrote (library rows, locks, recipes) inside Markdown that something renders: a
 * pull-request comment on GitHub (`plan`, `eval` and `diff --format markdown`) or the editor's adapter
 * cards (hover, completion). Escaped here — one line, and nothing that could end a table cell, open
 * code, emphasis, a link, an image or HTML (`<!--` would hide the rest of a comment from the reviewer;
 * an image is a request to the author's server when the card is shown).
 */
import { oneLine } from './recipe/problem';

/** A table cell of Markdown: on one line, and what could end the cell, open code, emphasis, a link or HTML backslash-escaped (CommonMark). */
export function mdText(s: string): string {
  return oneLine(s).replace(/[\\`*|<>&()~]/g, '\\$&');
}

/**
 * Several lines of such text (a description): each line as mdText, the line breaks kept, and brackets
 * escaped too — across lines, `![x][t]` and a line `[t]: https://…` make an image without parentheses.
 */
export function mdLines(s: string): string {
  return s.split(/\r?\n/).map((line) => mdText(line).replace(/[[\]]/g, '\\$&')).join('\n');
}

/** Inline code that no content can close: a backtick fence longer than any run of backticks inside. */
export function mdCode(s: string): string {
  const text = oneLine(s);
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
