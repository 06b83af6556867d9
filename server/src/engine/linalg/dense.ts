/**
 * Dense float64 kernels shared by the weights, the merge and the evaluations (row-major arrays with
 * explicit offsets and sizes): a strided dot product, the transpose, X·Xᵀ, M·X, a sum of rows and a
 * copy to a plain array.
 */

/** The values as a plain array, −0 as 0 (Array.from on a typed array goes through its iterator: slow). */
export function plainArray(v: ArrayLike<number>): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) { const x = v[i]; out[i] = x === 0 ? 0 : x; }
  return out;
}

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

/**
 * out[i] += Σₐ scale·v[rowsₐ]·m[rowsₐ·k + i] for i < k, over the first `count` listed rows in order
 * (rows with v = 0 skipped). For a symmetric m that is out += scale·m·v with v zero off the listed
 * rows, read by contiguous rows instead of gathered columns. Four rows per pass, written
 * out[i] + a + b + c + d, which JavaScript sums left to right: the same additions in the same order as
 * one row at a time, with a quarter of the loads and stores of out. `scale` = ±1 or 2 keeps every
 * product exact as written (x − y·v = x + y·(−v); 2·Σ = Σ 2·).
 */
export function addRows(out: Float64Array, m: Float64Array, k: number, rows: ArrayLike<number>, count: number, v: ArrayLike<number>, scale = 1): void {
  let a = 0;
  for (;;) {
    while (a < count && v[rows[a]] === 0) a++;
    if (a >= count) return;
    const j0 = rows[a++];
    while (a < count && v[rows[a]] === 0) a++;
    const j1 = a < count ? rows[a++] : -1;
    while (j1 >= 0 && a < count && v[rows[a]] === 0) a++;
    const j2 = j1 >= 0 && a < count ? rows[a++] : -1;
    while (j2 >= 0 && a < count && v[rows[a]] === 0) a++;
    const j3 = j2 >= 0 && a < count ? rows[a++] : -1;
    const o0 = j0 * k;
    const v0 = scale * v[j0];
    if (j3 >= 0) {
      const o1 = j1 * k, o2 = j2 * k, o3 = j3 * k;
      const v1 = scale * v[j1], v2 = scale * v[j2], v3 = scale * v[j3];
      for (let i = 0; i < k; i++) out[i] = out[i] + m[o0 + i] * v0 + m[o1 + i] * v1 + m[o2 + i] * v2 + m[o3 + i] * v3;
    } else if (j2 >= 0) {
      const o1 = j1 * k, o2 = j2 * k;
      const v1 = scale * v[j1], v2 = scale * v[j2];
      for (let i = 0; i < k; i++) out[i] = out[i] + m[o0 + i] * v0 + m[o1 + i] * v1 + m[o2 + i] * v2;
    } else if (j1 >= 0) {
      const o1 = j1 * k;
      const v1 = scale * v[j1];
      for (let i = 0; i < k; i++) out[i] = out[i] + m[o0 + i] * v0 + m[o1 + i] * v1;
    } else {
      for (let i = 0; i < k; i++) out[i] = out[i] + m[o0 + i] * v0;
    }
  }
}
