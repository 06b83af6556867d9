/**
 * `compose`: plan (as `plan`), merge the selected strategy's adapters and write the composite and its
 * lock. The composite is published by renaming a finished temporary folder, then the lock is renamed
 * into place: an interrupted compose leaves the previous output and lock as they were.
 */
import { ComposerError } from './errors';
import { buildLock, diffPaths, formatDrift, lockDrift, prepareLock, readLock, type Drift, type LockFile, type PreparedLock } from './lock';
import { mergeAdapters, type MergeProgress } from './lora/merge';
import { createPlanner, type Planner } from './planner';
import { problemHint, problemToError } from './recipe/problem';
import type { EvaluationOutcome, Strategy } from './types';
import { withOutputLock } from './singleWriter';
import { requireInsideWorkspace, type ConfinementOptions } from './recipe/workspaceConfinement';
import { recordedFacts } from './library/integrity';
import { outputRefusal } from './recipe/paths';
import { afterCompose, requireEvaluatorAllowed } from './eval/evaluator';
import { toolVersion as productVersion } from './version';
import type { ProviderRequest } from './onnx/session';
import { recipeInputs, requireSafeOutput, type OutputContext } from './outputGuard';
import { readTextSafe } from './safeRead';

export interface ComposeOptions extends ConfinementOptions {
  signal?: AbortSignal;
  provider?: string;
  /** Fail unless the fresh plan and output match the lock file exactly. */
  locked?: boolean;
  /** Override the recipe's strategy. */
  strategy?: Strategy;
  /** The library for recipes that name none (the editor setting adapterCompose.libraryUri). */
  libraryUri?: string;
  onProgress?: (progress: { fraction: number; message: string; modulesDone?: number; modulesTotal?: number; bytesWritten?: number }) => void;
  /** Reuse a planner (the language server's, with its caches). */
  planner?: Planner;
  toolVersion?: string;
  /** Run the recipe's `evaluate` command (CLI --allow-exec; the editor only in a trusted workspace). */
  allowExec?: boolean;
  /** Compose a recipe with an `evaluate` block without running it. */
  skipEvaluate?: boolean;
  /**
   * Replace an existing non-empty output folder that compose did not write (CLI --force). Never
   * overrides the protected folders (the recipe's, the library, the workspace, a .git, an adapter).
   */
  force?: boolean;
}

export interface ComposeJson {
  output: string;
  lock: string;
  strategy: Strategy;
  weights: Record<string, number>;
  modules: number;
  rank: number;
  method: string;
  dtype: string;
  energy_kept: { min: number; mean: number };
  files: { path: string; sha256: string }[];
  provider?: string;
  products: string;
  warnings: string[];
  /** The evaluator's outcome, when the recipe has one and it ran. */
  evaluation?: EvaluationOutcome;
  /** The run history entry this compose added. */
  history?: { id: string; database: string; kind: 'library' | 'workspace' };
}

export async function compose(recipeFile: string, options: ComposeOptions = {}): Promise<ComposeJson> {
  const planner = options.planner ?? createPlanner();
  try {
    return await composeWith(planner, recipeFile, options);
  } finally {
    if (!options.planner) await planner.dispose();
  }
}

async function composeWith(planner: Planner, recipeFile: string, options: ComposeOptions): Promise<ComposeJson> {
  const text = readTextSafe(recipeFile, 'recipe', 'recipe');
  const progress = options.onProgress ?? (() => undefined);
  progress({ fraction: 0, message: 'planning' });
  const outcome = await planner.plan(text, recipeFile, {
    workspaceRoot: options.workspaceRoot,
    signal: options.signal,
    provider: options.provider,
    libraryUri: options.libraryUri,
    allowOutsideWorkspace: options.allowOutsideWorkspace,
    readRoots: options.readRoots,
    onProgress: (done, total) => progress({ fraction: 0.1 * (done / Math.max(1, total)), message: `encoding samples ${done}/${total}` }),
  });
  if (!outcome.isRecipe) throw new ComposerError('recipe', 'not an Adapter Composer recipe (no `compose:` key)', { file: recipeFile });
  // --force overrides only "a non-empty folder compose did not write"; every other error stands.
  const firstError = outcome.problems.find((p) => p.severity === 'error' && !(options.force && p.code === 'output-not-composed'));
  if (firstError) throw problemToError(firstError, recipeFile);
  const plan = outcome.plan!;
  const recipe = outcome.recipe!;
  const paths = outcome.paths!;
  if (options.strategy) plan.strategy = options.strategy;
  const selected = plan.strategies[plan.strategy];
  if (!selected) throw new ComposerError('recipe', `strategy ${plan.strategy} has no result (manual needs weights.manual)`, { file: recipeFile });
  const badOutput = outputRefusal(recipe.spec.output, paths.output);
  if (badOutput) throw new ComposerError('recipe', badOutput, recipe.locationOf(['output']));

  if (options.workspaceRoot && !options.allowOutsideWorkspace) await requireInsideWorkspace(recipe, paths, options.workspaceRoot, options.readRoots);
  requireEvaluatorAllowed(recipe, options);
  const toolVersion = options.toolVersion ?? productVersion;
  const previousLock = options.locked ? readLock(paths.lock, options.workspaceRoot && !options.allowOutsideWorkspace ? options.workspaceRoot : undefined) : undefined;
  if (options.locked) {
    if (!previousLock) throw new ComposerError('lock', `--locked: no lock file at ${paths.lock}`, { file: paths.lock }, 'compose once without --locked to create it');
    const drift = lockDrift(previousLock, buildLock({ toolVersion, recipe, paths, plan, candidates: outcome.candidates!, outputFiles: previousLock.output.files }));
    if (drift.length > 0) throw driftError(paths.lock, drift);
  }

  // Where the composite goes: never a folder compose did not make, nor the recipe's, the library, the
  // workspace, a .git or an input adapter (checked now, then again right before the output is replaced).
  const outputContext: OutputContext = {
    output: paths.output,
    recipeFile: paths.recipeFile,
    library: paths.libraryIsUri ? undefined : paths.library,
    workspaceRoot: options.workspaceRoot,
    adapters: [...outcome.candidates!, ...(outcome.adapters ?? [])],
    inputs: recipeInputs(paths.target, recipe.spec.evaluate, paths.recipeDir),
    lockFile: paths.lock,
    verifyHashes: true,
    deepScan: true,
  };
  const outputLocation = recipe.locationOf(['output']);
  requireSafeOutput(outputContext, outputLocation, options.force);

  const byName = new Map(outcome.candidates!.map((c) => [c.name, c]));
  const inputs = Object.entries(selected.weights)
    .filter(([, w]) => w !== 0)
    .map(([name, weight]) => ({ name, path: byName.get(name)!.path, weight, expect: recordedFacts(byName.get(name)!) }));

  return withOutputLock(paths.output, async () => {
    let written: LockFile | undefined;
    let prepared: PreparedLock | undefined;
    // the lock may have waited for another compose of this output
    progress({ fraction: 0.1, message: `writing ${paths.output}` });
    const merged = await mergeAdapters(
      inputs,
      {
        method: recipe.spec.merge.method,
        rank: recipe.spec.merge.rank,
        density: recipe.spec.merge.density,
        seed: recipe.spec.merge.seed,
        normalize: recipe.spec.merge.normalize,
        dtype: recipe.spec.merge.dtype === 'auto' ? undefined : recipe.spec.merge.dtype,
        modulesToSave: recipe.spec.merge.modules_to_save,
        provider: options.provider as ProviderRequest | undefined,
        signal: options.signal,
        outputChecked: true,
        // re-checked when the staging folder is made and right before the renames (a link swapped in since)
        outputWithin: options.workspaceRoot && !options.allowOutsideWorkspace ? options.workspaceRoot : undefined,
        // Verify first, write after; the lock's temporary file is written here too, so that a lock
        // folder that refuses it (read-only, full, a name too long) stops compose before the output is
        // replaced. --locked proves the lock (output files checked before publishing); it never
        // rewrites it (the library's version may have moved on).
        beforePublish: (files, pinned) => {
          requireSafeOutput(outputContext, outputLocation, options.force);
          if (previousLock) {
            const drift = diffPaths('output.files', previousLock.output.files, files, []);
            if (drift.length > 0) throw driftError(paths.lock, drift);
          }
          written = buildLock({ toolVersion, recipe, paths, plan, candidates: outcome.candidates!, outputFiles: files, mergedSha256: Object.fromEntries(pinned.map((i) => [i.name, i.sha256])) });
          if (!previousLock) prepared = prepareLock(paths.lock, written);
        },
        // the lock is renamed into place in the same synchronous step as the publish (no await between them)
        afterPublish: () => {
          prepared?.commit();
          prepared = undefined;
        },
        libraryUri: paths.library,
        baseModel: recipe.spec.base,
        title: recipe.spec.name,
        onProgress: (p: MergeProgress) =>
          progress({
            fraction: 0.1 + 0.85 * (p.modulesDone / Math.max(1, p.modulesTotal)),
            message: `merging modules ${p.modulesDone}/${p.modulesTotal}`,
            modulesDone: p.modulesDone,
            modulesTotal: p.modulesTotal,
            bytesWritten: p.bytesWritten,
          }),
      },
      paths.output,
    ).catch((e: unknown) => {
      // not published: the lock's temporary file goes too
      prepared?.discard();
      throw e;
    });
    const lock = written!;
    const after = await afterCompose({ recipe, paths, lock: previousLock ?? lock, workspaceRoot: options.workspaceRoot, allowOutsideWorkspace: options.allowOutsideWorkspace, readRoots: options.readRoots, allowExec: options.allowExec, skipEvaluate: options.skipEvaluate, toolVersion, signal: options.signal, onProgress: (message) => progress({ fraction: 0.97, message }) });
    progress({ fraction: 1, message: 'done' });
    return {
      output: paths.output,
      lock: paths.lock,
      strategy: plan.strategy,
      weights: selected.weights,
      modules: merged.modules,
      rank: merged.rank,
      method: merged.method,
      dtype: merged.dtype,
      energy_kept: { min: merged.energyKept.min, mean: merged.energyKept.mean },
      files: merged.files,
      ...(plan.provider ? { provider: plan.provider } : {}),
      products: merged.products,
      // a stale lock is what this compose rewrites: no warning to "compose again"
      warnings: [...outcome.problems.filter((p) => p.severity === 'warning' && p.code !== 'stale-lock').map((p) => (problemHint(p) ? `${p.message} (hint: ${problemHint(p)})` : p.message)), ...merged.warnings, ...after.warnings],
      ...(after.evaluation ? { evaluation: after.evaluation } : {}),
      ...(after.history ? { history: after.history } : {}),
    };
  });
}

function driftError(lockFile: string, drift: Drift[]): ComposerError {
  const SHOWN = 8;
  const lines = drift.slice(0, SHOWN).map(formatDrift);
  if (drift.length > SHOWN) lines.push(`… and ${drift.length - SHOWN} more field${drift.length - SHOWN === 1 ? '' : 's'}`);
  return new ComposerError('lock', `--locked: the composition drifted from ${lockFile} (${drift.length} field${drift.length === 1 ? '' : 's'}, locked → now):\n  ${lines.join('\n  ')}`, { file: lockFile }, 'review the change, then compose without --locked to update the lock');
}

export type { LockFile };
