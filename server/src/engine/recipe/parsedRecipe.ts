/**
 * A parsed recipe: the raw data, the typed spec (defaults filled) and the source map from recipe paths
 * (`['weights', 'lambda']`) to YAML nodes and their ranges, so any problem can point at the exact key or
 * value; with the YAML node helpers the checkers and the minimal edits share.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, isCollection, type Document, type Node, type Pair, type YAMLMap, type Alias } from 'yaml';
import type { SourceLocation } from '../errors';
import { LineIndex } from './lineIndex';
import { MAX_NESTING } from './inputGuards';
import type { Position, Range, RecipePath } from './problem';
import { applyDefaults, type RecipeSpec } from './spec';

export type RangePart = 'value' | 'key' | 'pair';

/** A parsed recipe: the raw data, the typed spec (defaults filled) and the source map. */
export class Recipe {
  readonly lines: LineIndex;
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  private readonly aliasTargets = new WeakMap<Alias, unknown>();
  /** The recipe with defaults filled; trustworthy only when checkRecipe found no errors. */
  readonly spec: RecipeSpec;

  constructor(
    readonly file: string,
    readonly text: string,
    readonly document: Document.Parsed,
    /** The data exactly as written (aliases expanded). */
    readonly data: Record<string, unknown>,
    lines?: LineIndex,
  ) {
    this.lines = lines ?? new LineIndex(text);
    this.spec = applyDefaults(data, file);
  }

  /**
   * The same parse with a fresh `spec`: a planner may adjust the spec of the recipe it plans (the
   * default library from settings), and a parse shared between plans must not carry that over.
   */
  withFreshSpec(): Recipe {
    return new Recipe(this.file, this.text, this.document, this.data, this.lines);
  }

  /** The YAML node at a path (aliases followed), or undefined when the path does not exist. */
  nodeAt(path: RecipePath): Node | undefined {
    return this.walk(path)?.node;
  }

  /** The key/value pair that holds the value at a path (undefined for the root and sequence items). */
  pairAt(path: RecipePath): Pair | undefined {
    return this.walk(path)?.pair;
  }

  /** [start, end) offsets of a path's value, key or whole pair; undefined when the path does not exist. */
  offsetsOf(path: RecipePath, part: RangePart = 'value'): [number, number] | undefined {
    const found = this.walk(path);
    if (!found) return undefined;
    const keyNode = found.pair && isNodeLike(found.pair.key) ? (found.pair.key as Node) : undefined;
    const valueOffsets = found.node ? contentOffsets(found.node) : undefined;
    const keyOffsets = keyNode ? contentOffsets(keyNode) : undefined;
    if (part === 'key') return keyOffsets ?? valueOffsets;
    if (part === 'pair') {
      if (keyOffsets && valueOffsets) return [keyOffsets[0], Math.max(keyOffsets[1], valueOffsets[1])];
      return keyOffsets ?? valueOffsets;
    }
    return valueOffsets ?? keyOffsets;
  }

  /** 0-based range of a path's value (default), key or pair; undefined when the path does not exist. */
  rangeOf(path: RecipePath, part: RangePart = 'value'): Range | undefined {
    const o = this.offsetsOf(path, part);
    return o ? this.lines.rangeOf(o[0], o[1]) : undefined;
  }

  /**
   * Where to point a problem about `path`: its value, or its key when the value is empty
   * (`lambda:` with nothing after it), or else the nearest ancestor that exists (its key).
   */
  problemRange(path: RecipePath, part: RangePart = 'value'): Range {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const found = this.walk(sub);
      if (!found) continue;
      const wanted = n === path.length ? part : 'key';
      let o = this.offsetsOf(sub, wanted);
      if (o && o[0] === o[1]) o = this.offsetsOf(sub, 'key') ?? o;
      if (n === 0) return this.documentStartRange();
      if (o) return this.lines.rangeOf(o[0], o[1]);
    }
    return this.documentStartRange();
  }

  /** The first line's content, or the `compose:` key when there is one: where document-level problems go. */
  documentStartRange(): Range {
    const compose = this.offsetsOf(['compose'], 'key');
    if (compose) return this.lines.rangeOf(compose[0], compose[1]);
    return { start: { line: 0, character: 0 }, end: this.lines.positionAt(this.lines.lineEndBeforeBreak(0)) };
  }

  /** 1-based location for a ComposerError about `path`. */
  locationOf(path: RecipePath, part: RangePart = 'value'): SourceLocation {
    const r = this.problemRange(path, part);
    return {
      file: this.file,
      line: r.start.line + 1,
      column: r.start.character + 1,
      endLine: r.end.line + 1,
      endColumn: r.end.character + 1,
    };
  }

  positionAt(offset: number): Position {
    return this.lines.positionAt(offset);
  }

  offsetAt(position: Position): number {
    return this.lines.offsetAt(position);
  }

  private walk(path: RecipePath): { node?: Node; pair?: Pair } | undefined {
    let node: unknown = this.resolveAlias(this.document.contents);
    let pair: Pair | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        pair = this.pairsOf(node).get(String(segment));
        if (!pair) return undefined;
        node = this.resolveAlias(pair.value);
      } else if (isSeq(node) && typeof segment === 'number') {
        if (segment < 0 || segment >= node.items.length) return undefined;
        pair = undefined;
        node = this.resolveAlias(node.items[segment]);
      } else {
        return undefined;
      }
    }
    return { node: isNodeLike(node) ? (node as Node) : undefined, pair };
  }

  /**
   * A mapping's pairs by key text (the first pair of a repeated key, as a search from the start finds),
   * made once per mapping: problems are located one path at a time, and a recipe of 50,000 unknown
   * keys searched its mapping once per problem (quadratic: minutes for a 1 MB recipe).
   */
  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let index = this.keyIndex.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items) {
        const key = keyText(p.key);
        if (key !== undefined && !index.has(key)) index.set(key, p);
      }
      this.keyIndex.set(map, index);
    }
    return index;
  }

  /** Each alias resolved once: the yaml package visits the whole document on every resolve. */
  private resolveAlias(node: unknown): unknown {
    let n = node;
    for (let i = 0; isAlias(n) && i < MAX_NESTING; i++) {
      const alias = n;
      if (!this.aliasTargets.has(alias)) this.aliasTargets.set(alias, alias.resolve(this.document));
      n = this.aliasTargets.get(alias);
    }
    return n;
  }
}

/** What a YAML scalar holds under the core schema (the `yaml` package types it `unknown`). */
export type ScalarValue = string | number | boolean | bigint | null;

/** A mapping key as text (keys are parsed as strings), or undefined for complex keys. */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value as ScalarValue | undefined;
  return value === null || value === undefined ? '' : String(value);
}

function isNodeLike(n: unknown): boolean {
  return isScalar(n) || isCollection(n) || isAlias(n);
}

/**
 * [start, end) of a node's own text, without the comments and blank lines yaml counts into a block
 * collection's range.
 */
export function contentOffsets(node: Node): [number, number] | undefined {
  const range = node.range;
  if (!range) return undefined;
  const start = range[0];
  let end = range[1];
  // Walk to the last item of block collections (iteratively: nesting is capped, but stay flat anyway).
  let current: unknown = node;
  for (let guard = 0; guard <= MAX_NESTING && isCollection(current) && !(current as { flow?: boolean }).flow; guard++) {
    const items = (current as { items: unknown[] }).items;
    if (items.length === 0) break;
    const last = items[items.length - 1];
    const next: unknown = isPair(last) ? (last.value ?? last.key) : last;
    if (isPair(last) && isScalar(last.value) && last.value.range && last.value.range[0] === last.value.range[1] && isScalar(last.key) && last.key.range) {
      // `key:` with no value: the pair ends at the key (plus its colon).
      end = last.key.range[1];
      break;
    }
    if (!isNodeLike(next) || !(next as Node).range) break;
    end = (next as Node).range![1];
    current = next;
  }
  return [start, Math.max(start, end)];
}
