/**
 * The Planner: the one entry point the CLI and the language service call per recipe.
 * parse → schema → semantics against the library → retrieve → weights. Caches library handles,
 * encoder sessions and target prototypes (by content hash), so a keystroke costs a parse, a k-NN
 * and a µs solve — the encoder runs once per distinct set of sample files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import { ComposerError, isComposerError } from './errors';
import { checkRecipe } from './recipe/check';
import { closestMatch } from './recipe/didYouMean';
import type { ParseResult, Recipe } from './recipe/parse';
import { isUri, outputRefusal, resolveRecipePaths, type RecipePaths } from './recipe/paths';
import { isRemoteUri, resolveLocation } from './location';
import { outputHazards } from './outputGuard';
import type { Problem, RecipePath, Severity } from './recipe/problem';
import { hasErrors, sortProblems } from './recipe/problem';
import { targetSource } from './recipe/spec';
import { openLibrary, type Library, type LibraryInfo, type SearchOptions } from './library/library';
import { openEncoder, prototypeFromFeatures, prototypeFromFile, prototypeFromSamples, type Encoder, type PrototypeResult } from './prototype/encoder';
import { prototypeCacheKey, sha256Bytes, sha256FileSync, sha256Prototype } from './prototype/contentHash';
import { defaultPrototypeCacheDir, PrototypeCache } from './prototype/prototypeCache';
import { fileFingerprint } from './prototype/fileFingerprint';
import { encoderSessionKey } from './prototype/encoderSessionKey';
import { prototypeFromText } from './prototype/sampleSources';
import { lambdaPath, solveAll, squaredDistance } from './weights';
import { chooseLambdaRatio, FALLBACK_RATIO, lambdaChoiceMessage, type LambdaChoice } from './eval/lambdaSelection';
import type { AdapterRecord, Candidate, MergePlan, PlanJson, StrategyResult, TargetSource, WeightsParams } from './types';
import { staleLockProblems } from './lock';
import { assertRegularFile } from './safeRead';
import { AdapterVerifier, describeDrift, driftHint } from './library/integrity';
import { modulesToSaveRefused, noSharedModules, shapeConflict } from './lora/mergeVerdicts';
import type { LoraAdapter } from './lora/adapter';
import { openAdapter } from './lora/formats';
import { baseOverride, sameBase } from './library/baseModels';
import { OUTSIDE_HINT, workspaceEscapes } from './recipe/workspaceConfinement';

export type PlanProblem = Problem;

export interface PlanOutcome {
  /** False for a YAML file without a `compose:` key: not ours, nothing to report but a note. */
  isRecipe: boolean;
  /** The parsed recipe, when parsing got that far. */
  recipe?: Recipe;
  /** Present when the recipe could be planned (no blocking error). */
  plan?: PlanJson;
  problems: Problem[];
  /** Library rows of the recipe's library (for completion / hover / inlay hints), when it opened. */
  adapters?: AdapterRecord[];
  /** Resolved paths (library, target, output, lock), when the recipe parsed. */
  paths?: RecipePaths;
  /** The candidates' library rows, nearest first, when planned. */
  candidates?: AdapterRecord[];
  /** The target prototype (float64), when computed. */
  target?: Float64Array;
}

export interface PlanOptions {
  /** The workspace root: paths escaping it are reported. */
  workspaceRoot?: string;
  signal?: AbortSignal;
  /** Execution provider for the encoder: auto | cpu | cuda | tensorrt | webgpu. */
  provider?: string;
  /** Progress of encoding samples. */
  onProgress?: (done: number, total: number) => void;
  /** The library for recipes that name none (the editor setting adapterCompose.libraryUri). */
  libraryUri?: string;
  /** Trust paths outside workspaceRoot (compose/check --allow-outside-workspace): no escape errors. */
  allowOutsideWorkspace?: boolean;
  /** parseRecipe(text, file) already done by the caller (the language server parses a buffer once). */
  parsed?: ParseResult;
}

export interface Planner {
  /** Plans a recipe from its text (the editor's buffer, not necessarily saved). Never throws for user input. */
  plan(text: string, file: string, options?: PlanOptions): Promise<PlanOutcome>;
  /** Forget cached library handles / prototypes (library changed on disk, config changed). */
  invalidate(what?: { libraryUri?: string }): void;
  /** The execution provider the encoder ran on last (cpu, cuda, …). */
  lastProvider(): string | undefined;
  dispose(): Promise<void>;
}

export function createPlanner(): Planner {
  return new CachingPlanner();
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
    lockFile: paths.lock,
  });
  for (const h of hazards) {
    if (seen.has(h.code)) continue;
    seen.add(h.code);
    const message = h.hint ? `${h.message} (${h.hint})` : h.message;
    problems.push({ severity: 'error', code: h.code, message, range: recipe.problemRange(['output'], 'value'), path: ['output'] });
  }
}

/** A problem to report at a recipe path. */
class RecipeProblem extends Error {
  constructor(
    readonly severity: Severity,
    readonly code: string,
    message: string,
    readonly path: RecipePath,
    readonly part: 'value' | 'key' = 'value',
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface CachedLibrary {
  library: Library;
  version: number;
  info: LibraryInfo;
  /** Every row, for libraries of at most SMALL_LIBRARY adapters. */
  adapters?: AdapterRecord[];
  searches: Map<string, { record: AdapterRecord; distance: number }[]>;
}

/** Up to this many adapters, the planner holds the whole table (names for completion, did-you-mean). */
const SMALL_LIBRARY = 5000;

class CachingPlanner implements Planner {
  private libraries = new Map<string, Promise<Library>>();
  private adapterLists = new Map<string, CachedLibrary>();
  private encoders = new Map<string, Promise<Encoder>>();
  private prototypes = new Map<string, PrototypeResult>();
  private fileHashes = new Map<string, string>();
  private verifier = new AdapterVerifier(sha256FileSync);
  private diskCache = new PrototypeCache(defaultPrototypeCacheDir());
  private provider: string | undefined;

  lastProvider(): string | undefined {
    return this.provider;
  }

  invalidate(what?: { libraryUri?: string }): void {
    if (what?.libraryUri) {
      this.adapterLists.delete(what.libraryUri);
    } else {
      this.adapterLists.clear();
      this.prototypes.clear();
    }
  }

  async dispose(): Promise<void> {
    const encoders = [...this.encoders.values()];
    const libraries = [...this.libraries.values()];
    this.encoders.clear();
    this.libraries.clear();
    for (const e of encoders) await e.then((x) => x.dispose()).catch(() => undefined);
    for (const l of libraries) await l.then((x) => x.close()).catch(() => undefined);
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
    report: (p: RecipeProblem) => void,
    recipeHasErrors: boolean,
  ): Promise<void> {
    const spec = recipe.spec;
    if (typeof spec.library !== 'string' || spec.library === '') return;
    const paths = resolveRecipePaths(recipe, file);
    outcome.paths = paths;

    // The workspace check comes before any read: a library, target or sample outside the workspace is
    // an error where it is written (the same decision compose enforces), and nothing of it is opened.
    if (options.workspaceRoot && !options.allowOutsideWorkspace) {
      const escapes = await workspaceEscapes(recipe, paths, options.workspaceRoot);
      if (escapes.some((e) => e.path[0] === 'output')) {
        const kept = outcome.problems.filter((p) => p.code !== 'output-outside-workspace');
        outcome.problems.splice(0, outcome.problems.length, ...kept);
      }
      for (const e of escapes) report(new RecipeProblem('error', e.path[0] === 'output' ? 'output-outside-workspace' : 'outside-workspace', e.message, e.path, 'value', { hint: OUTSIDE_HINT }));
      if (escapes.some((e) => e.path[0] !== 'output')) return;
    }

    // The library: needed for completion even when the rest of the recipe is broken.
    const cached = await this.openCached(paths.library).catch((e) => {
      throw new RecipeProblem('error', 'library', isComposerError(e) ? e.message : String(e), ['library']);
    });
    const info = cached.info;
    const named = await this.namedRecords(cached, recipe);
    outcome.adapters = cached.adapters ?? named;
    const unknownNames = this.checkNames(recipe, new Map(named.map((a) => [a.name, a])), cached.adapters?.map((a) => a.name), report);
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
    const target = await this.targetPrototype(recipe, paths, info.encoder?.path ? cached.library.encoderFile() : undefined, info.dim, options, report);
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
        hits = await this.search(cached, target.prototype, { k, base: spec.base, where: spec.retrieve.where, exclude: spec.retrieve.exclude });
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
    this.checkMergeable(recipe, hits.map((h) => h.record), report);

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
    const problem = {
      target: target.prototype,
      prototypes: outcome.candidates.map((r) => Float64Array.from(r.prototype)),
      names: candidates.map((c) => c.name),
    };
    if (spec.weights.lambda === 'auto') {
      // λ = ρ·λ* of this problem, ρ chosen by leave-one-out on the library (cached per library version).
      const choice = await chooseLambdaRatio(cached.adapters ?? (await cached.library.list()), { libraryUri: paths.library, version: cached.version, base: spec.base, k }).catch((e): LambdaChoice => {
        report(new RecipeProblem('warning', 'lambda-auto-failed', `λ = auto: leave-one-out selection failed (${isComposerError(e) ? e.message : String(e)}); using λ*/2`, ['weights', 'lambda']));
        return { ratio: FALLBACK_RATIO, targets: 0, fallback: 'leave-one-out failed' };
      });
      checkAborted(options.signal);
      params.rho = choice.ratio;
      report(new RecipeProblem('information', 'lambda-auto', lambdaChoiceMessage(choice, choice.ratio * lambdaPath(problem, params.form).lambda_star), ['weights', 'lambda']));
    }
    const solved = solveAll(problem, params);
    const strategies: Partial<Record<string, StrategyResult>> = solved.strategies;
    const selected = strategies[spec.weights.strategy];
    const merged = selected ? outcome.candidates.filter((c) => (selected.weights[c.name] ?? 0) !== 0) : outcome.candidates;
    this.mergeVerdicts(recipe, merged, paths, report);
    const merge = mergePlan(recipe, solved.strategies[spec.weights.strategy]?.weights ?? {}, outcome.candidates);
    outcome.plan = {
      recipe: file,
      target: { dim: target.dim, source: target.source, count: target.count, sha256: sha256Prototype(target.prototype), norm: Math.sqrt(squaredDistance(target.prototype, new Float64Array(target.dim))) },
      candidates,
      candidate_distances: problem.prototypes.map((p) => problem.prototypes.map((q) => squaredDistance(p, q))),
      strategies,
      strategy: spec.weights.strategy,
      lambda_path: solved.lambdaPath,
      merge,
      ...(solved.lambdaPaths ? { lambda_paths: solved.lambdaPaths } : {}),
      library: { uri: paths.library, version: cached.version, size: info.size, encoder: info.encoder },
      ...(target.provider ? { provider: target.provider } : {}),
      warnings: [],
    };
    for (const p of staleLockProblems(recipe, paths, outcome.plan, outcome.candidates)) report(new RecipeProblem(p.severity, p.code, p.message, p.path, 'key'));
  }

  /** Adapter names the recipe mentions must exist (did-you-mean), and be of the recipe's base. */
  private checkNames(recipe: Recipe, byName: Map<string, AdapterRecord>, allNames: string[] | undefined, report: (p: RecipeProblem) => void): boolean {
    const spec = recipe.spec;
    let errors = false;
    // Did-you-mean over the whole library when it is small enough to hold; else over the names found.
    const names = allNames ?? [...byName.keys()];
    const check = (name: unknown, path: RecipePath, part: 'value' | 'key', severity: Severity) => {
      if (typeof name !== 'string') return;
      const record = byName.get(name);
      if (!record) {
        const suggestion = closestMatch(name, names);
        if (severity === 'error') errors = true;
        report(new RecipeProblem(severity, 'unknown-adapter', `no adapter \`${name}\` in the library${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`, path, part, suggestion ? { suggestion } : undefined));
      } else if (typeof spec.base === 'string' && !sameBase(record.base, spec.base)) {
        report(new RecipeProblem('error', 'base-mismatch', `adapter \`${name}\` is for base \`${record.base}\`, the recipe's base is \`${spec.base}\``, path, part));
      }
    };
    spec.retrieve.exclude.forEach((n, i) => check(n, ['retrieve', 'exclude', i], 'value', 'warning'));
    (spec.retrieve.adapters ?? []).forEach((n, i) => check(n, ['retrieve', 'adapters', i], 'value', 'error'));
    if (spec.weights.strategy === 'manual') {
      for (const n of Object.keys(spec.weights.manual ?? {})) check(n, ['weights', 'manual', n], 'key', 'error');
    }
    return errors;
  }

  /**
   * What `compose` would refuse about the adapters it merges (the selected strategy's non-zero
   * weights), decided by the same functions the merge calls: modules_to_save under `refuse`, no
   * module in common, and an adapter whose files no longer match its row (integrity.ts).
   */
  private mergeVerdicts(recipe: Recipe, merged: AdapterRecord[], paths: RecipePaths, report: (p: RecipeProblem) => void): void {
    const spec = recipe.spec;
    const where = (name: string): { path: RecipePath; part: 'key' | 'value' } => {
      const pinned = (spec.retrieve.adapters ?? []).indexOf(name);
      if (pinned >= 0) return { path: ['retrieve', 'adapters', pinned], part: 'value' };
      if (spec.weights.manual && name in spec.weights.manual) return { path: ['weights', 'manual', name], part: 'key' };
      return { path: ['retrieve'], part: 'key' };
    };
    const heads = modulesToSaveRefused(merged.map((c, index) => ({ index, name: `\`${c.name}\``, modules: detailsOf(c).modules_to_save ?? [] })), spec.merge.modules_to_save);
    if (heads) report(new RecipeProblem('error', 'modules-to-save', heads.message, ['merge'], 'key', { hint: heads.hint }));
    const withModules = merged.filter((c) => detailsOf(c).ranks);
    const unshared = noSharedModules(withModules.map((c) => ({ name: `\`${c.name}\``, format: c.format, modules: Object.keys(detailsOf(c).ranks ?? {}) })));
    if (unshared) {
      const at = where(withModules[unshared.index].name);
      report(new RecipeProblem('error', 'no-shared-modules', unshared.message, at.path, at.part, { hint: unshared.hint }));
    }
    // the adapters' headers and configs (kilobytes): shapes, and the integrity check below
    const opened = new Map<string, LoraAdapter | { unreadable: string }>();
    for (const record of merged) {
      if (isUri(record.path)) continue;
      try {
        opened.set(record.name, openAdapter(record.path));
      } catch (e) {
        opened.set(record.name, { unreadable: e instanceof Error ? e.message : String(e) });
      }
    }
    const readable = merged.filter((r) => { const a = opened.get(r.name); return a && !('unreadable' in a); });
    const conflict = shapeConflict(readable.map((r) => ({ name: `\`${r.name}\``, modules: (opened.get(r.name) as LoraAdapter).modules.values() })));
    if (conflict) {
      const at = where(readable[conflict.index].name);
      report(new RecipeProblem('error', 'dimension', conflict.message, at.path, at.part, { hint: conflict.hint }));
    }
    for (const record of merged) {
      const declared = baseOverride(record);
      if (declared !== undefined) {
        const at = where(record.name);
        report(new RecipeProblem('warning', 'base-overridden', `adapter \`${record.name}\`: base \`${record.base}\` was set by \`library add --override-base\`; the adapter itself names \`${declared}\``, at.path, at.part));
      }
      if (isUri(record.path)) continue;
      const adapter = opened.get(record.name)!;
      const drift = 'unreadable' in adapter ? adapter : this.verifier.verify(record, adapter);
      const at = where(record.name);
      if (!Array.isArray(drift)) {
        report(new RecipeProblem('error', 'adapter-unreadable', `adapter \`${record.name}\` cannot be read from ${record.path}: ${drift.unreadable}`, at.path, at.part, { hint: `restore its files, or remove it from the library (\`library rm ${paths.library} ${record.name}\`)` }));
        continue;
      }
      if (drift.length === 0) continue;
      report(new RecipeProblem('error', 'adapter-changed', `adapter \`${record.name}\` changed since it was added to the library (${describeDrift(drift)})`, at.path, at.part, { hint: driftHint(paths.library, record.name) }));
    }
  }

  /** Facts that make `compose` impossible or lossy, known from the library rows alone. */
  private checkMergeable(recipe: Recipe, candidates: AdapterRecord[], report: (p: RecipeProblem) => void): void {
    const merge = recipe.spec.merge;
    const totalRank = candidates.reduce((s, c) => s + c.rank, 0);
    if (merge.method === 'svd' && merge.rank >= totalRank) {
      report(new RecipeProblem('information', 'rank-exact', `rank ${merge.rank} ≥ the candidates' total rank ${totalRank}: the svd merge is exact (rank ≤ ${totalRank})`, ['merge', 'rank']));
    }
    const moduleSets = new Set(candidates.map((c) => [...c.target_modules].sort().join(',')));
    if (moduleSets.size > 1) {
      report(new RecipeProblem('information', 'modules-differ', `the candidates adapt different modules (${[...moduleSets].map((s) => `[${s}]`).join(' vs ')}); a module missing from an adapter contributes zero`, ['merge'], 'key'));
    }
  }

  private async openCached(uri: string): Promise<CachedLibrary> {
    let opening = this.libraries.get(uri);
    if (!opening) {
      opening = openLibrary(uri);
      this.libraries.set(uri, opening);
      opening.catch(() => this.libraries.delete(uri));
    }
    const library = await opening;
    const version = await library.version();
    const cached = this.adapterLists.get(uri);
    if (cached && cached.version === version) return cached;
    const info = await library.info();
    // A small library is held whole (completion lists every name); a large one is only queried.
    const adapters = info.size <= SMALL_LIBRARY ? await library.list() : undefined;
    const fresh: CachedLibrary = { library, version, info, adapters, searches: new Map() };
    this.adapterLists.set(uri, fresh);
    return fresh;
  }

  /** The rows of the adapters the recipe names (exclude, adapters, manual). */
  private async namedRecords(cached: CachedLibrary, recipe: Recipe): Promise<AdapterRecord[]> {
    const spec = recipe.spec;
    const names = [...spec.retrieve.exclude, ...(spec.retrieve.adapters ?? []), ...Object.keys(spec.weights.manual ?? {})].filter((n): n is string => typeof n === 'string');
    if (cached.adapters) {
      const wanted = new Set(names);
      return cached.adapters.filter((a) => wanted.has(a.name));
    }
    return names.length > 0 ? cached.library.getMany(names) : [];
  }

  /** k-NN, memoised per library version: while a user edits weights, the target and filters stay put. */
  private async search(cached: CachedLibrary, target: Float64Array, options: SearchOptions): Promise<{ record: AdapterRecord; distance: number }[]> {
    const key = JSON.stringify([sha256Prototype(target), options.k, options.base, options.where ?? null, [...(options.exclude ?? [])].sort()]);
    const hit = cached.searches.get(key);
    if (hit) return hit;
    const hits = await cached.library.search(target, options);
    if (cached.searches.size >= 32) cached.searches.delete(cached.searches.keys().next().value!);
    cached.searches.set(key, hits);
    return hits;
  }

  private async encoder(file: string, provider: string | undefined): Promise<Encoder> {
    const key = `${encoderSessionKey(file)}\u0000${provider ?? 'auto'}`;
    let opening = this.encoders.get(key);
    if (!opening) {
      opening = openEncoder(file, { provider: (provider ?? 'auto') as never });
      this.encoders.set(key, opening);
      opening.catch(() => this.encoders.delete(key));
    }
    return opening;
  }

  private async targetPrototype(
    recipe: Recipe,
    paths: RecipePaths,
    encoderFile: string | undefined,
    dim: number,
    options: PlanOptions,
    report?: (p: RecipeProblem) => void,
  ): Promise<PrototypeResult & { source: TargetSource; provider?: string }> {
    const source = targetSource(recipe.spec.target);
    const where: RecipePath = ['target', source ?? 'samples'];
    const located = (e: unknown): never => {
      if (isComposerError(e) && e.code === 'cancelled') throw e;
      throw new RecipeProblem('error', isComposerError(e) ? e.code : 'target', isComposerError(e) ? e.message : String(e), where);
    };
    if (source === 'features' || source === 'prototype') {
      const file = paths.target.file!;
      if (!fs.existsSync(file)) throw new RecipeProblem('error', 'missing-file', `${source} file not found: ${file}`, where);
      const fp = fileFingerprint(file);
      const key = prototypeCacheKey({ encoderSha256: '', source, inputSha256s: [fp] });
      let result = this.prototypes.get(key);
      if (!result) {
        // async wrapper: prototypeFromFile throws synchronously, and the error must still get its location.
        const read = async () => (source === 'features' ? prototypeFromFeatures(file, { dim, signal: options.signal }) : prototypeFromFile(file, { dim }));
        result = await read().catch(located);
        this.remember(key, result);
      }
      return { ...result, source };
    }
    if (source === 'samples' || source === 'text') {
      const files = source === 'samples' ? (await glob(paths.target.globs ?? [], { absolute: true, onlyFiles: true, expandDirectories: false })).sort() : [];
      if (source === 'samples' && files.length === 0) {
        throw new RecipeProblem('error', 'missing-file', `no sample files match ${(paths.target.patterns ?? []).map((p) => `\`${p}\``).join(', ')} (relative to ${paths.recipeDir})`, where);
      }
      // Before anything reads them (fingerprints, hashes, the encoder): regular files only — a link to
      // /dev/zero or a FIFO would never end.
      for (const f of files) {
        try {
          assertRegularFile(f, 'sample file');
        } catch (e) {
          located(e);
        }
      }
      if (!encoderFile) {
        throw new RecipeProblem('error', 'no-encoder', `the library has no encoder (it was created with \`--dim\`), so ${source === 'text' ? 'a text' : 'samples'} cannot be encoded`, where, 'value', {
          hint: 'give `features:` or `prototype:` instead, or create the library with `--encoder model.onnx`',
        });
      }
      // The encoder session is cached; its config (encoder.json beside it) is part of the key.
      const encoder = await this.encoder(encoderFile, options.provider).catch(located);
      this.provider = encoder.provider;
      if (encoder.fallback) report?.(new RecipeProblem('warning', 'provider-fallback', encoder.fallback, where, 'key'));
      const text = source === 'text' ? (paths.target.text ?? recipe.spec.target.text ?? '') : '';
      if (source === 'text' && encoder.inputKind !== 'text') {
        throw new RecipeProblem('error', 'text-target', `\`target.text\` needs an encoder with a text input; this library's encoder takes ${encoder.inputKind === 'image' ? 'images' : 'feature vectors'}`, where, 'value', {
          hint: 'give `samples:`, `features:` or `prototype:` instead, or use a library whose encoder.json has "kind": "text"',
        });
      }
      const key = prototypeCacheKey({
        encoderSha256: `${fileFingerprint(encoderFile)}\u0000${encoder.config?.sha256 ?? ''}`,
        source,
        inputSha256s: source === 'text' ? [sha256Bytes(text)] : files.map(fileFingerprint),
      });
      const hit = this.prototypes.get(key);
      if (hit) return { ...hit, source, provider: encoder.provider };
      // Across processes (CLI runs, CI, editor restarts) the disk cache, keyed by content, saves re-encoding.
      const contentKey = source === 'samples' ? this.contentKey(encoderFile, encoder.config?.sha256, files) : undefined;
      const stored = contentKey ? this.diskCache.get(contentKey) : undefined;
      const storedCount = contentKey && stored ? this.diskCache.count(contentKey) : undefined;
      if (stored && storedCount && stored.length === dim) {
        const result = { prototype: stored, count: storedCount, dim };
        this.remember(key, result);
        return { ...result, source, provider: encoder.provider };
      }
      const result = await (source === 'text'
        ? prototypeFromText(encoder, text)
        : prototypeFromSamples(encoder, files, {
            signal: options.signal,
            onProgress: options.onProgress ? (p) => options.onProgress!(p.done, p.total) : undefined,
          })).catch(located);
      if (result.dim !== dim) {
        throw new RecipeProblem('error', 'dimension', `the encoder produced ${result.dim}-d prototypes but the library holds ${dim}-d ones`, ['library']);
      }
      this.remember(key, result);
      if (contentKey) {
        try {
          this.diskCache.putWithCount(contentKey, result.prototype, result.count);
        } catch {
          // A read-only or full cache folder only costs the next run an encode.
        }
      }
      return { ...result, source, provider: encoder.provider };
    }
    throw new RecipeProblem('error', 'no-target', 'the recipe gives no target', ['target'], 'key');
  }

  /** sha256 over (encoder bytes, encoder config, every input's bytes); file hashes memoised by fingerprint. */
  private contentKey(encoderFile: string, configSha256: string | undefined, files: string[]): string {
    const hash = (file: string) => {
      const fp = fileFingerprint(file);
      let sha = this.fileHashes.get(fp);
      if (!sha) {
        sha = sha256FileSync(file);
        if (this.fileHashes.size >= 100_000) this.fileHashes.clear();
        this.fileHashes.set(fp, sha);
      }
      return sha;
    };
    return prototypeCacheKey({ encoderSha256: `${hash(encoderFile)}:${configSha256 ?? ''}`, source: 'samples', inputSha256s: files.map(hash) });
  }

  private remember(key: string, result: PrototypeResult): void {
    // Bounded: an editing session touches a handful of targets; drop the oldest beyond that.
    if (this.prototypes.size >= 64) this.prototypes.delete(this.prototypes.keys().next().value!);
    this.prototypes.set(key, result);
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

function unknownBase(base: string, adapters: AdapterRecord[]): RecipeProblem {
  const bases = [...new Set(adapters.map((a) => a.base))].sort();
  const suggestion = closestMatch(base, bases);
  return new RecipeProblem('error', 'unknown-base', `no adapter in the library is for base model \`${base}\` (it has: ${bases.slice(0, 12).join(', ')}${bases.length > 12 ? ', …' : ''})`, ['base'], 'value', suggestion ? { suggestion } : undefined);
}

function mergeByName(a: AdapterRecord[], b: AdapterRecord[]): AdapterRecord[] {
  const seen = new Set(a.map((r) => r.name));
  return [...a, ...b.filter((r) => !seen.has(r.name))];
}

function detailsOf(record: AdapterRecord): { modules_to_save?: string[]; ranks?: Record<string, number> } {
  if (!record.details) return {};
  try {
    return JSON.parse(record.details) as { modules_to_save?: string[]; ranks?: Record<string, number> };
  } catch {
    return {};
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ComposerError('cancelled', 'planning cancelled');
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
