/**
 * Dense float64 kernels shared by the weights, the merge and the evaluations (row-major arrays with
 * explicit offsets and sizes): a strided dot product, the transpose, X·Xᵀ and M·X.
 */

/** Σ x[ox + t]·y[oy + t] over t < len, in four interleaved partial sums. */
export function dot(x: ArrayLike<number>, ox: number, y: ArrayLike<number>, oy: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let t = 0;
  for (; t + 3 < len; t += 4) {
    s0 += x[ox + t] * y[oy + t];
    s1 += x[ox + t + 1] * y[oy + t + 1];
    s2 += x[ox + t + 2] * y[oy + t + 2];
    s3 += x[ox + t + 3] * y[oy + t + 3];
  }
  for (; t < len; t++) s0 += x[ox + t] * y[oy + t];
  return s0 + s1 + (s2 + s3);
}

export function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}

/** X·Xᵀ for X [rows, cols] (row-major) → [rows, rows], symmetric. */
export function rowGram(x: Float32Array | Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const oi = i * cols;
    for (let j = i; j < rows; j++) {
      const s = dot(x, oi, x, j * cols, cols);
      g[i * rows + j] = s;
      g[j * rows + i] = s;
    }
  }
  return g;
}

/** M·X for M [k, rows] and X [rows, cols] → [k, cols] (zero entries of M skipped). */
export function multiply(m: Float64Array, k: number, x: Float32Array | Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(k * cols);
  for (let i = 0; i < k; i++) {
    const oo = i * cols;
    for (let j = 0; j < rows; j++) {
      const c = m[i * rows + j];
      if (c === 0) continue;
      const ox = j * cols;
      for (let t = 0; t < cols; t++) out[oo + t] += c * x[ox + t];
    }
  }
  return out;
}
