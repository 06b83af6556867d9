/**
 * Validates recipe data against schemas/compose.schema.json with ajv and turns every ajv error into a
 * Problem on the exact node: a wrong type on the value, an unknown key on the key (with did-you-mean),
 * a missing key on its parent's key, an invalid enum value on the value (with did-you-mean).
 *
 * Size (~360 lines): one concern, the mapping from each ajv error keyword (anyOf, additionalProperties,
 * required, enum, const, type, the bounds, uniqueItems, pattern, …) to the node it points at and the
 * sentence it says. The class is that switch; the helpers under it (a path's label, where a stray key
 * belongs, an expected type or a value in words) serve only it, and split apart the messages would be
 * worded in files that have to agree with each other.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import composeSchema from '../../../../schemas/compose.schema.json';
import { closestMatch } from './didYouMean';
import type { Recipe } from './parse';
import type { Problem, ProblemData, RecipePath, Severity } from './problem';
import { TARGET_SOURCES } from './spec';

type SchemaNode = {
  title?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
  minimum?: number;
  exclusiveMinimum?: number;
  [k: string]: unknown;
};

export const COMPOSE_SCHEMA = composeSchema as unknown as SchemaNode;

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    // validateSchema: false — the bundled schema is checked against the 2020-12 meta-schema by
    // test/recipe/schema.test.ts; compiling the meta-schema here was half of the first plan's schema cost.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictNumbers: true, logger: false, validateSchema: false });
    ajv.addKeyword('markdownDescription');
    ajv.addKeyword('markdownEnumDescriptions'); // per-value docs for editors (completion, hover), not a constraint
    compiled = ajv.compile(COMPOSE_SCHEMA);
  }
  return compiled;
}

/** Greek names for the parameters the method's papers call λ and τ. */
const SYMBOLS = new Map([
  ['weights.lambda', 'λ'],
  ['weights.rho', 'ρ'],
  ['weights.temperature', 'τ'],
]);

/** Schema problems of a parsed recipe. Never throws. */
export function schemaProblems(recipe: Recipe): Problem[] {
  const validate = validator();
  if (validate(recipe.data)) return [];
  const errors = validate.errors ?? [];
  const problems: Problem[] = [];
  const mapper = new ErrorMapper(recipe, errors, problems);
  for (const e of errors) if (!mapper.insideAnyOf(e)) mapper.map(e);
  mapper.targetSources();
  return dedupe(problems);
}

class ErrorMapper {
  constructor(
    private readonly recipe: Recipe,
    private readonly errors: ErrorObject[],
    private readonly out: Problem[],
  ) {}

  /** The schema paths of the anyOf errors, made once (one search per error was quadratic in the errors). */
  private anyOfPaths?: Set<string>;

  /** Whether an anyOf error's schema path is a proper prefix of this error's (one of its branches failed). */
  insideAnyOf(e: ErrorObject): boolean {
    this.anyOfPaths ??= new Set(this.errors.filter((a) => a.keyword === 'anyOf').map((a) => a.schemaPath));
    for (let i = e.schemaPath.indexOf('/'); i >= 0; i = e.schemaPath.indexOf('/', i + 1)) {
      if (this.anyOfPaths.has(e.schemaPath.slice(0, i))) return true;
    }
    return false;
  }

  map(e: ErrorObject): void {
    const path = this.pathOf(e.instancePath);
    const label = labelOf(path);
    const value = e.data;
    const parent = (e.parentSchema ?? {}) as SchemaNode;
    switch (e.keyword) {
      case 'anyOf':
        return this.mapAnyOf(e, path, value, parent);
      case 'additionalProperties':
        return this.unknownKey(path, String((e.params as { additionalProperty: string }).additionalProperty), parent);
      case 'required': {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        if (path.length === 0 && missing === 'compose') return; // parseRecipe reports it, with a quick fix.
        const title = parent.properties?.[missing]?.title;
        const where = path.length === 0 ? 'the recipe' : `\`${label}\``;
        const range = path.length === 0 ? this.recipe.documentStartRange() : this.recipe.problemRange(path, 'key');
        this.push('error', 'missing-key', `${where} is missing required key \`${missing}\`${title ? ` (${title.toLowerCase()})` : ''}`, [...path, missing], range, { missingKey: missing });
        return;
      }
      case 'enum': {
        const allowed = (parent.enum ?? []).map(String);
        const suggestion = typeof value === 'string' ? closestMatch(value, allowed) : undefined;
        const shown = typeof value === 'string' ? `\`${value}\`` : JSON.stringify(value);
        const hint = suggestion ? ` — did you mean \`${suggestion}\`?` : '';
        this.push('error', 'invalid-value', `${shown} is not a valid \`${label}\`${hint} (allowed: ${allowed.join(', ')})`, path, this.recipe.problemRange(path), {
          ...(suggestion ? { suggestion } : {}),
          allowed,
        });
        return;
      }
      case 'const': {
        if (path.length === 1 && path[0] === 'compose') {
          const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
          const message =
            typeof value === 'number' && Number.isInteger(value) && value > 1
              ? `unsupported recipe format ${value}; this tool reads format 1`
              : `\`compose\` must be 1 (the recipe format), not ${value === null ? 'empty' : shown}`;
          this.push('error', 'unsupported-format', message, path, this.recipe.problemRange(path), { suggestion: '1' });
          return;
        }
        this.push('error', 'invalid-value', `\`${label}\` must be ${JSON.stringify(parent.const)}`, path, this.recipe.problemRange(path));
        return;
      }
      case 'type':
        return this.wrongType(path, value, expectedText(parent));
      case 'minimum':
      case 'exclusiveMinimum':
      case 'maximum':
      case 'exclusiveMaximum': {
        const { comparison, limit } = e.params as { comparison: string; limit: number };
        const sym = SYMBOLS.get(label);
        const name = sym ? `${sym} (\`${label}\`)` : `\`${label}\``;
        this.push('error', 'out-of-range', `${name} must be ${comparison.replace('>=', '≥').replace('<=', '≤')} ${limit} (got ${formatValue(value)})`, path, this.recipe.problemRange(path), {
          limit,
        });
        return;
      }
      case 'minLength':
        this.push('error', 'invalid-value', `\`${label}\` must not be empty`, path, this.recipe.problemRange(path));
        return;
      case 'minItems':
        this.push('error', 'invalid-value', `\`${label}\` must list at least ${(e.params as { limit: number }).limit}`, path, this.recipe.problemRange(path));
        return;
      case 'minProperties':
      case 'maxProperties':
        if (path.length === 1 && path[0] === 'target') return; // targetSources() explains these better.
        this.push('error', 'invalid-value', `\`${label}\` must not be empty`, path, this.recipe.problemRange(path));
        return;
      case 'uniqueItems': {
        const j = (e.params as { j: number }).j;
        const item: unknown = Array.isArray(value) ? value[j] : undefined;
        this.push('warning', 'duplicate-item', `\`${label}\` lists ${formatValue(item)} twice`, [...path, j], this.recipe.problemRange([...path, j]));
        return;
      }
      case 'pattern':
        if (label === 'name') {
          this.push('error', 'invalid-value', '`name` must not contain spaces or slashes: it names the composite adapter and its folder', path, this.recipe.problemRange(path));
          return;
        }
        this.push('error', 'invalid-value', `\`${label}\` ${e.message ?? 'is invalid'}`, path, this.recipe.problemRange(path));
        return;
      default:
        this.push('error', 'schema', `\`${label || 'recipe'}\` ${e.message ?? 'is invalid'}`, path, this.recipe.problemRange(path));
    }
  }

  /** `target` needs exactly one known source; unknown keys are reported by additionalProperties. */
  targetSources(): void {
    const target = this.recipe.data.target;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return;
    const keys = Object.keys(target);
    const given = TARGET_SOURCES.filter((s) => keys.includes(s));
    const sourceList = '`samples`, `features`, `prototype` or `text`';
    if (given.length === 0 && keys.length === 0) {
      this.push('error', 'target-sources', `\`target\` needs one of ${sourceList}`, ['target'], this.recipe.problemRange(['target'], 'key'));
    }
    for (const extra of given.slice(1)) {
      this.push(
        'error',
        'target-sources',
        `\`target\` gives both \`${given[0]}\` and \`${extra}\`; give exactly one of ${sourceList}`,
        ['target', extra],
        this.recipe.problemRange(['target', extra], 'key'),
      );
    }
  }

  private mapAnyOf(e: ErrorObject, path: RecipePath, value: unknown, parent: SchemaNode): void {
    const branches = parent.anyOf ?? [];
    const matching = branches.findIndex((b) => branchAccepts(b, value));
    if (matching >= 0) {
      const prefix = `${e.schemaPath}/${matching}/`;
      const sub = this.errors.filter((s) => s.schemaPath.startsWith(prefix));
      for (const s of sub) if (!sub.some((a) => a !== s && a.keyword === 'anyOf' && s.schemaPath.startsWith(a.schemaPath + '/'))) this.map(s);
      if (sub.length > 0) return;
    }
    const consts = branches.filter((b) => typeof b.const === 'string').map((b) => b.const as string);
    const suggestion = typeof value === 'string' ? closestMatch(value, consts) : undefined;
    this.wrongType(path, value, branches.map(expectedText).join(' or '), suggestion);
  }

  private wrongType(path: RecipePath, value: unknown, expected: string, suggestion?: string): void {
    const label = labelOf(path);
    const range = this.recipe.problemRange(path);
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const sym = SYMBOLS.get(label);
      this.push('error', 'non-finite', `${sym ? `${sym} (\`${label}\`)` : `\`${label}\``} must be a finite number (got ${formatValue(value)})`, path, range);
      return;
    }
    if (value === null || value === undefined) {
      this.push('error', 'wrong-type', `\`${label}\` has no value; expected ${expected}`, path, range);
      return;
    }
    let message = `\`${label}\` must be ${expected} (got ${describe(value)})`;
    const data: ProblemData = {};
    if (suggestion) {
      message += ` — did you mean \`${suggestion}\`?`;
      data.suggestion = suggestion;
    }
    if (label === 'evaluate.command' && typeof value === 'string') {
      const argv = value.trim().split(/\s+/).filter(Boolean);
      message += '; give an argv list, never a shell string';
      if (argv.length > 0) data.suggestion = `[${argv.map(flowScalar).join(', ')}]`;
    }
    this.push('error', 'wrong-type', message, path, range, Object.keys(data).length > 0 ? data : undefined);
  }

  private unknownKey(parentPath: RecipePath, key: string, parent: SchemaNode): void {
    const allowed = Object.keys(parent.properties ?? {});
    const suggestion = closestMatch(key, allowed);
    const path = [...parentPath, key];
    const range = this.recipe.problemRange(path, 'key');
    let message = `unknown key \`${key}\``;
    if (suggestion) message += ` — did you mean \`${suggestion}\`?`;
    else {
      const home = homeOf(key);
      if (home && home !== labelOf(parentPath)) message += ` — it belongs under \`${home}:\``;
      else message += ` (allowed${parentPath.length ? ` in \`${labelOf(parentPath)}\`` : ''}: ${allowed.join(', ')})`;
    }
    this.push('error', 'unknown-key', message, path, range, { ...(suggestion ? { suggestion } : {}), allowed });
  }

  private push(severity: Severity, code: string, message: string, path: RecipePath, range: Problem['range'], data?: ProblemData): void {
    this.out.push({ severity, code, message, range, path, ...(data ? { data } : {}) });
  }

  /** JSON pointer → path, with numeric segments where the data is an array. */
  private pathOf(pointer: string): RecipePath {
    if (!pointer) return [];
    const path: RecipePath = [];
    let here: unknown = this.recipe.data;
    for (const raw of pointer.slice(1).split('/')) {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(here) && /^\d+$/.test(seg)) {
        path.push(Number(seg));
        here = here[Number(seg)];
      } else {
        path.push(seg);
        here = here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[seg] : undefined;
      }
    }
    return path;
  }
}

/** `weights.lambda`, `evaluate.command[0]`. */
export function labelOf(path: RecipePath): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

/** Where a key that is unknown here is defined elsewhere in the schema (for "it belongs under"). */
function homeOf(key: string): string | undefined {
  for (const [section, sub] of Object.entries(COMPOSE_SCHEMA.properties ?? {})) {
    if (sub.properties && Object.hasOwn(sub.properties, key)) return section;
  }
  if (COMPOSE_SCHEMA.properties && Object.hasOwn(COMPOSE_SCHEMA.properties, key)) return '(top level)';
  return undefined;
}

function branchAccepts(branch: SchemaNode, value: unknown): boolean {
  if (branch.const !== undefined) return typeof branch.const === typeof value && (typeof value !== 'string' || branch.const === value);
  const types = branch.type === undefined ? [] : Array.isArray(branch.type) ? branch.type : [branch.type];
  return types.some((t) => jsonTypeMatches(t, value));
}

function jsonTypeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'null':
      return value === null;
    default:
      return false;
  }
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  integer: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function expectedText(schema: SchemaNode): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return `one of ${schema.enum.map(String).join(', ')}`;
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  let text = types.map((t) => TYPE_WORDS[t] ?? t).join(' or ') || 'a valid value';
  if (typeof schema.minimum === 'number') text += ` ≥ ${schema.minimum}`;
  if (typeof schema.exclusiveMinimum === 'number') text += ` > ${schema.exclusiveMinimum}`;
  if (types.includes('array') && schema.items && typeof (schema.items as SchemaNode).type === 'string') {
    text += ` of ${String((schema.items as SchemaNode).type)}s`;
  }
  return text;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  return String(value);
}

/** A value as YAML writes it (NaN and ∞ as .nan / .inf). */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (value === Infinity) return '.inf';
    if (value === -Infinity) return '-.inf';
    return String(value);
  }
  if (typeof value === 'string') return `\`${value}\``;
  return JSON.stringify(value) ?? String(value);
}

/** A flow-context YAML scalar: plain when safe, else double-quoted. */
function flowScalar(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) ? s : JSON.stringify(s);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.code}|${p.message}|${p.range.start.line}:${p.range.start.character}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
