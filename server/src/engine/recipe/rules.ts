/**
 * The kinds of problem a recipe can have, by their stable `code` — the rule ids of `check --format
 * sarif` (code scanning) and the titles of `check --format github`. A code is never renamed: CI
 * configurations and suppressions refer to it. Codes not listed here (e.g. a ComposerError code
 * passed through from the engine) still get a rule, with a generic description.
 */
export interface Rule {
  id: string;
  /** One sentence, no trailing period (SARIF shortDescription). */
  description: string;
}

const DESCRIPTIONS: Record<string, string> = {
  // Reading the file (parse.ts)
  'yaml-syntax': 'The file is not valid YAML',
  'yaml-warning': 'YAML construct that parses but is probably a mistake',
  'duplicate-key': 'A key appears twice in one mapping',
  'too-deep': 'The YAML nesting is too deep to read safely',
  'alias-limit': 'YAML aliases expand into too many nodes',
  binary: 'The file is binary, not YAML text',
  'too-large': 'The file is too large to be a recipe',
  'not-a-recipe': 'A *.compose.yaml without a `compose:` key (skipped)',
  // Schema (schemaCheck.ts)
  'unsupported-format': 'The recipe format (`compose:`) is not one this version reads',
  'unknown-key': 'A key the recipe schema does not define',
  'missing-key': 'A required key is missing',
  'wrong-type': 'A value has the wrong type',
  'invalid-value': 'A value is not one of the allowed values',
  'out-of-range': 'A number is outside its allowed range',
  'non-finite': 'A number is NaN or infinite',
  'target-sources': 'The target must give exactly one of samples, features, prototype or text',
  'duplicate-item': 'A list holds the same item twice',
  schema: 'The recipe does not match its schema',
  // Semantics (semanticCheck.ts, workspaceConfinement.ts)
  'manual-missing': '`weights.manual` is required by strategy manual',
  'manual-sum': 'Manual weights do not sum to 1',
  'manual-excluded': 'A manual weight names an excluded adapter',
  'manual-not-candidate': 'A manual weight names an adapter that is not a candidate',
  'pinned-excluded': 'An adapter is both pinned and excluded',
  'unused-parameter': 'A parameter has no effect with this strategy',
  'unknown-placeholder': 'An evaluator argument uses an unknown {placeholder}',
  'output-in-library': 'The output folder is inside the library',
  'output-is-recipe-folder': 'The output folder is the recipe\'s own folder',
  'output-outside-workspace': 'The output folder is outside the workspace',
  'default-library': 'No `library:` given; the default is used',
  // Against the library (planner/libraryChecks.ts, planner/plan.ts)
  library: 'The library cannot be opened or queried',
  'empty-library': 'The library holds no adapters',
  'unknown-adapter': 'No adapter of that name in the library',
  'unknown-base': 'No adapter in the library is for this base model',
  'base-mismatch': 'An adapter is for another base model',
  'no-candidates': 'No adapter is left to compose from',
  'k-too-large': 'k is larger than the number of candidates',
  where: 'The `retrieve.where` filter is not valid SQL for the library',
  'no-target': 'The recipe gives no target',
  target: 'The target cannot be read',
  'missing-file': 'A file the recipe names does not exist',
  'no-encoder': 'The target needs an encoder and the library has none',
  'text-target': 'A text target needs an encoder with a text input',
  dimension: 'Prototype dimensions do not match the library',
  'provider-fallback': 'The requested execution provider was unavailable; another one ran',
  'lambda-auto': 'How `lambda: auto` was chosen',
  'lambda-auto-failed': '`lambda: auto` could not be chosen by leave-one-out',
  'modules-differ': 'The candidates adapt different modules',
  'modules-to-save': 'Candidates carry full `modules_to_save` heads',
  'rank-exact': 'The merge rank keeps the composition exact',
  'stale-lock': 'The lock file no longer matches the recipe',
  'lock-unreadable': 'The lock file cannot be read',
  internal: 'An internal error while checking (please report it)',
};

/** The rule of a problem code (a generic one for codes not in the catalogue). */
export function ruleFor(code: string): Rule {
  return { id: code, description: DESCRIPTIONS[code] ?? `Adapter Composer problem \`${code}\`` };
}

/** Every catalogued rule, sorted by id. */
export function knownRules(): Rule[] {
  return Object.keys(DESCRIPTIONS).sort().map(ruleFor);
}
