/**
 * Reads a recipe's YAML into a Recipe (parsedRecipe.ts: the data plus a source map, every node keeps its
 * range, so any problem can point at the exact key or value). Never throws: anything wrong comes back as a Problem.
 *
 * Guards against hostile or accidental input (inputGuards.ts): a size cap, binary detection, a nesting cap
 * (checked without recursion) and an alias-expansion cap (a "billion laughs" document stops early).
 */
import { isMap, YAMLParseError, type Document } from 'yaml';
import { LineIndex } from './lineIndex';
import { parseRecipeYaml } from './yamlParse';
import type { Problem, Severity } from './problem';
import { aliasNumber, duplicateKeys, findControlCharacter, findTooDeep, firstAlias, MAX_ALIAS_COUNT, MAX_ALIASES, MAX_NESTING, MAX_RECIPE_BYTES } from './inputGuards';
import { keyText, Recipe } from './parsedRecipe';

export { MAX_ALIAS_COUNT, MAX_ALIASES, MAX_NESTING, MAX_RECIPE_BYTES } from './inputGuards';
export { contentOffsets, keyText, Recipe, type RangePart, type ScalarValue } from './parsedRecipe';

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

/** Keys only a recipe has at its top level: a file with one of them but no `compose:` is a broken recipe. */
const RECIPE_ONLY_KEYS = ['base', 'library', 'target', 'retrieve', 'weights', 'merge', 'evaluate'];

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

  // uniqueKeys: the yaml package compares each key with every earlier key of its mapping (quadratic: a
  // 1 MB recipe of 100,000 keys took minutes, and froze the editor); duplicateKeys finds them in one pass
  const document = parseRecipeYaml(text, { uniqueKeys: false, prettyErrors: false, stringKeys: true, strict: true });
  parsed.yaml = document;
  const problems: Problem[] = [];
  for (const offset of duplicateKeys(document.contents)) document.errors.push(new YAMLParseError([offset, offset + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
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

  const tooManyAliases = aliasNumber(root, MAX_ALIASES + 1);
  if (tooManyAliases) {
    const [s, end] = tooManyAliases.range ?? [0, 0];
    problems.push(located(lines, 'error', 'alias-limit', `the recipe holds more than ${MAX_ALIASES} aliases (\`*name\`); a recipe needs a few`, s, end));
    return { problems };
  }
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

