/**
 * What `eval <recipe> --leave-one-out` and the editor's "Run leave-one-out" share: the evaluation
 * settings a recipe implies (its library, base model, k, λ/ρ, sparse form), and one job that runs the
 * library's leave-one-out protocol with them and, when the recipe has an `evaluate:` block, scores each
 * strategy's composite of this recipe with that evaluator (task metrics, as `eval --with-evaluator`).
 * Cancellable at every step; its scratch files live under the folder the caller gives and are removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { isUri, resolveRecipePaths } from '../recipe/paths';
import { parseRecipe } from '../recipe/parse';
import { readTextSafe } from '../safeRead';
import { resolveLocation } from '../location';
import type { SparseForm } from '../types';
import { evaluateLibrary, type LibraryEvaluation } from './evaluateLibrary';
import { evaluateRecipes, type RecipeEvalResult } from './recipeLeaveOneOut';
import type { ConfinementOptions } from '../recipe/workspaceConfinement';

export interface RecipeEvalDefaults {
  library: string;
  base?: string;
  k?: number;
  lambda?: number | 'auto';
  rho?: number;
  form?: SparseForm;
}

/**
 * A recipe given instead of a library: its library, base, k, λ/ρ and form. Undefined when `given` is not a
 * recipe file. `defaultLibrary` is used for a recipe without `library:` (the editor's libraryUri setting).
 */
export function recipeEvalDefaults(given: string, cwd: string, defaultLibrary?: string): RecipeEvalDefaults | undefined {
  if (!/\.(compose\.)?ya?ml$/i.test(given) || isUri(given)) return undefined;
  const file = path.resolve(cwd, given);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return undefined;
  const recipe = parseRecipe(readTextSafe(file, 'recipe', 'recipe'), file).recipe;
  const hasLibrary = recipe && typeof recipe.spec.library === 'string' && recipe.spec.library;
  if (!recipe || (!hasLibrary && !defaultLibrary)) {
    throw new ComposerError('usage', `${given} is not a recipe with a \`library:\``, { file }, 'give the library folder or URI instead');
  }
  const spec = recipe.spec;
  return {
    library: hasLibrary ? resolveRecipePaths(recipe, file).library : resolveLocation(defaultLibrary!, cwd),
    base: typeof spec.base === 'string' ? spec.base : undefined,
    k: spec.retrieve.k,
    lambda: spec.weights.lambda,
    rho: spec.weights.rho,
    form: spec.weights.form,
  };
}

/** The confinement applies to the evaluator's composites (as `eval --with-evaluator`). */
export interface RecipeEvaluationOptions extends ConfinementOptions {
  signal?: AbortSignal;
  /** A message, and the fraction of the whole job done when known. */
  onProgress?: (message: string, fraction?: number) => void;
  /** Only when the workspace is trusted: an external `evaluate:` command may run. */
  allowExec?: boolean;
  provider?: string;
  libraryUri?: string;
  /** Where the evaluator's composites are merged (default: a temporary folder); emptied afterwards. */
  scratchDir?: string;
}

export interface RecipeEvaluation {
  recipe: string;
  /** The library's leave-one-out protocol, as `eval <recipe> --leave-one-out --json` prints it. */
  leaveOneOut: LibraryEvaluation;
  /** Each strategy's composite of this recipe scored by its evaluator, as `eval --with-evaluator --json`. */
  metrics?: RecipeEvalResult;
  /** Why `metrics` is absent (no `evaluate:` block, or an external command that may not run here). */
  metricsNote?: string;
  /** ISO time the job finished. */
  time: string;
  total_ms: number;
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ComposerError('cancelled', 'evaluation cancelled');
}

export async function evaluateRecipe(file: string, options: RecipeEvaluationOptions = {}): Promise<RecipeEvaluation> {
  const started = Date.now();
  const say = options.onProgress ?? (() => undefined);
  throwIfCancelled(options.signal);
  // The editor's default library (for recipes without `library:`) is relative to the workspace, as the planner reads it.
  const defaultLibrary = options.libraryUri ? resolveLocation(options.libraryUri, options.workspaceRoot ?? path.dirname(file)) : undefined;
  const defaults = recipeEvalDefaults(file, path.dirname(file), defaultLibrary);
  if (!defaults) throw new ComposerError('usage', `${file} is not a recipe file`, { file });
  const recipe = parseRecipe(readTextSafe(file, 'recipe', 'recipe'), file).recipe!;
  const evaluate = recipe.spec.evaluate;
  const scoring = Boolean(evaluate && (evaluate.builtin || options.allowExec));
  // The protocol is most of the work without an evaluator; with one, the composites share the bar.
  const looShare = scoring ? 0.6 : 1;
  say('leave-one-out: retrieval and weights', 0);
  const leaveOneOut = await evaluateLibrary(defaults.library, {
    k: defaults.k ?? 5,
    ...(defaults.lambda !== undefined ? { lambda: defaults.lambda } : {}),
    ...(defaults.lambda === undefined && defaults.rho !== undefined ? { rho: defaults.rho } : {}),
    ...(defaults.form !== undefined ? { form: defaults.form } : {}),
    base: defaults.base,
    signal: options.signal,
    onProgress: (message) => {
      const m = /module (\d+)\/(\d+)/.exec(message);
      say(`leave-one-out: ${message}`, m ? (looShare * Number(m[1])) / Math.max(1, Number(m[2])) : undefined);
    },
  });
  throwIfCancelled(options.signal);
  let metrics: RecipeEvalResult | undefined;
  let metricsNote: string | undefined;
  if (!evaluate) metricsNote = 'The recipe has no `evaluate:` block: add one to score each strategy\'s composite with task metrics.';
  else if (!scoring) metricsNote = `The recipe's evaluator runs an external command (${JSON.stringify(evaluate.command)}), which runs only in a trusted workspace.`;
  else {
    say('scoring each strategy\'s composite with the recipe\'s evaluator', looShare);
    metrics = await evaluateRecipes([file], {
      allowExec: options.allowExec,
      workspaceRoot: options.workspaceRoot,
      readRoots: options.readRoots,
      allowOutsideWorkspace: options.allowOutsideWorkspace,
      provider: options.provider,
      libraryUri: defaultLibrary,
      signal: options.signal,
      scratchDir: options.scratchDir,
      onStep: (fraction, what) => say(`evaluator: ${what}`, looShare + (1 - looShare) * fraction),
    });
  }
  return {
    recipe: file,
    leaveOneOut,
    ...(metrics ? { metrics } : {}),
    ...(metricsNote ? { metricsNote } : {}),
    time: new Date().toISOString(),
    total_ms: Date.now() - started,
  };
}

