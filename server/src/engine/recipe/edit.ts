/**
 * Minimal text edits to a recipe, for the language server's "pin weights" and "set λ from the chart":
 * one replacement or insertion that sets a value at a path, leaving every other byte (comments,
 * quoting, blank lines) as it was.
 */
import { parseDocument, isAlias, isMap, isScalar, isSeq, isCollection, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { LineIndex } from './lineIndex';
import { contentOffsets, keyText } from './parse';
import type { Range } from './problem';

export interface TextEdit {
  range: Range;
  newText: string;
}

export type EditValue = string | number | boolean | null | EditValue[] | { [key: string]: EditValue };

/**
 * The edit that sets `path` (mapping keys only, e.g. ['weights', 'lambda']) to `value`, creating
 * missing parents. Undefined when the text is not readable YAML or the path runs through a list.
 */
export function setValueEdit(text: string, path: string[], value: EditValue): TextEdit | undefined {
  if (path.length === 0) return undefined;
  let document: Document.Parsed;
  try {
    document = parseDocument(text, { uniqueKeys: false, prettyErrors: false, stringKeys: true });
  } catch {
    return undefined;
  }
  if (document.errors.length > 0) return undefined;
  const lines = new LineIndex(text);
  const unit = indentUnit(document, lines);
  const edit = (start: number, end: number, newText: string): TextEdit => ({ range: lines.rangeOf(start, end), newText });

  const root = document.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === undefined) && !root.source)) {
    // Empty (or comments only): append the whole branch at the end.
    const prefix = text.length > 0 && !/[\r\n]$/.test(text) ? '\n' : '';
    return edit(text.length, text.length, prefix + blockPair(path[0], nest(path.slice(1), value), '', unit).join('\n') + '\n');
  }
  if (!isMap(root)) return undefined;

  let map: YAMLMap = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const rest = path.slice(i + 1);
    const pair = map.items.find((p) => keyText(p.key) === segment) as Pair<Node, Node | null> | undefined;
    if (!pair) return insertPair(map, segment, nest(rest, value));
    const current = pair.value;
    if (rest.length > 0 && isMap(current)) {
      map = current;
      continue;
    }
    if (rest.length > 0 && isSeq(current)) return undefined;
    return replaceValue(pair, nest(rest, value));
  }
  return undefined;

  function insertPair(target: YAMLMap, key: string, v: EditValue): TextEdit | undefined {
    if (!target.range) return undefined;
    if (target.flow) {
      const [start, end] = target.range;
      if (target.items.length === 0) return edit(start, end, `{ ${formatKey(key)}: ${flowText(v)} }`);
      const last = target.items[target.items.length - 1];
      const lastEnd = pairEnd(last);
      if (lastEnd === undefined) return undefined;
      return edit(lastEnd, lastEnd, `, ${formatKey(key)}: ${flowText(v)}`);
    }
    const first = target.items[0];
    const firstKey = first && isScalar(first.key) ? first.key : undefined;
    if (!firstKey?.range) return undefined;
    const indent = ' '.repeat(lines.positionAt(firstKey.range[0]).character);
    const last = target.items[target.items.length - 1];
    const lastEnd = pairEnd(last);
    if (lastEnd === undefined) return undefined;
    // After the last pair's line (and its trailing comment), so no comment changes lines.
    const lineEnd = lines.lineEndBeforeBreak(lines.positionAt(lastEnd).line);
    return edit(lineEnd, lineEnd, '\n' + blockPair(key, v, indent, unit).join('\n'));
  }

  function replaceValue(pair: Pair<Node, Node | null>, v: EditValue): TextEdit | undefined {
    const key = pair.key;
    if (!isScalar(key) || !key.range) return undefined;
    const keyIndent = ' '.repeat(lines.positionAt(key.range[0]).character);
    const current = pair.value;
    const empty = current === null || (isScalar(current) && (current.value === null || current.value === undefined) && !current.source);
    if (empty) {
      const colon = text.indexOf(':', key.range[1]);
      if (colon < 0) return undefined;
      if (isNonEmptyObject(v) && !inFlow(pair)) {
        const lineEnd = lines.lineEndBeforeBreak(lines.positionAt(colon).line);
        return edit(lineEnd, lineEnd, '\n' + blockLines(v, keyIndent + unit, unit).join('\n'));
      }
      return edit(colon + 1, colon + 1, ` ${flowText(v)}`);
    }
    if (!current || !current.range) return undefined;
    const offsets = contentOffsets(current);
    if (!offsets) return undefined;
    const [start, end] = offsets;
    if (isCollection(current) && !current.flow && isNonEmptyObject(v) && isMap(current)) {
      const indent = ' '.repeat(lines.positionAt(start).character);
      return edit(start, end, blockLines(v, indent, unit).join('\n').slice(indent.length));
    }
    if (isCollection(current) && !current.flow) {
      // A block collection becomes a flow value on the key's line.
      const colon = text.indexOf(':', key.range[1]);
      if (colon < 0) return undefined;
      return edit(colon + 1, end, ` ${flowText(v)}`);
    }
    if (isAlias(current) || isScalar(current) || isCollection(current)) return edit(start, end, flowText(v));
    return undefined;
  }

  function inFlow(pair: Pair): boolean {
    // The parent of a pair is flow iff the text right after its key's colon-line has a `{`-context; we
    // look it up by searching the maps that contain the pair.
    const stack: unknown[] = [document.contents];
    while (stack.length > 0) {
      const node = stack.pop();
      if (isMap(node)) {
        if (node.items.includes(pair)) return Boolean(node.flow);
        for (const p of node.items) stack.push(p.value);
      } else if (isSeq(node)) stack.push(...node.items);
    }
    return false;
  }
}

/** Applies one edit to a text (for tests and for clients without an editor). */
export function applyEdit(text: string, edit: TextEdit): string {
  const lines = new LineIndex(text);
  return text.slice(0, lines.offsetAt(edit.range.start)) + edit.newText + text.slice(lines.offsetAt(edit.range.end));
}

function pairEnd(pair: Pair): number | undefined {
  const value = pair.value as Node | null;
  if (value && value.range && !(isScalar(value) && value.range[0] === value.range[1])) return contentOffsets(value)?.[1];
  return isScalar(pair.key) && pair.key.range ? pair.key.range[1] + 1 /* the colon */ : undefined;
}

/** { a: { b: value } } for rest = ['a', 'b']. */
function nest(rest: string[], value: EditValue): EditValue {
  let v = value;
  for (let i = rest.length - 1; i >= 0; i--) v = { [rest[i]]: v };
  return v;
}

function isNonEmptyObject(v: EditValue): v is { [key: string]: EditValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
}

function blockPair(key: string, v: EditValue, indent: string, unit: string): string[] {
  if (isNonEmptyObject(v)) return [`${indent}${formatKey(key)}:`, ...blockLines(v, indent + unit, unit)];
  return [`${indent}${formatKey(key)}: ${flowText(v)}`];
}

function blockLines(v: { [key: string]: EditValue }, indent: string, unit: string): string[] {
  return Object.entries(v).flatMap(([k, x]) => blockPair(k, x, indent, unit));
}

/** A value on one line: scalars plain when YAML reads them back unchanged, collections in flow style. */
export function flowText(v: EditValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (v === Infinity) return '.inf';
    if (v === -Infinity) return '-.inf';
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return formatString(v);
  if (Array.isArray(v)) return `[${v.map(flowText).join(', ')}]`;
  const entries = Object.entries(v);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${formatKey(k)}: ${flowText(x)}`).join(', ')} }`;
}

function formatKey(k: string): string {
  return formatString(k);
}

/** Plain when it reads back as the same string in block and flow context, else double-quoted. */
function formatString(s: string): string {
  const plainSafe = /^[A-Za-z0-9_][A-Za-z0-9_./@+-]*( [A-Za-z0-9_./@+-]+)*$/.test(s);
  if (plainSafe) {
    try {
      const back = parseDocument(`[${s}]`).toJS() as unknown[];
      if (Array.isArray(back) && back.length === 1 && back[0] === s) return s;
    } catch {
      // fall through to quoting
    }
  }
  return JSON.stringify(s);
}

/** The document's indentation step (the first nested block mapping's offset), default two spaces. */
function indentUnit(document: Document.Parsed, lines: LineIndex): string {
  const root = document.contents;
  if (!isMap(root) || root.flow) return '  ';
  for (const pair of root.items) {
    const child = pair.value;
    if (isMap(child) && !child.flow && child.range && isScalar(pair.key) && pair.key.range) {
      const step = lines.positionAt(child.range[0]).character - lines.positionAt(pair.key.range[0]).character;
      if (step > 0 && step <= 8) return ' '.repeat(step);
    }
  }
  return '  ';
}
