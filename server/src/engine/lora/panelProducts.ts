/**
 * The heavy products of a merge, behind one interface: X·Xᵀ, M·X, the two Grams of a module's
 * concatenated factors and its output factors. The JS implementation (float64) is the reference; the
 * ONNX Runtime one (panelGraphs.ts) is faster for large panels and leaves small products to JS.
 */
import type { MatMulEngine } from '../onnx/matmul';
import { multiply, rowGram } from '../linalg/dense';
import type { FactorPanels, PanelArray, ProductPrecision } from './factorPanels';
import { panelGraphs } from './panelGraphs';

/** The heavy products. The JS one is the reference; the ORT one is faster for large panels. */
export interface PanelProducts {
  readonly name: string;
  /** X·Xᵀ for X [rows, cols] (row-major) → [rows, rows]. */
  gram(x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
  /** M·X for M [k, rows] and X [rows, cols] → [k, cols]. */
  combine(m: Float64Array, k: number, x: Float64Array, rows: number, cols: number): Promise<Float64Array>;
  /** Grams of the concatenated factors, float64 [R, R]: a = A·Aᵀ, b = Bᵀ·B. */
  grams(panels: FactorPanels): Promise<{ a: Float64Array; b: Float64Array }>;
  /** Output factors a = mixA·A [k, n] (mixA [k, R]) and b = B·mixB [m, k] (mixB [R, k]). */
  factors(panels: FactorPanels, mixA: Float64Array, mixB: Float64Array, k: number, precision: ProductPrecision): Promise<{ a: PanelArray; b: PanelArray }>;
}

/** Both Grams in float64 JS: A·Aᵀ by row dot products, Bᵀ·B by rank-1 updates row by row. */
export function factorGramsJs(panels: FactorPanels): { a: Float64Array; b: Float64Array } {
  const { m, n, a, b } = panels;
  const R = panels.coefficients.length;
  const ga = rowGram(a, R, n);
  if (panels.bTransposed) return { a: ga, b: rowGram(b, R, m) };
  const gb = new Float64Array(R * R);
  for (let i = 0; i < m; i++) {
    const row = i * R;
    for (let s = 0; s < R; s++) {
      const x = b[row + s];
      if (x === 0) continue;
      for (let t = s; t < R; t++) gb[s * R + t] += x * b[row + t];
    }
  }
  for (let s = 0; s < R; s++) for (let t = 0; t < s; t++) gb[s * R + t] = gb[t * R + s];
  return { a: ga, b: gb };
}

/** Output factors in float64 JS (rounded once to float32 when asked). */
export function factorsJs(panels: FactorPanels, mixA: Float64Array, mixB: Float64Array, k: number, precision: ProductPrecision): { a: PanelArray; b: PanelArray } {
  const { m, n } = panels;
  const R = panels.coefficients.length;
  const a = multiply(mixA, k, panels.a, R, n);
  const b = new Float64Array(m * k);
  if (panels.bTransposed) {
    // b[i, o] = Σ_u Bᵀ[u, i]·mixB[u, o], summed over u in the same order as below
    for (let u = 0; u < R; u++) {
      for (let i = 0; i < m; i++) {
        const x = panels.b[u * m + i];
        for (let o = 0; o < k; o++) b[i * k + o] += x * mixB[u * k + o];
      }
    }
    return precision === 'f32' ? { a: Float32Array.from(a), b: Float32Array.from(b) } : { a, b };
  }
  for (let i = 0; i < m; i++) {
    for (let o = 0; o < k; o++) {
      let s = 0;
      for (let u = 0; u < R; u++) s += panels.b[i * R + u] * mixB[u * k + o];
      b[i * k + o] = s;
    }
  }
  return precision === 'f32' ? { a: Float32Array.from(a), b: Float32Array.from(b) } : { a, b };
}

export const jsProducts: PanelProducts = {
  name: 'js',
  gram: async (x, rows, cols) => rowGram(x, rows, cols),
  combine: async (m, k, x, rows, cols) => multiply(m, k, x, rows, cols),
  grams: async (panels) => factorGramsJs(panels),
  factors: async (panels, mixA, mixB, k, precision) => factorsJs(panels, mixA, mixB, k, precision),
};

/** Below this many multiply-adds a product stays in JS (an ORT call costs tens of µs). */
const MIN_ORT_WORK = 32_768;

/** Heavy products through ONNX Runtime (float64 Grams, float32 or float64 outputs); small ones stay in JS. */
export function ortProducts(engine: MatMulEngine, options: { intraOpThreads?: number } = {}): PanelProducts {
  const graphs = panelGraphs(engine.provider === 'js' ? 'cpu' : engine.provider, options.intraOpThreads);
  return {
    name: `onnxruntime-${engine.provider}`,
    gram: (x, rows, cols) => engine.matmul64(x, [rows, cols], x, [rows, cols], { transB: true }),
    combine: (m, k, x, rows, cols) => engine.matmul64(m, [k, rows], x, [rows, cols]),
    grams: async (panels) => {
      const R = panels.coefficients.length;
      if (engine.provider === 'js' || R * R * (panels.m + panels.n) < MIN_ORT_WORK) return factorGramsJs(panels);
      return graphs.grams(panels);
    },
    factors: async (panels, mixA, mixB, k, precision) => {
      const R = panels.coefficients.length;
      if (engine.provider === 'js' || k === 0 || R * k * (panels.m + panels.n) < MIN_ORT_WORK) return factorsJs(panels, mixA, mixB, k, precision);
      return graphs.factors(panels, mixA, mixB, k, precision);
    },
  };
}
