/**
 * The text of a new recipe (`adapter-composer new`, the editor's "New Composition Recipe…"): every block
 * with a comment saying what it does, the schema's defaults written out, and the library's base model
 * filled in. Pure: the caller resolves paths and reads the library.
 */
import composeSchema from '../../../../schemas/compose.schema.json';
import { DEFAULT_RHO } from '../weights/sparse';
import { oneLine } from './problem';

export interface RecipeTemplateOptions {
  name: string;
  /** The library as the recipe should name it (relative to the recipe, or a URI). */
  library: string;
  base: string;
  /** Other bases the library holds (listed in a comment). */
  otherBases?: string[];
  /** How the target is given, and the value as the recipe should write it. */
  target: { kind: 'samples' | 'features' | 'prototype' | 'text'; value: string };
  strategy?: string;
  /** Output folder as the recipe should name it (default ./out/<name>). */
  output?: string;
  /** How many adapters of `base` the library holds: k is capped there (a larger k is flagged by check). */
  adaptersOfBase?: number;
}

type SchemaNode = { default?: unknown; properties?: Record<string, SchemaNode> };
const schema = composeSchema as unknown as SchemaNode;

/** The schema's default at a path (e.g. ['retrieve', 'k']). */
export function schemaDefault(path: string[]): unknown {
  let node: SchemaNode | undefined = schema;
  for (const p of path) node = node?.properties?.[p];
  return node?.default;
}

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  // JSON leaves U+2028/9 raw; YAML's double-quoted \u escapes name them too
  return /^[A-Za-z0-9_./@*+-][A-Za-z0-9_./@*+ -]*$/.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) && !/^[-+]?[\d.]/.test(s) ? s : JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

export function recipeTemplate(o: RecipeTemplateOptions): string {
  const d = (p: string[]) => scalar(schemaDefault(p));
  const strategy = o.strategy ?? String(schemaDefault(['weights', 'strategy']));
  const lines = [
    `# ${o.name}: an Adapter Composer recipe (made by \`adapter-composer new\`).`,
    '# Check it with `adapter-composer check`, preview with `plan`, write the composite with `compose`.',
    'compose: 1',
    `name: ${scalar(o.name)}`,
    '# The base model every adapter must be for; adapters of other bases are never retrieved.',
    // the bases come from the library's rows (another tool's, a pull request's): a line break in one
    // would end the comment and write keys of its own into the recipe
    ...(o.otherBases?.length ? [`# The library also holds: ${o.otherBases.map(oneLine).join(', ')}.`] : []),
    `base: ${scalar(o.base)}`,
    '# The adapter library (a LanceDB folder relative to this file, or a URI).',
    `library: ${scalar(o.library)}`,
    '# What the composite should be good at: exactly one of samples, features, prototype, text.',
    'target:',
    `  ${o.target.kind}: ${scalar(o.target.value)}`,
    'retrieve:',
    '  # How many adapters nearest the target (by prototype distance) to combine.',
    ...kLines(Number(schemaDefault(['retrieve', 'k'])), o.adaptersOfBase),
    '  # Adapters never to retrieve (names from the library).',
    '  exclude: []',
    'weights:',
    '  # avg | sim | lin | sparse | convex | nearest | manual',
    `  strategy: ${scalar(strategy)}`,
    '  # sparse only — its L1 penalty, scale-free: λ = ρ·λ* (ρ = 0 is lin, ρ ≥ 1 is convex). Or `lambda: x` (absolute)',
    '  # or `lambda: auto` (ρ chosen by leave-one-out on the library), not together with rho.',
    `  # rho: ${DEFAULT_RHO}`,
    'merge:',
    '  # cat: stack the factors exactly (rank Σrᵢ); svd: one low-rank adapter of `rank` (the plan shows the',
    '  # loss first); ties | dare_linear | dare_ties | magnitude_prune: entry-wise, with density and rank.',
    `  method: ${d(['merge', 'method'])}`,
    `  # rank: ${d(['merge', 'rank'])}   # svd and the entry-wise methods only`,
    `  dtype: ${d(['merge', 'dtype'])}`,
    '  # Adapters with fully trained modules (PEFT modules_to_save, e.g. a classifier head) are refused unless',
    '  # this says drop (the base model\'s own weights) or average (weighted like the adapters).',
    `  # modules_to_save: ${d(['merge', 'modules_to_save'])}   # refuse | drop | average`,
    '# Where the composite PEFT adapter is written (compose replaces this folder as a whole).',
    `output: ${scalar(o.output ?? `./out/${o.name}`)}`,
  ];
  return lines.join('\n') + '\n';
}

/** `k:` at the schema's default, or at the number of adapters of the base when the library holds fewer. */
function kLines(fallback: number, available: number | undefined): string[] {
  if (available === undefined || available >= fallback || available < 1) return [`  k: ${fallback}`];
  return [`  k: ${available}   # the library holds ${available} adapter${available === 1 ? '' : 's'} of this base (default ${fallback})`];
}
