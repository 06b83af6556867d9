/**
 * Minimal text edits to a recipe: set one value, or rewrite one top-level block. Touch as little of
 * the user's text as possible (a scalar in place, a new line in a block map), re-render only when the
 * structure demands it (flow maps, missing parents).
 */
import { parseDocument, stringify } from 'yaml';
import type { TextEdit } from 'vscode-languageserver-types';
import type { RecipeDocument } from './recipeDocument';

/** Replaces (or appends) the top-level `key:` with `value` rendered as block YAML. */
export function replaceTopLevelEdit(doc: RecipeDocument, key: string, value: unknown): TextEdit {
  const rendered = stringify({ [key]: value }, { indent: 2, lineWidth: 0 }).trimEnd();
  const entry = doc.topLevel.get(key);
  if (entry) return { range: doc.rangeOf({ start: entry.start, end: entry.end }), newText: rendered };
  return appendEdit(doc, rendered);
}

/** Sets the scalar at `path` (e.g. ['weights', 'lambda']), creating the key where needed. */
export function setValueEdit(doc: RecipeDocument, path: string[], value: string | number | boolean): TextEdit {
  const scalarText = stringify(value, { lineWidth: 0 }).trimEnd();
  const entry = doc.entry(path);
  if (entry?.value && entry.value.kind !== 'map' && entry.value.kind !== 'seq') {
    return { range: doc.rangeOf(entry.value.span), newText: scalarText };
  }
  if (entry?.key && !entry.value) {
    const colon = doc.text.indexOf(':', entry.key.span.end);
    const at = colon >= 0 ? colon + 1 : entry.key.span.end;
    return { range: doc.rangeOf({ start: at, end: at }), newText: ` ${scalarText}` };
  }
  const parentPath = path.slice(0, -1);
  const name = path[path.length - 1];
  const parent = parentPath.length ? doc.entry(parentPath) : undefined;
  const siblings = parentPath.length ? doc.children(parentPath) : [];
  if (parent?.value?.kind === 'map' && !parent.value.flow && siblings.length && siblings[0].key) {
    const last = siblings[siblings.length - 1];
    const indent = doc.positionAt(siblings[0].key.span.start).character;
    const keyText = stringify(name).trimEnd();
    return { range: doc.rangeOf({ start: last.end, end: last.end }), newText: `\n${' '.repeat(indent)}${keyText}: ${scalarText}` };
  }
  // Structure missing or written in flow style: re-render the whole top-level block.
  const top = path[0];
  const current = topLevelValue(doc, top);
  const updated = setIn(current, path.slice(1), value);
  return replaceTopLevelEdit(doc, top, updated);
}

/** The plain JS value of a top-level key (undefined when absent or unreadable). */
export function topLevelValue(doc: RecipeDocument, key: string): unknown {
  const entry = doc.topLevel.get(key);
  if (!entry?.value) return undefined;
  try {
    const js = parseDocument(doc.text, { strict: false, uniqueKeys: false }).toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
    return js && typeof js === 'object' ? js[key] : undefined;
  } catch {
    return undefined;
  }
}

function setIn(base: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const obj: Record<string, unknown> = base && typeof base === 'object' && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  obj[path[0]] = setIn(obj[path[0]], path.slice(1), value);
  return obj;
}

function appendEdit(doc: RecipeDocument, block: string): TextEdit {
  const end = doc.positionAt(doc.text.length);
  const needsNewline = doc.text.length > 0 && !doc.text.endsWith('\n');
  return { range: { start: end, end }, newText: `${needsNewline ? '\n' : ''}${block}\n` };
}
