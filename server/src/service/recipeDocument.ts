/**
 * The editor's view of a recipe buffer: a YAML tree flattened into located entries (path → key span,
 * value span), plus offset ↔ position conversion. The planner owns the meaning of the recipe; this
 * file only answers "what is under the cursor" and "where is key X" for the editor features.
 * Bounded: oversize text is not parsed, the walk stops at a depth and an entry count.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document as YamlDocument, Node as YamlNode } from 'yaml';
import type { Position, Range } from 'vscode-languageserver-types';
import { findExcessiveNesting } from './nestingGuard';
import type { ExcessiveNesting } from './nestingGuard';
import { LineIndex } from '../engine/recipe/lineIndex';
import { parseRecipeYaml } from '../engine/recipe/yamlParse';
import { parseRecipe } from '../engine/recipe/parse';
import type { ParseResult, ScalarValue } from '../engine/recipe/parse';

export type YamlPath = (string | number)[];

export interface Span {
  start: number;
  end: number;
}

export type ValueKind = 'map' | 'seq' | 'scalar' | 'alias' | 'null';

export interface RecipeEntry {
  /** Path to this value: map keys as strings, sequence indexes as numbers. */
  path: YamlPath;
  /** The key of a map pair (absent for sequence items and the root). */
  key?: { text: string; span: Span };
  /** The value node; absent for `key:` with nothing after it. */
  value?: { kind: ValueKind; span: Span; scalar?: ScalarValue; flow?: boolean };
  /** Start of the whole entry (key, or the item's value) — where a replacement begins. */
  start: number;
  /** End of the value (or of the key when there is no value). */
  end: number;
}

/** Texts above this size are not parsed for editor features (the transport reports why). */
export const MAX_RECIPE_BYTES = 2 * 1024 * 1024;
const MAX_DEPTH = 48;
const MAX_ENTRIES = 50_000;

export class RecipeDocument {
  readonly entries: RecipeEntry[] = [];
  /** Top-level key → entry. */
  readonly topLevel = new Map<string, RecipeEntry>();
  /** Whether the root is a YAML map with a `compose:` key. */
  readonly isRecipe: boolean;
  readonly tooLarge: boolean;
  /** Nesting deep enough to endanger the YAML parser: the text is never parsed (nor planned). */
  readonly tooDeep?: ExcessiveNesting;
  private readonly lines: LineIndex;
  private readonly lineStarts: number[];

  /**
   * The planner's parse of the same text (parseRecipe), when the document was parsed for a file: the
   * language server hands it to the planner, so a buffer version is parsed into YAML once.
   */
  readonly recipeParse?: ParseResult;

  private constructor(readonly text: string, file?: string) {
    this.lines = new LineIndex(text);
    this.lineStarts = this.lines.lineStarts;
    this.tooLarge = text.length > MAX_RECIPE_BYTES;
    if (!this.tooLarge) this.tooDeep = findExcessiveNesting(text);
    if (!this.tooLarge && !this.tooDeep) {
      // The planner's strict parse carries every node's range too; parse leniently only without it
      // (text the planner refuses before YAML: over its size cap, binary, a control character).
      if (file !== undefined) this.recipeParse = parseRecipe(text, file);
      this.walkSafely(this.recipeParse?.yaml);
    }
    this.isRecipe = this.topLevel.has('compose') || (this.tooLarge ? false : this.entries.length === 0 && /^compose[ \t]*:/m.test(text));
  }

  /** Too large or too deep: neither the editor features nor the planner may read it. */
  get unreadable(): boolean {
    return this.tooLarge || this.tooDeep !== undefined;
  }

  /** With `file`: also the planner's parse of the text (`recipeParse`), sharing one YAML parse. */
  static parse(text: string, file?: string): RecipeDocument {
    return new RecipeDocument(text, file);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  lineText(line: number): string {
    if (line < 0 || line >= this.lineStarts.length) return '';
    const start = this.lineStarts[line];
    const end = line + 1 < this.lineStarts.length ? this.lineStarts[line + 1] : this.text.length;
    return this.text.slice(start, end).replace(/\r?\n$/, '');
  }

  positionAt(offset: number): Position {
    return this.lines.positionAt(offset);
  }

  offsetAt(position: Position): number {
    return this.lines.offsetAt(position);
  }

  rangeOf(span: Span): Range {
    return { start: this.positionAt(span.start), end: this.positionAt(span.end) };
  }

  entry(path: YamlPath): RecipeEntry | undefined {
    return this.entries.find((e) => samePath(e.path, path));
  }

  /** Direct children of the value at `path`, in document order. */
  children(path: YamlPath): RecipeEntry[] {
    return this.entries.filter((e) => e.path.length === path.length + 1 && startsWith(e.path, path));
  }

  /** The deepest entry whose key or value contains `offset`, and which part was hit. */
  at(offset: number): { entry: RecipeEntry; part: 'key' | 'value' } | undefined {
    let best: { entry: RecipeEntry; part: 'key' | 'value' } | undefined;
    for (const e of this.entries) {
      if (e.key && offset >= e.key.span.start && offset <= e.key.span.end) {
        if (!best || e.path.length >= best.entry.path.length) best = { entry: e, part: 'key' };
      } else if (e.value && e.value.kind !== 'map' && e.value.kind !== 'seq' && offset >= e.value.span.start && offset <= e.value.span.end) {
        if (!best || e.path.length >= best.entry.path.length) best = { entry: e, part: 'value' };
      }
    }
    return best;
  }

  private walkSafely(parsed?: YamlDocument.Parsed): void {
    try {
      const doc = parsed ?? parseRecipeYaml(this.text, { keepSourceTokens: false, uniqueKeys: false, strict: false, prettyErrors: false });
      if (doc.contents) this.walk(doc.contents, [], 0);
    } catch {
      // Deep nesting can overflow the parser's stack: the buffer simply has no editor structure.
      this.entries.length = 0;
      this.topLevel.clear();
    }
  }

  private walk(node: YamlNode, path: YamlPath, depth: number): void {
    if (depth > MAX_DEPTH || this.entries.length > MAX_ENTRIES) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || this.entries.length > MAX_ENTRIES) continue;
        const key = pair.key as YamlNode | null;
        if (!key || !isScalar(key) || !key.range) continue;
        const keyText = String(key.value);
        const keySpan = { start: key.range[0], end: key.range[1] };
        const value = pair.value as YamlNode | null;
        const entry: RecipeEntry = { path: [...path, keyText], key: { text: keyText, span: keySpan }, start: keySpan.start, end: keySpan.end };
        if (value && value.range) {
          entry.value = describeValue(value, this.text);
          entry.end = Math.max(keySpan.end, entry.value.span.end);
        }
        this.entries.push(entry);
        if (depth === 0 && !this.topLevel.has(keyText)) this.topLevel.set(keyText, entry);
        if (value) this.walk(value, entry.path, depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        const child = item as YamlNode | null;
        if (!child || !child.range || this.entries.length > MAX_ENTRIES) return;
        const value = describeValue(child, this.text);
        this.entries.push({ path: [...path, index], value, start: value.span.start, end: value.span.end });
        this.walk(child, [...path, index], depth + 1);
      });
    }
  }
}

function describeValue(node: YamlNode, text: string): NonNullable<RecipeEntry['value']> {
  const range = node.range ?? [0, 0, 0];
  // Block collections end after their trailing newline; an edit should stop at the last character.
  let end = range[1];
  while (end > range[0] && /\s/.test(text[end - 1])) end--;
  const span = { start: range[0], end };
  if (isMap(node)) return { kind: 'map', span, flow: node.flow === true };
  if (isSeq(node)) return { kind: 'seq', span, flow: node.flow === true };
  if (isAlias(node)) return { kind: 'alias', span };
  if (isScalar(node)) return node.value === null ? { kind: 'null', span, scalar: null } : { kind: 'scalar', span, scalar: node.value as ScalarValue };
  return { kind: 'null', span };
}

export function samePath(a: YamlPath, b: YamlPath): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function startsWith(path: YamlPath, prefix: YamlPath): boolean {
  return prefix.every((s, i) => path[i] === s);
}
