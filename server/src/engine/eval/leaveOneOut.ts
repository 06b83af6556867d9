/**
 * The paper's evaluation protocol on a library: every adapter in turn is the target (its stored
 * prototype) and is composed from the OTHER adapters of its base model — the k nearest prototypes,
 * weighted by each strategy. Because the held-out adapter is known, each composition is scored by the
 * relative Frobenius distance and cosine between Σ wᵢsᵢBᵢAᵢ and the held-out ΔW, computed from the
 * factors (deltaGram.ts), next to the prototype residual the weights minimise.
 */
import { sameBase } from '../library/baseModels';
import { ComposerError } from '../errors';
import type { PanelProducts } from '../lora/panelProducts';
import { costMatrixOfValid, quadraticForm } from '../weights/costMatrix';
import { cleanWeights, NONZERO_THRESHOLD } from '../weights/result';
import { DEFAULT_RHO, solveAll, sparseAt, squaredDistance } from '../weights';
import type { AdapterRecord, Candidate, LambdaPath, SparseForm, Strategy } from '../types';
import { AdapterDeltaGram, compareComposition } from './deltaGram';
import { ownValue, tableOf } from '../nameTable';

export const EVAL_STRATEGIES: readonly Strategy[] = ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest'];

/** λ/λ* grid of the λ-curve: λ = 0 is `lin`, λ = λ* is `convex`. */
export const LAMBDA_RATIOS: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

export const DEFAULT_EVAL_LAMBDA = 0.05;

export interface LeaveOneOutOptions {
  /** Candidates per target (fewer when the base has fewer other adapters). Default 5. */
  k?: number;
  strategies?: readonly Strategy[];
  /**
   * sparse: an absolute λ, or 'auto' — λ = ρ·λ*ₜ with ρ chosen for each target by the λ-curve of the
   * OTHER targets of its base (nested, so the target never tunes its own λ). Default: none, ρ = DEFAULT_RHO.
   */
  lambda?: number | 'auto';
  /** sim: the softmax temperature (default: each problem's median distance). */
  temperature?: number;
  /** sparse: the scale-free ρ (λ = ρ·λ* of each problem) instead of an absolute λ. */
  rho?: number;
  /** sparse: constrained (default) | lasso. The λ-curve is of the constrained form. */
  form?: SparseForm;
  /** Only adapters of this base model (both as targets and as candidates). */
  base?: string;
  /** Also compute the λ-curve (always computed for lambda 'auto'). */
  lambdaCurve?: boolean;
  products?: PanelProducts;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface TargetScore {
  weights: Record<string, number>;
  /** ‖t − Σwᵢpᵢ‖₂ */
  residual: number;
  nonzero: number;
  /** ‖Σwᵢ ΔWᵢ − ΔW_t‖_F / ‖ΔW_t‖_F over all modules. */
  delta_rel_error: number;
  delta_cosine: number;
  lambda?: number;
}

export interface TargetResult {
  target: string;
  base: string;
  candidates: Candidate[];
  lambda_star: number;
  strategies: Partial<Record<Strategy, TargetScore>>;
}

export interface StrategySummary {
  mean_delta_rel_error: number;
  median_delta_rel_error: number;
  mean_delta_cosine: number;
  mean_residual: number;
  mean_nonzero: number;
  /** Targets on which this strategy has the smallest delta error (ties count for each). */
  wins: number;
}

export interface LambdaCurvePoint {
  /** λ/λ* of each target's problem. */
  ratio: number;
  mean_delta_rel_error: number;
  median_delta_rel_error: number;
  mean_residual: number;
  mean_nonzero: number;
}

export interface LambdaCurve {
  points: LambdaCurvePoint[];
  /** The ratio with the smallest mean delta error. */
  best_ratio: number;
  best_mean_delta_rel_error: number;
  targets: number;
}

export interface LeaveOneOutResult {
  k: number;
  /** The absolute λ asked for (unused when rho is set). */
  lambda: number | 'auto';
  /** sparse at λ = ρ·λ* of each problem (scale-free), when asked for. */
  rho?: number;
  /** The sparse form evaluated (absent: constrained). */
  form?: SparseForm;
  strategies: Strategy[];
  targets: TargetResult[];
  summary: Partial<Record<Strategy, StrategySummary>>;
  /** Adapters that could not be a target (the only adapter of their base). */
  skipped: { target: string; reason: string }[];
  lambda_curve?: LambdaCurve;
  stats: { adapters: number; tensor_reads: number; products: string; solve_ms: number; gram_ms: number; total_ms: number };
}

interface Problem {
  index: number;
  base: string;
  members: number[];
  candidates: Candidate[];
  c: Float64Array;
  path: LambdaPath;
  solved: Partial<Record<Strategy, { weights: Record<string, number> }>>;
}

export async function leaveOneOut(records: AdapterRecord[], options: LeaveOneOutOptions = {}): Promise<LeaveOneOutResult> {
  const started = Date.now();
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new ComposerError('usage', `k must be a positive integer, got ${k}`);
  const strategies = [...(options.strategies ?? EVAL_STRATEGIES)];
  for (const s of strategies) {
    if (!(EVAL_STRATEGIES as readonly string[]).includes(s)) throw new ComposerError('usage', `strategy '${s}' cannot be evaluated leave-one-out (${EVAL_STRATEGIES.join(', ')})`);
  }
  const lambda = options.lambda ?? DEFAULT_EVAL_LAMBDA;
  // The one scale-free default (as recipes and --strategy sparse): ρ, unless an absolute λ is asked for.
  const rho = options.rho ?? (options.lambda === undefined ? DEFAULT_RHO : undefined);
  if (lambda !== 'auto' && !(Number.isFinite(lambda) && lambda >= 0)) throw new ComposerError('usage', `λ must be a number ≥ 0 or auto, got ${lambda}`);
  const say = options.onProgress ?? (() => undefined);

  const pool = [...records].filter((r) => options.base === undefined || sameBase(r.base, options.base)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (pool.length === 0) {
    throw new ComposerError('library', options.base ? `no adapter in the library is for base model \`${options.base}\`` : 'the library holds no adapters', undefined, 'add adapters with `adapter-composer library add`');
  }
  const prototypes = pool.map((r) => Float64Array.from(r.prototype));
  const byBase = new Map<string, number[]>();
  pool.forEach((r, i) => byBase.set(r.base, [...(byBase.get(r.base) ?? []), i]));

  // 1. Retrieval and weights from the prototypes alone (exact k-NN, ties by name, as the planner).
  const problems: Problem[] = [];
  const skipped: LeaveOneOutResult['skipped'] = [];
  for (let t = 0; t < pool.length; t++) {
    const others = byBase.get(pool[t].base)!.filter((i) => i !== t);
    if (others.length === 0) {
      skipped.push({ target: pool[t].name, reason: `the only adapter of base \`${pool[t].base}\`` });
      continue;
    }
    const ranked = others
      .map((i) => ({ i, distance: squaredDistance(prototypes[t], prototypes[i]) }))
      .sort((a, b) => a.distance - b.distance || (pool[a.i].name < pool[b.i].name ? -1 : 1))
      .slice(0, k);
    const members = ranked.map((h) => h.i);
    const problem = { target: prototypes[t], prototypes: members.map((i) => prototypes[i]), names: members.map((i) => pool[i].name) };
    const penalty = rho !== undefined && lambda !== 'auto' ? { rho } : { lambda: lambda === 'auto' ? 0 : lambda };
    const solved = solveAll(problem, { strategy: 'sparse', ...penalty, ...(options.temperature !== undefined ? { temperature: options.temperature } : {}) });
    if (options.form === 'lasso') solved.strategies.sparse = solveAll(problem, { strategy: 'sparse', form: 'lasso', ...penalty }).strategies.sparse;
    problems.push({
      index: t,
      base: pool[t].base,
      members,
      candidates: ranked.map((h) => ({ name: pool[h.i].name, distance: h.distance })),
      c: costMatrixOfValid(problem.target, problem.prototypes),
      path: solved.lambdaPath,
      solved: solved.strategies,
    });
  }
  if (problems.length === 0) {
    throw new ComposerError('library', 'no adapter has another of the same base model to be composed from', undefined, 'leave-one-out needs at least two adapters of one base');
  }
  const solveMs = Date.now() - started;

  // 2. Inner products of the deltas within each {target} ∪ candidates, each tensor read once.
  say(`reading the factors of ${new Set(problems.flatMap((p) => [p.index, ...p.members])).size} adapters`);
  const gramStarted = Date.now();
  const gram = AdapterDeltaGram.open(pool.map((r) => ({ name: r.name, path: r.path })));
  await gram.ensure(problems.map((p) => [p.index, ...p.members]), {
    products: options.products,
    signal: options.signal,
    onProgress: (p) => say(`delta inner products: module ${p.modulesDone}/${p.modulesTotal}`),
  });
  const gramMs = Date.now() - gramStarted;
  // A target whose ΔW is zero (the base model as a candidate, `library add-base`) has no relative error:
  // ‖Σwᵢ ΔWᵢ − 0‖ / ‖0‖ is undefined. It stays a candidate for the others, but is not scored.
  const scored = problems.filter((p) => {
    if (gram.inner(p.index, p.index) > 0) return true;
    skipped.push({ target: pool[p.index].name, reason: 'its ΔW is zero (the base model as a candidate): a relative error to it is undefined' });
    return false;
  });
  if (scored.length === 0) {
    throw new ComposerError('library', 'every adapter that could be a target has ΔW = 0', undefined, 'leave-one-out needs at least one adapter with a non-zero ΔW and another of the same base');
  }

  // 3. The λ-curve (and, for λ = auto, each target's ratio chosen without it).
  const wantCurve = options.lambdaCurve || lambda === 'auto';
  const curveScores = wantCurve ? scored.map((p) => LAMBDA_RATIOS.map((ratio) => scoreWeights(gram, p, sparseAt(p.path, ratio * p.path.lambda_star)))) : [];

  const targets: TargetResult[] = scored.map((p, n) => {
    const scores: Partial<Record<Strategy, TargetScore>> = {};
    for (const strategy of strategies) {
      if (strategy === 'sparse' && lambda === 'auto') {
        const ratio = nestedRatio(curveScores, scored, n);
        const atLambda = ratio * p.path.lambda_star;
        scores.sparse = { ...scoreWeights(gram, p, sparseAt(p.path, atLambda)), lambda: atLambda };
        continue;
      }
      const solved = p.solved[strategy];
      if (!solved) continue;
      const w = p.members.map((i) => ownValue(solved.weights, pool[i].name) as number);
      scores[strategy] = { ...scoreWeights(gram, p, w), ...(strategy === 'sparse' ? { lambda: (solved as { lambda?: number }).lambda ?? (lambda as number) } : {}) };
    }
    return { target: pool[p.index].name, base: p.base, candidates: p.candidates, lambda_star: p.path.lambda_star, strategies: scores };
  });

  const result: LeaveOneOutResult = {
    k,
    lambda,
    ...(rho !== undefined && lambda !== 'auto' ? { rho } : {}),
    ...(options.form === 'lasso' ? { form: options.form } : {}),
    strategies,
    targets,
    summary: summarize(targets, strategies),
    skipped,
    stats: { adapters: pool.length, tensor_reads: gram.tensorReads, products: options.products?.name ?? 'js', solve_ms: solveMs, gram_ms: gramMs, total_ms: 0 },
  };
  if (wantCurve) result.lambda_curve = curveOf(curveScores);
  result.stats.total_ms = Date.now() - started;
  return result;
}

function scoreWeights(gram: AdapterDeltaGram, p: Problem, raw: ArrayLike<number>): TargetScore {
  const w = cleanWeights(raw);
  const k = p.members.length;
  const { relativeError, cosine } = compareComposition(gram, p.members, w, p.index);
  const weights = tableOf(p.candidates.map((c, i) => [c.name, w[i]] as const));
  let nonzero = 0;
  for (let i = 0; i < k; i++) if (Math.abs(w[i]) > NONZERO_THRESHOLD) nonzero++;
  return { weights, residual: Math.sqrt(Math.max(0, quadraticForm(p.c, k, w))), nonzero, delta_rel_error: relativeError, delta_cosine: cosine };
}

/** The ratio minimising the mean delta error over the other targets of the same base. */
function nestedRatio(curveScores: TargetScore[][], problems: Problem[], n: number): number {
  let best = 0.5;
  let bestError = Infinity;
  LAMBDA_RATIOS.forEach((ratio, u) => {
    let sum = 0;
    let count = 0;
    problems.forEach((p, m) => {
      if (m === n || p.base !== problems[n].base) return;
      sum += curveScores[m][u].delta_rel_error;
      count++;
    });
    if (count > 0 && sum / count < bestError - 1e-15) {
      bestError = sum / count;
      best = ratio;
    }
  });
  return best;
}

function curveOf(curveScores: TargetScore[][]): LambdaCurve {
  const points = LAMBDA_RATIOS.map((ratio, u) => {
    const at = curveScores.map((scores) => scores[u]);
    return {
      ratio,
      mean_delta_rel_error: mean(at.map((s) => s.delta_rel_error)),
      median_delta_rel_error: median(at.map((s) => s.delta_rel_error)),
      mean_residual: mean(at.map((s) => s.residual)),
      mean_nonzero: mean(at.map((s) => s.nonzero)),
    };
  });
  let best = points[0];
  for (const p of points) if (p.mean_delta_rel_error < best.mean_delta_rel_error - 1e-15) best = p;
  return { points, best_ratio: best.ratio, best_mean_delta_rel_error: best.mean_delta_rel_error, targets: curveScores.length };
}

export function summarize(targets: TargetResult[], strategies: readonly Strategy[]): Partial<Record<Strategy, StrategySummary>> {
  const wins = new Map<Strategy, number>();
  for (const t of targets) {
    const errors = strategies.map((s) => t.strategies[s]?.delta_rel_error ?? Infinity);
    const best = Math.min(...errors);
    strategies.forEach((s, i) => {
      if (errors[i] <= best + 1e-12 * Math.max(1, best)) wins.set(s, (wins.get(s) ?? 0) + 1);
    });
  }
  const summary: Partial<Record<Strategy, StrategySummary>> = {};
  for (const s of strategies) {
    const rows = targets.map((t) => t.strategies[s]).filter((x): x is TargetScore => x !== undefined);
    if (rows.length === 0) continue;
    summary[s] = {
      mean_delta_rel_error: mean(rows.map((r) => r.delta_rel_error)),
      median_delta_rel_error: median(rows.map((r) => r.delta_rel_error)),
      mean_delta_cosine: mean(rows.map((r) => r.delta_cosine)),
      mean_residual: mean(rows.map((r) => r.residual)),
      mean_nonzero: mean(rows.map((r) => r.nonzero)),
      wins: wins.get(s) ?? 0,
    };
  }
  return summary;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
