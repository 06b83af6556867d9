/**
 * Reads a recipe's YAML into data plus a source map: every node keeps its range, so any problem can
 * point at the exact key or value. Never throws: anything wrong comes back as a Problem.
 *
 * Guards against hostile or accidental input: a size cap, binary detection, a nesting cap (checked
 * without recursion) and an alias-expansion cap (a "billion laughs" document stops early).
 */
import { isAlias, isMap, isPair, isScalar, isSeq, isCollection, type Document, type Node, type Pair } from 'yaml';
import type { SourceLocation } from '../errors';
import { LineIndex } from './lineIndex';
import { parseRecipeYaml } from './yamlParse';
import type { Position, Problem, Range, RecipePath, Severity } from './problem';
import { applyDefaults, type RecipeSpec } from './spec';

/** Real recipes are a few KB; yaml needs seconds for multi-MB scalars, which an editor cannot wait for. */
export const MAX_RECIPE_BYTES = 1024 * 1024;
/** Far deeper than any recipe; low enough that no walker can run out of stack. */
export const MAX_NESTING = 64;
/** How many nodes alias expansion may produce, per alias (yaml's own guard). */
export const MAX_ALIAS_COUNT = 100;

export interface ParseResult {
  /** Present when the text is a YAML mapping with a `compose:` key and no YAML errors. */
  recipe?: Recipe;
  problems: Problem[];
  /** The file is not a recipe (e.g. a Docker Compose file); `problems` holds one information note. */
  notARecipe?: boolean;
  /** The YAML document, when the text got as far as being parsed (the editor's structure reuses it). */
  yaml?: Document.Parsed;
  /** What was parsed: checkRecipe reuses this result only for the same text and file. */
  of?: { text: string; file: string };
}

export type RangePart = 'value' | 'key' | 'pair';

/** Keys only a recipe has at its top level: a file with one of them but no `compose:` is a broken recipe. */
const RECIPE_ONLY_KEYS = ['base', 'library', 'target', 'retrieve', 'weights', 'merge', 'evaluate'];

/** A parsed recipe: the raw data, the typed spec (defaults filled) and the source map. */
export class Recipe {
  readonly lines: LineIndex;
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
        pair = node.items.find((p) => keyText(p.key) === String(segment));
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

  private resolveAlias(node: unknown): unknown {
    let n = node;
    for (let i = 0; isAlias(n) && i < MAX_NESTING; i++) n = n.resolve(this.document);
    return n;
  }
}

/** Parses a recipe. Never throws. */
export function parseRecipe(text: string, file: string): ParseResult {
  const source = String(text ?? '');
  const parsed: { yaml?: Document.Parsed } = {};
  try {
    return { ...parseUnguarded(source, file, parsed), ...parsed, of: { text: source, file } };
  } catch (e) {
    // A bug or an exhausted stack in a dependency must not take the language server down.
    const message = e instanceof Error ? e.message : String(e);
    return { problems: [documentProblem('error', 'internal', `could not read the recipe: ${message}`)], of: { text: source, file } };
  }
}

function parseUnguarded(text: string, file: string, parsed: { yaml?: Document.Parsed }): ParseResult {
  if (text.length > MAX_RECIPE_BYTES || Buffer.byteLength(text, 'utf8') > MAX_RECIPE_BYTES) {
    const mb = (Buffer.byteLength(text, 'utf8') / 1024 / 1024).toFixed(1);
    return { problems: [documentProblem('error', 'too-large', `the recipe is ${mb} MB; a recipe may be at most ${MAX_RECIPE_BYTES / 1024 / 1024} MB`)] };
  }
  const lines = new LineIndex(text);
  const control = findControlCharacter(text);
  if (control) {
    if (control.binary) return { problems: [documentProblem('error', 'binary', 'the file is binary, not YAML text')] };
    const code = text.charCodeAt(control.offset).toString(16).toUpperCase().padStart(4, '0');
    return { problems: [located(lines, 'error', 'yaml-syntax', `control character U+${code} is not allowed in YAML`, control.offset, control.offset + 1)] };
  }

  const document = parseRecipeYaml(text, { uniqueKeys: true, prettyErrors: false, stringKeys: true, strict: true });
  parsed.yaml = document;
  const problems: Problem[] = [];
  for (const e of document.errors) {
    const code = e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : e.code === 'RESOURCE_EXHAUSTION' ? 'too-deep' : 'yaml-syntax';
    const message =
      e.code === 'RESOURCE_EXHAUSTION' ? `the document nests too deeply to read (${e.message})` : e.code === 'DUPLICATE_KEY' ? 'duplicate key: keys of a mapping must be unique' : firstLine(e.message);
    problems.push(located(lines, 'error', code, message, e.pos[0], e.pos[1]));
  }
  for (const w of document.warnings) problems.push(located(lines, 'warning', 'yaml-warning', firstLine(w.message), w.pos[0], w.pos[1]));
  // Duplicate keys leave a readable document (the last one wins): keep checking the rest.
  if (document.errors.some((e) => e.code !== 'DUPLICATE_KEY')) {
    if (!looksLikeRecipeText(text)) return notARecipe();
    return { problems };
  }

  const tooDeep = findTooDeep(document.contents);
  if (tooDeep) {
    const [s, e] = tooDeep.range ?? [0, 0];
    problems.push(located(lines, 'error', 'too-deep', `the document nests deeper than ${MAX_NESTING} levels; a recipe needs only a few`, s, Math.min(e, s + 1)));
    return { problems };
  }

  const root = document.contents;
  if (!isMap(root)) return notARecipe(root === null ? 'the file is empty; ' : '');
  const hasCompose = root.items.some((p) => keyText(p.key) === 'compose');
  const recipeKeys = root.items.filter((p) => RECIPE_ONLY_KEYS.includes(keyText(p.key) ?? ''));
  const isDockerCompose = root.items.some((p) => keyText(p.key) === 'services');
  if (!hasCompose && (recipeKeys.length === 0 || isDockerCompose)) return notARecipe();

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError || (e instanceof Error && /alias/i.test(e.message))) {
      const alias = firstAlias(root);
      const [s, end] = alias?.range ?? [0, 0];
      problems.push(located(lines, 'error', 'alias-limit', `aliases expand into too many nodes (limit ${MAX_ALIAS_COUNT} per alias); is this a "billion laughs" document?`, s, end));
      return { problems };
    }
    throw e;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return notARecipe();

  const recipe = new Recipe(file, text, document, data as Record<string, unknown>, lines);
  if (!hasCompose) {
    const where = recipe.offsetsOf([keyText(recipeKeys[0].key) as string], 'key') ?? [0, 0];
    problems.push({
      ...located(lines, 'error', 'missing-key', 'missing `compose: 1` at the top: it marks the file as an Adapter Composer recipe', where[0], where[1]),
      path: ['compose'],
      data: { insert: 'compose: 1\n', insertAt: { line: 0, character: 0 } },
    });
  }
  return { recipe, problems };
}

function notARecipe(prefix = ''): ParseResult {
  return {
    notARecipe: true,
    problems: [documentProblem('information', 'not-a-recipe', `${prefix}not an Adapter Composer recipe (no \`compose:\` key); skipped`)],
  };
}

/** When YAML errors hide the structure: does the text still look like a recipe (vs. some other YAML)? */
function looksLikeRecipeText(text: string): boolean {
  if (/^["']?compose["']?[ \t]*:/m.test(text)) return true;
  if (/^services[ \t]*:/m.test(text)) return false;
  return new RegExp(`^(${RECIPE_ONLY_KEYS.join('|')})[ \\t]*:`, 'm').test(text);
}

function documentProblem(severity: Severity, code: string, message: string): Problem {
  return { severity, code, message, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
}

function located(lines: LineIndex, severity: Severity, code: string, message: string, start: number, end: number): Problem {
  return { severity, code, message, range: lines.rangeOf(start, end) };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * NUL, or many control characters, means binary. A few stray ones are a syntax error at the first.
 * Tab, LF, CR and NEL are allowed, as YAML allows them.
 */
function findControlCharacter(text: string): { offset: number; binary: boolean } | undefined {
  let first = -1;
  let count = 0;
  const n = Math.min(text.length, 1 << 16);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const bad = (c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127 || c === 0xfffe || c === 0xffff;
    if (!bad) continue;
    if (c === 0) return { offset: i, binary: true };
    if (first < 0) first = i;
    if (i < n) count++;
  }
  if (first < 0) return undefined;
  return { offset: first, binary: count > 8 && count > n / 100 };
}

/** The first node nested deeper than MAX_NESTING, found without recursion. */
function findTooDeep(root: unknown): Node | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth >= MAX_NESTING) return node;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        stack.push({ node: item.key, depth: depth + 1 });
        stack.push({ node: item.value, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

function firstAlias(root: unknown): Node | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) return node;
    if (isCollection(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i];
        if (isPair(item)) stack.push(item.value, item.key);
        else stack.push(item);
      }
    }
  }
  return undefined;
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
