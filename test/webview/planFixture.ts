/**
 * A plan as the server would send it, with numbers that satisfy the plan's invariants
 * (every strategy's weights sum to 1; the λ-path runs from lin to convex) so the charts show real shapes.
 */
import type { PlanJson } from '../../server/src/engine/types';
import type { RunHistoryEntry, ViewState } from '../../server/src/protocol';

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
