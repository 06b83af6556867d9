/**
 * The plan of one recipe: parse → schema → semantics against the library → retrieve → weights, with
 * the problems located in the recipe. The caches live in their own files (libraryCache.ts,
 * targetPrototype.ts), the checks against the library in libraryChecks.ts; this file is the order in
 * which they run and what a plan holds.
 */
import * as path from 'node:path';
import { isComposerError } from '../errors';
import { checkRecipe } from '../recipe/check';
import type { Recipe } from '../recipe/parse';
import { outputRefusal, resolveRecipePaths, type RecipePaths } from '../recipe/paths';
import { isRemoteUri, resolveLocation } from '../location';
import { outputHazards, recipeInputs } from '../outputGuard';
import type { Problem } from '../recipe/problem';
import { hasErrors, sortProblems } from '../recipe/problem';
import { sha256FileSync, sha256Prototype } from '../prototype/contentHash';
import { DEFAULT_SPARSE_FORM, squaredDistance } from '../weights';
import { chooseLambdaRatio, FALLBACK_RATIO, lambdaChoiceMessage, type LambdaChoice } from '../eval/lambdaSelection';
import type { AdapterRecord, Candidate, MergePlan, StrategyResult, WeightsParams } from '../types';
import { staleLockProblems } from '../lock';
import { AdapterVerifier } from '../library/integrity';
import { sameBase } from '../library/baseModels';
import { adapterEscapes, encoderEscapes, OUTSIDE_HINT, outsideHint, workspaceEscapes } from '../recipe/workspaceConfinement';
import type { PlanOptions, PlanOutcome, Planner } from './api';
import { LibraryCache } from './libraryCache';
import { adapterLocation, checkMergeable, checkNames, mergeVerdicts, unknownBase } from './libraryChecks';
import { checkAborted, RecipeProblem, type ReportProblem } from './recipeProblem';
import { TargetPrototypes } from './targetPrototype';
import { WeightsSessions } from './weightsSessions';

export class CachingPlanner implements Planner {
  private libraries = new LibraryCache();
  private targets = new TargetPrototypes();
  private verifier = new AdapterVerifier(sha256FileSync);
  /** Per (library version, target, candidates): the weights' matrices and paths, kept across keystrokes. */
  readonly weightsSessions = new WeightsSessions();

  lastProvider(): string | undefined {
    return this.targets.lastProvider();
  }

  invalidate(what?: { libraryUri?: string }): void {
    if (what?.libraryUri) {
      this.libraries.invalidate(what.libraryUri);
    } else {
      this.libraries.invalidate();
      this.targets.clear();
      this.weightsSessions.clear();
    }
  }

  async dispose(): Promise<void> {
    await this.targets.dispose();
    await this.libraries.dispose();
  }

  async plan(text: string, file: string, options: PlanOptions = {}): Promise<PlanOutcome> {
    const checked = checkRecipe(text, file, { workspaceRoot: options.workspaceRoot }, options.parsed);
    if (checked.notARecipe) return { isRecipe: false, problems: checked.problems };
    const recipe = checked.recipe;
    if (recipe && options.libraryUri) useDefaultLibrary(recipe, checked.problems, resolveLocation(options.libraryUri, path.resolve(options.workspaceRoot ?? '.')));
    const problems = [...checked.problems];
    const outcome: PlanOutcome = { isRecipe: true, recipe, problems };
    if (!recipe) return outcome;
    const at = (p: RecipeProblem) =>
      problems.push({ severity: p.severity, code: p.code, message: p.message, range: recipe.problemRange(p.path, p.part), path: p.path, ...(p.data ? { data: p.data } : {}) });

    try {
      await this.planInto(recipe, file, options, outcome, at, hasErrors(checked.problems));
    } catch (e) {
      if (e instanceof RecipeProblem) at(e);
      else if (isComposerError(e) && e.code === 'cancelled') throw e;
      else if (isComposerError(e)) at(new RecipeProblem('error', e.code, e.hint ? `${e.message} (${e.hint})` : e.message, []));
      else at(new RecipeProblem('error', 'internal', `could not plan the recipe: ${(e as Error)?.message ?? e}`, []));
    }
    // An unsafe output is an error to fix, but the weights stand: the plan is kept for the editor.
    const blocking = hasErrors(problems.filter((p) => !(p.path?.length === 1 && p.path[0] === 'output')));
    const badOutput = outcome.paths && typeof recipe.spec.output === 'string' ? outputRefusal(recipe.spec.output, outcome.paths.output) : undefined;
    if (badOutput) at(new RecipeProblem('error', 'output-not-local', badOutput, ['output']));
    else reportOutputHazards(recipe, file, options, outcome, problems);
    outcome.problems = sortProblems(problems);
    if (blocking) delete outcome.plan;
    return outcome;
  }

  private async planInto(
    recipe: Recipe,
    file: string,
    options: PlanOptions,
    outcome: PlanOutcome,
    report: ReportProblem,
    recipeHasErrors: boolean,
  ): Promise<void> {
    const spec = recipe.spec;
    if (typeof spec.library !== 'string' || spec.library === '') return;
    const paths = resolveRecipePaths(recipe, file);
    outcome.paths = paths;

    // The workspace check comes before any read: a library, target or sample outside the workspace is
    // an error where it is written (the same decision compose enforces), and nothing of it is opened.
    if (options.workspaceRoot && !options.allowOutsideWorkspace) {
      const escapes = await workspaceEscapes(recipe, paths, options.workspaceRoot, options.readRoots);
      if (escapes.some((e) => e.path[0] === 'output')) {
        const kept = outcome.problems.filter((p) => p.code !== 'output-outside-workspace');
        outcome.problems.splice(0, outcome.problems.length, ...kept);
      }
      for (const e of escapes) report(new RecipeProblem('error', e.path[0] === 'output' ? 'output-outside-workspace' : 'outside-workspace', e.message, e.path, 'value', { hint: outsideHint(e.path) }));
      if (escapes.some((e) => e.path[0] !== 'output')) return;
    }

    // The library: needed for completion even when the rest of the recipe is broken.
    const cached = await this.libraries.open(paths.library).catch((e) => {
      throw new RecipeProblem('error', 'library', isComposerError(e) ? e.message : String(e), ['library']);
    });
    const info = cached.info;
    const named = await this.libraries.namedRecords(cached, recipe);
    outcome.adapters = cached.adapters ?? named;
    const unknownNames = checkNames(recipe, new Map(named.map((a) => [a.name, a])), cached.adapters?.map((a) => a.name), report);
    // an unknown pinned or manual name is reported where it is written; the solve would only repeat it unlocated
    if (recipeHasErrors || unknownNames) return;
    checkAborted(options.signal);

    if (info.prototypePrecision === 'float32') {
      report(new RecipeProblem('information', 'float32-prototypes', `the library at ${paths.library} was made before prototypes were kept in float64: its prototypes are float32, so the weights are exact for the float32 values, not for the prototypes as computed`, ['library'], 'value', {
        hint: 'make a new library (`library init`) and add the adapters again to keep each prototype as given',
      }));
    }
    if (info.size === 0) {
      throw new RecipeProblem('error', 'empty-library', `the library at ${paths.library} holds no adapters`, ['library'], 'value', {
        hint: 'add adapters with `adapter-composer library add`',
      });
    }
    if (cached.adapters && !cached.adapters.some((a) => sameBase(a.base, spec.base))) throw unknownBase(spec.base, cached.adapters);

    // The target prototype.
    const encoderFile = info.encoder?.path ? cached.library.encoderFile() : undefined;
    // A local library's encoder files are read like the recipe's own paths: inside the workspace (its
    // meta row can name any encoder, its encoder.json any tokenizer); checked before they are opened.
    const source = paths.target.source;
    if (encoderFile && (source === 'samples' || source === 'text') && !paths.libraryIsUri && options.workspaceRoot && !options.allowOutsideWorkspace) {
      const escape = encoderEscapes(encoderFile, options.workspaceRoot, options.readRoots)[0];
      if (escape) throw new RecipeProblem('error', 'encoder-outside-workspace', escape, ['library'], 'value', { hint: OUTSIDE_HINT });
    }
    const target = await this.targets.compute(recipe, paths, encoderFile, info.dim, options, report);
    const byName = new Map(named.map((a) => [a.name, a]));
    outcome.target = target.prototype;
    checkAborted(options.signal);

    // Candidates: pinned, or the k nearest of this base (after filters and exclusions).
    const k = spec.retrieve.k;
    let hits: { record: AdapterRecord; distance: number }[];
    if (spec.retrieve.adapters && spec.retrieve.adapters.length > 0) {
      hits = spec.retrieve.adapters
        .filter((n) => byName.has(n))
        .map((n) => ({ record: byName.get(n)!, distance: squaredDistance(target.prototype, byName.get(n)!.prototype) }))
        .sort((a, b) => a.distance - b.distance || a.record.name.localeCompare(b.record.name));
    } else {
      try {
        hits = await this.libraries.search(cached, target.prototype, { k, base: spec.base, where: spec.retrieve.where, exclude: spec.retrieve.exclude });
      } catch (e) {
        if (spec.retrieve.where && isComposerError(e)) throw new RecipeProblem('error', 'where', e.message, ['retrieve', 'where']);
        throw e;
      }
      if (hits.length === 0 && !spec.retrieve.where && spec.retrieve.exclude.length === 0) {
        throw unknownBase(spec.base, cached.adapters ?? (await cached.library.list({ prototypes: false })));
      }
      if (hits.length < k) {
        report(new RecipeProblem('warning', 'k-too-large', `k = ${k} but only ${hits.length} adapter${hits.length === 1 ? '' : 's'} match${hits.length === 1 ? 'es' : ''} (base \`${spec.base}\`${spec.retrieve.where ? ', the `where` filter' : ''}${spec.retrieve.exclude.length ? ', exclusions' : ''}); all are used`, ['retrieve', 'k']));
      }
    }
    if (hits.length === 0) {
      throw new RecipeProblem('error', 'no-candidates', `no adapter is left to compose from (base \`${spec.base}\`${spec.retrieve.where ? `, where ${spec.retrieve.where}` : ''}, ${spec.retrieve.exclude.length} excluded)`, ['retrieve']);
    }
    outcome.candidates = hits.map((h) => h.record);
    if (!cached.adapters) outcome.adapters = mergeByName(named, outcome.candidates);
    checkMergeable(recipe, hits.map((h) => h.record), report);

    const candidates: Candidate[] = hits.map((h) => ({ name: h.record.name, distance: h.distance }));
    const params: WeightsParams = { strategy: spec.weights.strategy };
    if (typeof spec.weights.lambda === 'number') params.lambda = spec.weights.lambda;
    if (spec.weights.rho !== undefined) params.rho = spec.weights.rho;
    if (spec.weights.form !== undefined) params.form = spec.weights.form;
    if (spec.weights.temperature !== undefined) params.temperature = spec.weights.temperature;
    if (spec.weights.manual) {
      // Manual weights may name adapters beyond the k nearest: they join the candidates.
      for (const name of Object.keys(spec.weights.manual)) {
        const record = byName.get(name);
        if (record && !candidates.some((c) => c.name === name)) {
          candidates.push({ name, distance: squaredDistance(target.prototype, record.prototype) });
          outcome.candidates.push(record);
        }
      }
      params.manual = spec.weights.manual;
    }
    // Every candidate's files (any strategy may merge it, `compose --strategy` included) must lie in
    // the workspace, like the library that names them; one outside is an error where the recipe
    // names it and is never opened.
    const outside = new Set<string>();
    if (options.workspaceRoot && !options.allowOutsideWorkspace) {
      for (const e of adapterEscapes(outcome.candidates, options.workspaceRoot, options.readRoots)) {
        outside.add(e.name);
        const at = adapterLocation(recipe, e.name);
        report(new RecipeProblem('error', 'adapter-outside-workspace', e.message, at.path, at.part, { hint: OUTSIDE_HINT }));
      }
    }
    const problem = {
      target: target.prototype,
      prototypes: outcome.candidates.map((r) => Float64Array.from(r.prototype)),
      names: candidates.map((c) => c.name),
    };
    const targetSha256 = sha256Prototype(target.prototype);
    const session = this.weightsSessions.session(problem, { libraryUri: paths.library, version: cached.version, targetSha256 });
    if (spec.weights.lambda === 'auto') {
      // λ = ρ·λ* of this problem, ρ chosen by leave-one-out on the library (cached per library version).
      const choice = await chooseLambdaRatio(cached.adapters ?? (await cached.library.list()), { libraryUri: paths.library, version: cached.version, base: spec.base, k }).catch((e): LambdaChoice => {
        report(new RecipeProblem('warning', 'lambda-auto-failed', `λ = auto: leave-one-out selection failed (${isComposerError(e) ? e.message : String(e)}); using λ*/2`, ['weights', 'lambda']));
        return { ratio: FALLBACK_RATIO, targets: 0, fallback: 'leave-one-out failed' };
      });
      checkAborted(options.signal);
      params.rho = choice.ratio;
      report(new RecipeProblem('information', 'lambda-auto', lambdaChoiceMessage(choice, choice.ratio * session.pathOf(params.form ?? DEFAULT_SPARSE_FORM).lambda_star), ['weights', 'lambda']));
    }
    const solved = session.solveAll(params);
    const strategies: Partial<Record<string, StrategyResult>> = solved.strategies;
    const selected = strategies[spec.weights.strategy];
    const merged = selected ? outcome.candidates.filter((c) => (selected.weights[c.name] ?? 0) !== 0) : outcome.candidates;
    mergeVerdicts(recipe, merged.filter((c) => !outside.has(c.name)), paths, this.verifier, report);
    const merge = mergePlan(recipe, solved.strategies[spec.weights.strategy]?.weights ?? {}, outcome.candidates);
    outcome.plan = {
      recipe: file,
      target: { dim: target.dim, source: target.source, count: target.count, sha256: targetSha256, norm: Math.sqrt(squaredDistance(target.prototype, new Float64Array(target.dim))) },
      candidates,
      candidate_distances: session.candidateDistances(),
      strategies,
      strategy: spec.weights.strategy,
      lambda_path: solved.lambdaPath,
      merge,
      ...(solved.lambdaPaths ? { lambda_paths: solved.lambdaPaths } : {}),
      library: { uri: paths.library, version: cached.version, size: info.size, encoder: info.encoder },
      ...(target.provider ? { provider: target.provider } : {}),
      warnings: [],
    };
    for (const p of staleLockProblems(recipe, paths, outcome.plan, outcome.candidates, options.workspaceRoot && !options.allowOutsideWorkspace ? options.workspaceRoot : undefined)) report(new RecipeProblem(p.severity, p.code, p.message, p.path, 'key'));
  }
}

/**
 * Where the composite would go, checked against the file system (outputGuard.ts): errors at `output:`
 * for check and the editor, the same rules compose enforces. Codes the lexical checks already
 * reported are not repeated.
 */
function reportOutputHazards(recipe: Recipe, file: string, options: PlanOptions, outcome: PlanOutcome, problems: Problem[]): void {
  const written = recipe.spec.output;
  if (typeof written !== 'string' || written === '') return;
  let paths: RecipePaths;
  try {
    paths = outcome.paths ?? resolveRecipePaths(recipe, file);
  } catch {
    return;
  }
  if (isRemoteUri(paths.output)) return;
  const seen = new Set(problems.filter((p) => p.path?.length === 1 && p.path[0] === 'output').map((p) => p.code));
  const hazards = outputHazards({
    output: paths.output,
    recipeFile: paths.recipeFile,
    library: paths.libraryIsUri || !recipe.spec.library ? undefined : paths.library,
    workspaceRoot: options.workspaceRoot,
    adapters: [...(outcome.candidates ?? []), ...(outcome.adapters ?? [])],
    inputs: recipeInputs(paths.target, recipe.spec.evaluate, paths.recipeDir),
    lockFile: paths.lock,
  });
  for (const h of hazards) {
    if (seen.has(h.code)) continue;
    seen.add(h.code);
    const message = h.hint ? `${h.message} (${h.hint})` : h.message;
    problems.push({ severity: 'error', code: h.code, message, range: recipe.problemRange(['output'], 'value'), path: ['output'] });
  }
}


/**
 * A recipe without `library:` uses the configured default: the "missing key" error becomes a note.
 * (A relative default is relative to the workspace, as settings are.)
 */
function useDefaultLibrary(recipe: Recipe, problems: Problem[], libraryUri: string): void {
  if (recipe.data.library !== undefined && recipe.data.library !== null) return;
  const missing = problems.findIndex((p) => p.code === 'missing-key' && p.path?.length === 1 && p.path[0] === 'library');
  if (missing < 0) return;
  recipe.spec.library = libraryUri;
  problems[missing] = { ...problems[missing], severity: 'information', code: 'default-library', message: `no \`library:\` — using the default library from settings: ${libraryUri}` };
}

function mergeByName(a: AdapterRecord[], b: AdapterRecord[]): AdapterRecord[] {
  const seen = new Set(a.map((r) => r.name));
  return [...a, ...b.filter((r) => !seen.has(r.name))];
}

/** The merge the recipe asks for over the selected strategy's adapters: exact, or truncating. */
function mergePlan(recipe: Recipe, weights: Record<string, number>, candidates: AdapterRecord[]): MergePlan {
  const merge = recipe.spec.merge;
  const totalRank = candidates.filter((c) => Math.abs(weights[c.name] ?? 0) > 1e-12).reduce((s, c) => s + c.rank, 0);
  if (merge.method === 'cat') return { method: 'cat', total_rank: totalRank, exact: true };
  // entry-wise methods change which entries survive: never Σ wᵢΔWᵢ; their truncation error is measured when composing
  if (merge.method !== 'svd') return { method: merge.method, rank: merge.rank, density: merge.density, total_rank: totalRank, exact: false };
  return { method: 'svd', rank: merge.rank, total_rank: totalRank, exact: merge.rank >= totalRank };
}
