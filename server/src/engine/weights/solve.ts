/**
 * The weights step: one strategy (solveWeights) or all of them over one cost matrix (solveAll, what
 * the editor recomputes on every keystroke). A WeightsSession holds one problem's cost matrix and its
 * expensive solutions (lin, convex, both λ-paths, the candidates' distances); the planner keeps
 * sessions across keystrokes, so editing ρ, λ, τ, the strategy or the form re-solves nothing heavy.
 */
import { ComposerError } from '../errors';
import type { LambdaPath, SparseForm, Strategy, StrategyResult, WeightsParams } from '../types';
import { averageWeights } from './average';
import { convexWeights } from './convex';
import { costAndGram } from './costMatrix';
import { denseKernels, type TargetProducts } from '../linalg/simdDot';
import { computeLambdaPath } from './lambdaPath';
import { linearWeights } from './linear';
import { directSquaredResidual, manualWeights, sumOfWeights } from './manual';
import { nearestWeights } from './nearest';
import type { WeightsProblem } from './problem';
import { strategyResult } from './result';
import { computeLassoPath, lassoData, lassoObjective, normalisedLasso } from './lassoPath';
import { DEFAULT_SPARSE_FORM } from './forms';
import { similarityWeights } from './similarity';
import { minimumNormSparse, resolveSparsePenalty, sparseAt } from './sparse';

/** The strategies solveAll always answers (manual joins when the params give weights). */
const ALWAYS: Strategy[] = ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest'];

export interface AllStrategies {
  strategies: Partial<Record<Strategy, StrategyResult>>;
  lambdaPath: LambdaPath;
  lambdaPaths: Partial<Record<SparseForm, LambdaPath>>;
}

/**
 * The cost matrix and the expensive solutions, each computed at most once per problem. What it hands
 * out is shared between calls: callers must not mutate the paths or the distances.
 */
export class WeightsSession {
  readonly k: number;
  readonly c: Float64Array;
  private lin?: Float64Array;
  private convex?: Float64Array;
  private path?: LambdaPath;
  private lasso?: { path: LambdaPath; data: ReturnType<typeof lassoData> };
  private distances?: number[][];
  private readonly products: TargetProducts;
  /** The prototypes' Gram when C was derived from it (costAndGram), for the lasso. */
  private readonly gram?: Float64Array;

  constructor(readonly problem: WeightsProblem) {
    this.k = problem.names.length;
    // The lasso's products with the target come from the cost matrix's pass (the rows are in the
    // kernel's memory then): cheaper than a second pass over k·D when the lasso path is asked for.
    const k = problem.prototypes.length;
    this.products = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
    // A target far from the origin: C derived from the prototypes' Gram, kept for the lasso.
    const { c, gram } = costAndGram(problem, this.products);
    this.c = c;
    this.gram = gram ?? undefined;
  }

  linear(): Float64Array {
    return (this.lin ??= linearWeights(this.c, this.k));
  }

  convexHull(): Float64Array {
    return (this.convex ??= convexWeights(this.c, this.k));
  }

  lambdaPath(): LambdaPath {
    return (this.path ??= computeLambdaPath(this.c, this.problem.names, this.linear(), this.convexHull()));
  }

  lassoPath(): LambdaPath {
    return this.lassoSolution().path;
  }

  private lassoSolution(): { path: LambdaPath; data: ReturnType<typeof lassoData> } {
    if (!this.lasso) {
      const data = lassoData(this.problem.target, this.problem.prototypes, this.c, this.products, this.gram);
      this.lasso = { path: computeLassoPath(data, this.problem.names), data };
    }
    return this.lasso;
  }

  /** ‖pᵢ − pⱼ‖² between the candidates (exactly symmetric, summed from the differences: no cancellation). */
  candidateDistances(): number[][] {
    if (!this.distances) {
      const { prototypes } = this.problem;
      const dim = this.problem.target.length;
      const rows = new Float64Array(this.k * dim);
      prototypes.forEach((p, i) => rows.set(p, i * dim));
      const d = denseKernels().squaredDistances(rows, this.k, dim);
      this.distances = prototypes.map((_, i) => Array.from(d.subarray(i * this.k, (i + 1) * this.k)));
    }
    return this.distances;
  }

  /** Every strategy (manual too when given) and both λ-paths; `lambdaPath` is the params' form's. */
  solveAll(params: WeightsParams): AllStrategies {
    const strategies: Partial<Record<Strategy, StrategyResult>> = {};
    for (const strategy of ALWAYS) strategies[strategy] = this.solve(strategy, params);
    if (params.manual) strategies.manual = this.solve('manual', params);
    return {
      strategies,
      lambdaPath: this.pathOf(params.form ?? DEFAULT_SPARSE_FORM),
      lambdaPaths: { constrained: this.lambdaPath(), lasso: this.lassoPath() },
    };
  }

  pathOf(form: SparseForm): LambdaPath {
    return form === 'lasso' ? this.lassoPath() : this.lambdaPath();
  }

  solve(strategy: Strategy, params: WeightsParams): StrategyResult {
    const { c, k } = this;
    const names = this.problem.names;
    switch (strategy) {
      case 'avg':
        return strategyResult(c, names, averageWeights(k));
      case 'sim': {
        const { w, temperature } = similarityWeights(c, k, params.temperature);
        return strategyResult(c, names, w, { temperature });
      }
      case 'lin':
        return strategyResult(c, names, this.linear());
      case 'convex':
        return strategyResult(c, names, this.convexHull());
      case 'sparse': {
        const form = params.form ?? DEFAULT_SPARSE_FORM;
        if (form === 'lasso') {
          const { path, data } = this.lassoSolution();
          const { lambda, rho } = resolveSparsePenalty(path, params);
          const raw = sparseAt(path, lambda);
          // No prototype correlates positively with the target: the lasso keeps nothing; use the nearest.
          const w = normalisedLasso(path, raw) ?? Array.from(nearestWeights(c, k));
          return strategyResult(c, names, w, { lambda, lambda_star: path.lambda_star, ...(rho !== undefined ? { rho } : {}), form, objective: lassoObjective(c, data, raw, lambda) });
        }
        if (form !== 'constrained') {
          throw new ComposerError('weights', `unknown sparse form '${String(form)}'`, undefined, 'use constrained or lasso');
        }
        const path = this.lambdaPath();
        const { lambda, rho } = resolveSparsePenalty(path, params);
        // The path point is optimal; strictly inside (0, λ*) the minimiser may not be unique.
        const onPath = sparseAt(path, lambda);
        const w = lambda > 0 && lambda < path.lambda_star ? minimumNormSparse(c, k, onPath, lambda) : onPath;
        return strategyResult(c, names, w, { lambda, lambda_star: path.lambda_star, ...(rho !== undefined ? { rho } : {}), form: 'constrained' });
      }
      case 'nearest':
        return strategyResult(c, names, nearestWeights(c, k));
      case 'manual': {
        if (!params.manual) {
          throw new ComposerError('weights', 'strategy manual needs weights by adapter name', undefined, 'add `weights: { name: value, ... }` to the recipe');
        }
        const w = manualWeights(names, params.manual);
        // wᵀCw is ‖t − Σwᵢpᵢ‖² only when Σw = 1.
        const sumsToOne = Math.abs(sumOfWeights(params.manual) - 1) <= 1e-12;
        return strategyResult(c, names, w, sumsToOne ? {} : { squaredResidual: directSquaredResidual(this.problem, w) });
      }
      default:
        throw new ComposerError('weights', `unknown weights strategy '${String(strategy)}'`, undefined, 'use one of avg, sim, lin, sparse, convex, nearest, manual');
    }
  }
}

export function solveWeights(problem: WeightsProblem, params: WeightsParams): StrategyResult {
  return new WeightsSession(problem).solve(params.strategy, params);
}

export function solveAll(problem: WeightsProblem, params: WeightsParams): AllStrategies {
  return new WeightsSession(problem).solveAll(params);
}

/** The λ-path of one sparse form (default: the constrained one). */
export function lambdaPath(problem: WeightsProblem, form: SparseForm = 'constrained'): LambdaPath {
  return new WeightsSession(problem).pathOf(form);
}
