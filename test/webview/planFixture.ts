/**
 * A plan as the server would send it, with numbers that satisfy the plan's invariants
 * (every strategy's weights sum to 1; the λ-path runs from lin to convex) so the charts show real shapes.
 */
import type { PlanJson } from '../../server/src/engine/types';
import type { EvaluationResult, RunHistoryEntry, ViewState } from '../../server/src/protocol';

export const names = ['math-lora', 'code-lora', 'chat-lora', 'legal-lora'];

const lin = [0.82, 0.41, -0.08, -0.15];
const convex = [0.7, 0.3, 0, 0];
const mid = [0.76, 0.32, -0.08, 0]; // legal-lora reaches 0 first
const lambdaStar = 0.4;

function result(weights: number[], residual: number, extra: Partial<PlanJson['strategies']['avg']> = {}) {
  return {
    weights: Object.fromEntries(names.map((n, i) => [n, weights[i]])),
    objective: residual * residual,
    residual,
    nonzero: weights.filter((w) => Math.abs(w) > 1e-12).length,
    ...extra,
  };
}

export function planFixture(strategy: PlanJson['strategy'] = 'sparse', lambda = 0.1): PlanJson {
  return {
    recipe: 'demo.compose.yaml',
    target: { dim: 384, source: 'samples', count: 32 },
    candidates: names.map((name, i) => ({ name, distance: 0.2 + 0.15 * i })),
    strategies: {
      avg: result([0.25, 0.25, 0.25, 0.25], 0.61),
      sim: result([0.4, 0.3, 0.18, 0.12], 0.44, { temperature: 0.35 }),
      lin: result(lin, 0.12),
      sparse: result(mid, 0.18, { lambda, lambda_star: lambdaStar }),
      convex: result(convex, 0.25),
      nearest: result([1, 0, 0, 0], 0.52),
    },
    strategy,
    lambda_path: {
      names,
      lambda_star: lambdaStar,
      breakpoints: [
        { lambda: 0, weights: lin },
        { lambda: 0.15, weights: mid },
        { lambda: lambdaStar, weights: convex },
      ],
    },
    library: { uri: './library', version: 3, size: 12, encoder: { dim: 384 } },
    provider: 'cpu',
    warnings: ['lin puts negative weight on chat-lora, legal-lora'],
  };
}

export const historyFixture: RunHistoryEntry[] = [
  { id: 'a', time: '2026-01-02T10:00:00Z', strategy: 'avg', metrics: { accuracy: 0.61, loss: 1.4 } },
  { id: 'b', time: '2026-01-02T11:00:00Z', strategy: 'lin', metrics: { accuracy: 0.66, loss: 1.2 } },
  { id: 'c', time: '2026-01-02T12:00:00Z', strategy: 'sparse', metrics: { accuracy: 0.71, loss: 1.05 } },
];

export function stateFixture(overrides: Partial<ViewState> = {}): ViewState {
  return {
    uri: 'file:///ws/demo.compose.yaml',
    fileName: 'demo.compose.yaml',
    version: 1,
    plan: planFixture(),
    history: historyFixture,
    trusted: true,
    ...overrides,
  };
}

const LOO_STRATEGIES = ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest'];

/**
 * A leave-one-out result as ServerCommands.evaluate returns it: per-target ΔW errors, the summary computed
 * from them (means, medians and wins as engine/eval/leaveOneOut.ts defines them), and the evaluator's metrics.
 */
export function evaluationFixture(): EvaluationResult {
  const targets = ['t1', 't2', 't3'].map((target, t) => ({
    target,
    strategies: Object.fromEntries(LOO_STRATEGIES.map((s, i) => [s, { delta_rel_error: 0.4 + 0.1 * i + 0.05 * t * (i % 2 ? 1 : -1), delta_cosine: 0.9 - 0.05 * i, nonzero: 4 - (i % 3) }])),
  }));
  const summary = Object.fromEntries(LOO_STRATEGIES.map((s) => {
    const errors = targets.map((t) => t.strategies[s].delta_rel_error);
    const sorted = [...errors].sort((a, b) => a - b);
    return [s, {
      mean_delta_rel_error: errors.reduce((a, b) => a + b, 0) / errors.length,
      median_delta_rel_error: sorted[1],
      mean_delta_cosine: targets.reduce((a, t) => a + t.strategies[s].delta_cosine, 0) / targets.length,
      mean_residual: 0.3,
      mean_nonzero: targets.reduce((a, t) => a + t.strategies[s].nonzero, 0) / targets.length,
      wins: targets.filter((t) => Math.min(...LOO_STRATEGIES.map((x) => t.strategies[x].delta_rel_error)) === t.strategies[s].delta_rel_error).length,
    }];
  }));
  const accuracy: Record<string, number> = { avg: 0.78, sim: 0.82, lin: 0.81, sparse: 0.84, convex: 0.85, nearest: 0.76 };
  return {
    recipe: '/ws/demo.compose.yaml',
    leaveOneOut: {
      library: { uri: '/ws/library', version: 2, size: 3 },
      k: 2, lambda: 0.05, rho: 0.5, strategies: LOO_STRATEGIES, targets, summary, skipped: [], warnings: [], stats: { total_ms: 800 },
    },
    metrics: {
      targets: [{
        name: 'demo', held_out: 't1',
        base: { accuracy: 0.58, nll: 1.82, samples: 600 },
        held_out_metrics: { accuracy: 0.86, nll: 0.53, samples: 600 },
        strategies: Object.fromEntries(LOO_STRATEGIES.map((s) => [s, { metrics: { accuracy: accuracy[s], nll: 1 - accuracy[s], samples: 600 }, status: 'ok' }])),
      }],
      total_ms: 600,
    },
    time: '2026-01-02T12:30:00.000Z',
    total_ms: 1400,
  };
}
