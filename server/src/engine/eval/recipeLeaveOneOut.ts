/**
 * `eval --leave-one-out --with-evaluator <recipes>`: the paper's table with task metrics. Each recipe
 * is a leave-one-out recipe (its target's own adapter in `retrieve.exclude`) with an evaluator. For
 * every strategy of the weights module, its composite is merged exactly (`cat`, Σ wᵢΔWᵢ) into a
 * scratch folder and scored by the recipe's evaluator — the built-in classification evaluator, or an
 * external command when running programs is allowed. With the built-in evaluator the base model
 * (no adapter) and the held-out adapter itself (the first name in `retrieve.exclude`, trained on the
 * target's labels: the upper bound) are scored too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { withLibrary } from '../library/library';
import { mergeAdapters } from '../lora/merge';
import { createPlanner } from '../planner';
import { problemToError } from '../recipe/problem';
import { adapterEscapes, defaultWorkspaceRoot, OUTSIDE_HINT, type ConfinementOptions } from '../recipe/workspaceConfinement';
import { readTextSafe } from '../safeRead';
import type { Strategy } from '../types';
import { evaluateClassification } from './classification';
import { builtinFileEscape, builtinFiles, runBuiltinEvaluator, runEvaluator } from './evaluator';

export interface EvaluatedTarget {
  recipe: string;
  name: string;
  /** The held-out adapter (first of retrieve.exclude). */
  held_out?: string;
  base?: Record<string, number>;
  held_out_metrics?: Record<string, number>;
  strategies: Partial<Record<Strategy, { weights: Record<string, number>; metrics: Record<string, number>; status: string; message?: string }>>;
}

export interface RecipeEvalResult {
  targets: EvaluatedTarget[];
  /** Per metric: per entry (base, held-out, each strategy) the mean over targets where it was measured. */
  summary: Record<string, Record<string, { mean: number; count: number }>>;
  total_ms: number;
}

/** workspaceRoot: by default as compose's, from each recipe and `cwd`. */
export interface RecipeEvalOptions extends ConfinementOptions {
  strategies?: readonly Strategy[];
  allowExec?: boolean;
  /** The folder the workspace is found from when none is given (default: the process's). */
  cwd?: string;
  provider?: string;
  onProgress?: (message: string) => void;
  /** After each composite scored: the fraction of the recipes done, and what was just scored. */
  onStep?: (fraction: number, what: string) => void;
  /** The library for recipes without `library:` (the editor's libraryUri setting), as the planner takes it. */
  libraryUri?: string;
  /** Stops between composites (the scratch folder is still removed). */
  signal?: AbortSignal;
  /** The folder to merge composites in (created if needed, emptied afterwards); default a new temporary one. */
  scratchDir?: string;
}

export async function evaluateRecipes(files: readonly string[], options: RecipeEvalOptions = {}): Promise<RecipeEvalResult> {
  const started = Date.now();
  const planner = createPlanner();
  if (options.scratchDir) fs.mkdirSync(options.scratchDir, { recursive: true });
  const scratch = fs.mkdtempSync(options.scratchDir ? path.join(options.scratchDir, 'recipes-') : path.join(os.tmpdir(), 'ac-eval-recipes-'));
  const targets: EvaluatedTarget[] = [];
  const cancelled = () => {
    if (options.signal?.aborted) throw new ComposerError('cancelled', 'evaluation cancelled');
  };
  try {
    for (const [i, file] of files.entries()) {
      cancelled();
      options.onProgress?.(`recipe ${i + 1}/${files.length}: ${path.basename(file)}`);
      // the workspace compose would use: a recipe reads nothing here that compose would refuse to read
      const workspaceRoot = options.workspaceRoot ?? defaultWorkspaceRoot(file, options.cwd ?? process.cwd());
      const confinedTo = options.allowOutsideWorkspace ? undefined : workspaceRoot;
      const readRoots = options.readRoots ?? [];
      const outcome = await planner.plan(readTextSafe(file, 'recipe', 'recipe'), file, { provider: options.provider ?? 'cpu', workspaceRoot, allowOutsideWorkspace: Boolean(options.allowOutsideWorkspace), readRoots, ...(options.libraryUri ? { libraryUri: options.libraryUri } : {}) });
      if (!outcome.isRecipe) throw new ComposerError('recipe', 'not an Adapter Composer recipe (no `compose:` key)', { file });
      const firstError = outcome.problems.find((p) => p.severity === 'error');
      if (firstError) throw problemToError(firstError, file);
      const { plan, recipe, paths } = outcome as Required<typeof outcome>;
      const spec = recipe.spec.evaluate;
      if (!spec) throw new ComposerError('recipe', 'the recipe has no `evaluate:` block to score its composites with', recipe.locationOf([], 'key'), 'add `evaluate: { builtin: classification, model: …, data: …, labels: … }` (or a command)');
      if (!spec.builtin && !options.allowExec) throw new ComposerError('recipe', `this recipe's evaluator runs an external command (${JSON.stringify(spec.command)}), which is not allowed here`, recipe.locationOf(['evaluate'], 'key'), 'pass --allow-exec, or use the built-in evaluator');
      const heldOut = recipe.spec.retrieve.exclude[0];
      const target: EvaluatedTarget = { recipe: file, name: recipe.spec.name, ...(heldOut ? { held_out: heldOut } : {}), strategies: {} };
      if (spec.builtin) {
        const files_ = builtinFiles(spec.builtin, paths.recipeDir);
        const escape = confinedTo ? builtinFileEscape(files_, confinedTo, readRoots) : undefined;
        if (escape) throw new ComposerError('recipe', escape.message, recipe.locationOf(['evaluate', escape.key], 'value'), OUTSIDE_HINT);
        target.base = { ...(await evaluateClassification({ ...files_, provider: 'cpu' })) };
        if (heldOut) {
          await withLibrary(paths.library, async (library) => {
            const record = await library.get(heldOut);
            if (!record) return;
            // the held-out adapter is read like a candidate: inside the workspace unless allowed
            const escape = confinedTo ? adapterEscapes([record], confinedTo, readRoots)[0] : undefined;
            if (escape) throw new ComposerError('recipe', escape.message, recipe.locationOf(['retrieve', 'exclude', 0], 'value'), OUTSIDE_HINT);
            target.held_out_metrics = { ...(await evaluateClassification({ ...files_, adapter: record.path, provider: 'cpu' })) };
          });
        }
      }
      const byName = new Map((outcome.candidates ?? []).map((c) => [c.name, c]));
      const wanted = options.strategies ?? (Object.keys(plan.strategies).filter((s) => s !== 'manual') as Strategy[]);
      const count = wanted.filter((s) => plan.strategies[s]).length;
      let done = 0;
      for (const strategy of wanted) {
        const result = plan.strategies[strategy];
        if (!result) continue;
        cancelled();
        const inputs = Object.entries(result.weights).filter(([, w]) => w !== 0).map(([name, weight]) => ({ name, weight, path: byName.get(name)!.path }));
        const output = path.join(scratch, `${i}-${strategy}`);
        await mergeAdapters(inputs, { method: 'cat', signal: options.signal }, output);
        const evaluation = spec.builtin
          ? await runBuiltinEvaluator(spec.builtin, { output, cwd: paths.recipeDir, workspaceRoot: confinedTo, readRoots })
          : await runEvaluator(spec, { output, name: recipe.spec.name, recipe: paths.recipeFile, lock: paths.lock, cwd: paths.recipeDir });
        target.strategies[strategy] = { weights: result.weights, metrics: evaluation.metrics, status: evaluation.status, ...(evaluation.message ? { message: evaluation.message } : {}) };
        fs.rmSync(output, { recursive: true, force: true });
        options.onStep?.((i + ++done / Math.max(1, count)) / files.length, `${recipe.spec.name}: ${strategy}`);
      }
      targets.push(target);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    await planner.dispose();
  }
  return { targets, summary: summarizeMetrics(targets), total_ms: Date.now() - started };
}

function summarizeMetrics(targets: EvaluatedTarget[]): RecipeEvalResult['summary'] {
  const sums: Record<string, Record<string, { sum: number; count: number }>> = {};
  const add = (entry: string, metrics: Record<string, number> | undefined) => {
    for (const [metric, v] of Object.entries(metrics ?? {})) {
      if (metric === 'samples') continue;
      const m = ((sums[metric] ??= {})[entry] ??= { sum: 0, count: 0 });
      m.sum += v;
      m.count++;
    }
  };
  for (const t of targets) {
    add('base', t.base);
    add('held-out', t.held_out_metrics);
    for (const [s, r] of Object.entries(t.strategies)) add(s, r.metrics);
  }
  return Object.fromEntries(Object.entries(sums).map(([metric, entries]) => [metric, Object.fromEntries(Object.entries(entries).map(([e, { sum, count }]) => [e, { mean: sum / count, count }]))]));
}
