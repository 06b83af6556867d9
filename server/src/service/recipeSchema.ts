/**
 * Reads the recipe's JSON Schema (schemas/compose.schema.json) for the editor: which keys exist at a
 * path, their descriptions, examples and enum values. Follows local $refs and anyOf/oneOf/allOf.
 */
import type { YamlPath } from './recipeDocument';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  markdownDescription?: string;
  title?: string;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  required?: string[];
  enum?: unknown[];
  enumDescriptions?: string[];
  markdownEnumDescriptions?: string[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  definitions?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
  [extra: string]: unknown;
}

/** The bundled recipe schema (esbuild inlines the JSON). Undefined if it cannot be loaded. */
export function loadRecipeSchema(): JsonSchema | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON file, inlined by esbuild; the try keeps a missing file a soft failure
    return require('../../../schemas/compose.schema.json') as JsonSchema;
  } catch {
    return undefined;
  }
}

export interface EnumChoice {
  value: unknown;
  description?: string;
}

export class RecipeSchema {
  constructor(readonly root: JsonSchema) {}

  /** Every schema that may describe the value at `path` (alternatives flattened, refs resolved). */
  at(path: YamlPath): JsonSchema[] {
    let current = this.expand(this.root);
    for (const segment of path) {
      const next: JsonSchema[] = [];
      for (const s of current) next.push(...this.child(s, segment));
      current = next.flatMap((s) => this.expand(s));
      if (current.length === 0) break;
    }
    return current;
  }

  /** Keys allowed in the map at `path`, each with its (first) schema. */
  properties(path: YamlPath): Map<string, JsonSchema> {
    const keys = new Map<string, JsonSchema>();
    for (const s of this.at(path)) {
      for (const [name, sub] of Object.entries(s.properties ?? {})) if (!keys.has(name)) keys.set(name, sub);
    }
    return keys;
  }

  required(path: YamlPath): string[] {
    const out = new Set<string>();
    for (const s of this.at(path)) for (const r of s.required ?? []) out.add(r);
    return [...out];
  }

  /** Enum / const / boolean values allowed at `path`, with their descriptions when the schema has them. */
  choices(path: YamlPath): EnumChoice[] {
    const out: EnumChoice[] = [];
    const seen = new Set<string>();
    const add = (value: unknown, description?: string) => {
      const id = JSON.stringify(value);
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ value, description });
    };
    const visit = (s: JsonSchema) => {
      const descriptions = s.markdownEnumDescriptions ?? s.enumDescriptions;
      s.enum?.forEach((v, i) => add(v, descriptions?.[i]));
      if ('const' in s) add(s.const, s.description);
      const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
      if (types.includes('boolean')) {
        add(true);
        add(false);
      }
    };
    // The path's own alternatives (anyOf/oneOf were already flattened by expand()).
    for (const s of this.at(path)) visit(s);
    return out;
  }

  /** Markdown documentation of a schema: description, range, default, examples. */
  documentation(schemas: JsonSchema[]): string {
    const parts: string[] = [];
    const description = schemas.map((s) => s.markdownDescription ?? s.description).find((d) => d);
    if (description) parts.push(description);
    const facts: string[] = [];
    for (const s of schemas) {
      const types = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
      if (types && !facts.some((f) => f.startsWith('type'))) facts.push(`type: \`${types}\``);
      if (s.enum && !facts.some((f) => f.startsWith('one of'))) facts.push(`one of: ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`);
      const lower = s.minimum ?? s.exclusiveMinimum;
      const upper = s.maximum ?? s.exclusiveMaximum;
      if ((lower !== undefined || upper !== undefined) && !facts.some((f) => f.startsWith('range'))) {
        const lo = lower === undefined ? '' : `${s.exclusiveMinimum !== undefined ? '>' : '≥'} ${lower}`;
        const hi = upper === undefined ? '' : `${s.exclusiveMaximum !== undefined ? '<' : '≤'} ${upper}`;
        facts.push(`range: ${[lo, hi].filter(Boolean).join(', ')}`);
      }
      if (s.default !== undefined && !facts.some((f) => f.startsWith('default'))) facts.push(`default: \`${JSON.stringify(s.default)}\``);
    }
    if (facts.length) parts.push(facts.join(' · '));
    // The same schema can arrive twice (a property and the definition it refers to): each example once.
    const seen = new Set<string>();
    const examples = schemas.flatMap((s) => s.examples ?? []).filter((e) => {
      const key = JSON.stringify(e);
      return seen.has(key) ? false : (seen.add(key), true);
    });
    if (examples.length) {
      parts.push('Examples:\n' + examples.slice(0, 4).map((e) => '```yaml\n' + exampleText(e) + '\n```').join('\n'));
    }
    return parts.join('\n\n');
  }

  private child(s: JsonSchema, segment: string | number): JsonSchema[] {
    if (typeof segment === 'number') {
      if (Array.isArray(s.items)) return s.items[segment] ? [s.items[segment]] : [];
      return s.items ? [s.items] : [];
    }
    const direct = s.properties?.[segment];
    if (direct) return [direct];
    const out: JsonSchema[] = [];
    for (const [pattern, sub] of Object.entries(s.patternProperties ?? {})) {
      try {
        if (new RegExp(pattern, 'u').test(segment)) out.push(sub);
      } catch {
        // An invalid pattern in the schema matches nothing.
      }
    }
    if (out.length === 0 && s.additionalProperties && typeof s.additionalProperties === 'object') out.push(s.additionalProperties);
    return out;
  }

  /** Resolves $ref and flattens anyOf/oneOf/allOf into the list of alternatives. */
  private expand(s: JsonSchema, depth = 0): JsonSchema[] {
    if (depth > 16 || !s || typeof s !== 'object') return [];
    if (s.$ref) {
      const target = this.resolve(s.$ref);
      const { $ref: _ref, ...rest } = s;
      const merged = target ? { ...target, ...rest } : rest;
      return this.expand(merged, depth + 1);
    }
    const alternatives = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
    if (alternatives.length === 0) return [s];
    const { anyOf: _a, oneOf: _o, allOf: _l, ...own } = s;
    return [own, ...alternatives.flatMap((a) => this.expand(a, depth + 1))];
  }

  private resolve(ref: string): JsonSchema | undefined {
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!node || typeof node !== 'object') return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node as JsonSchema | undefined;
  }
}

function exampleText(e: unknown): string {
  if (typeof e === 'string') return e;
  return JSON.stringify(e);
}
