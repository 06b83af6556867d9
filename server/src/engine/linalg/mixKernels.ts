/**
 * The svd merge's R×R steps (lora/truncatedProduct.ts truncationMix) over the WebAssembly SIMD kernels
 * of wasm/mixBodies.ts: pivoted Cholesky, the core product, the row Gram, topEigen, the singular rows
 * and the triangular solves, each bit for bit its JavaScript twin (cholesky.ts pivotedCholesky and
 * solveCholeskyTranspose, dense.ts rowGram, eigen.ts topEigen, truncatedProduct.ts's coreProduct and
 * singularRows): the same operations in the same order for every output entry, two entries per
 * instruction (test/linalg/mixKernels.test.ts compares every bit). It exists because those loops were
 * ~1 s a module at R = 512 in JavaScript. One module instance per thread (the merge's mixing workers
 * each get their own); its memory is scratch, laid out afresh by each call. Where WebAssembly SIMD is
 * missing, `mixKernels()` answers null and the caller runs the JavaScript twins.
 *
 * Size (~360 lines): one driver per kernel of the one module, each a few lines of memory layout around
 * its call; they share the layout helpers and the instance, so they stay in one file.
 */
import { diagonalizeTridiagonal } from './eigen';
import { mixModuleBytes, type MixExports } from './wasm/mixBodies';
import { scalarTwinsOnly } from './scalarTwins';

export interface MixKernels {
  pivotedCholesky(g: Float64Array, R: number, relativeTolerance?: number): { k: number; pivots: Int32Array; l: Float64Array };
  solveCholeskyTranspose(chol: { k: number; pivots: Int32Array; l: Float64Array }, R: number, x: Float64Array, cols: number): Float64Array;
  rowGram(x: Float64Array, rows: number, cols: number): Float64Array;
  topEigen(input: Float64Array, n: number, keep: number): { values: Float64Array; vectors: Float64Array };
  coreProduct(cb: { k: number; pivots: Int32Array; l: Float64Array }, ca: { k: number; pivots: Int32Array; l: Float64Array }, coefficients: Float64Array, R: number): Float64Array;
  singularRows(vectors: Float64Array, sigma: Float64Array, other: Float64Array, p: number, q0: number, keep: number): { near: Float64Array; far: Float64Array; kept: number };
}

let instance: MixKernels | null | undefined;

/** The kernels, or null where WebAssembly SIMD is missing (or inside withScalarTwins). */
export function mixKernels(): MixKernels | null {
  if (scalarTwinsOnly()) return null;
  if (instance === undefined) {
    try {
      const ex = new WebAssembly.Instance(new WebAssembly.Module(mixModuleBytes())).exports as unknown as MixExports;
      instance = wasmMix(ex);
    } catch {
      instance = null;
    }
  }
  return instance;
}

/** Remaining Schur diagonals below this fraction of the largest Gram diagonal are numerical zero (cholesky.ts's). */
const GRAM_RELATIVE_TOLERANCE = 1e-13;

function wasmMix(ex: MixExports): MixKernels {
  const memory = ex.memory;
  /** The memory grown to `bytes`, as a fresh float64 view (growing detaches the old views). */
  const heap = (bytes: number): Float64Array => {
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    return new Float64Array(memory.buffer);
  };
  const even = (x: number) => x + (x & 1);
  /**
   * gather into dst (f64 slot) the first `count` listed rows and coefficients, padded to whole groups
   * of four with the zero row (f64 slot zeroAt) times −0 (adding) or +0 (subtracting): no bit changes.
   */
  const gather = (dstAt: number, list: Int32Array, values: Float64Array, count: number, zeroAt: number, pairs: number, subtract: boolean) => {
    if (count === 0) return;
    for (; count & 3; count++) { list[count] = zeroAt * 8; values[count] = subtract ? 0 : -0; }
    ex.gather(dstAt * 8, list.byteOffset, values.byteOffset, count >> 2, pairs, subtract ? 1 : 0);
  };

  return {
    pivotedCholesky(g, R, relativeTolerance = GRAM_RELATIVE_TOLERANCE) {
      // layout (f64 slots): l [R, R], the dots' output (R), the row list (R i32)
      const outAt = R * R, listAt = outAt + R;
      const mem = heap((listAt + R) * 8);
      mem.fill(0, 0, outAt);
      const l = mem.subarray(0, R * R), out = mem.subarray(outAt, outAt + R);
      // the rows not yet pivots, ascending (their l rows' addresses in `list`)
      const list = new Int32Array(memory.buffer, listAt * 8, R);
      const listed = new Int32Array(R);
      const pivots = new Int32Array(R);
      const rest = new Float64Array(R);
      let largest = 0;
      let p = -1;
      for (let t = 0; t < R; t++) {
        rest[t] = g[t * R + t];
        largest = Math.max(largest, rest[t]);
        listed[t] = t;
        list[t] = t * R * 8;
        // the first largest, as cholesky.ts's search over the rows not yet pivots
        if (p < 0 || rest[t] > rest[p]) p = t;
      }
      let count = R;
      let k = 0;
      for (; k < R; k++) {
        if (p < 0 || !(rest[p] > relativeTolerance * largest) || !(rest[p] > 0)) break;
        let at = 0;
        while (listed[at] !== p) at++;
        count--;
        listed.copyWithin(at, at + 1, count + 1);
        list.copyWithin(at, at + 1, count + 1);
        pivots[k] = p;
        const diag = Math.sqrt(rest[p]);
        l[p * R + k] = diag;
        ex.dots(p * R * 8, listAt * 8, count, k, outAt * 8);
        let next = -1;
        for (let c = 0; c < count; c++) {
          const t = listed[c];
          const v = (g[t * R + p] - out[c]) / diag;
          l[t * R + k] = v;
          rest[t] -= v * v;
          if (next < 0 || rest[t] > rest[next]) next = t;
        }
        p = next;
      }
      return { k, pivots, l: l.slice() };
    },

    solveCholeskyTranspose(chol, R, x, cols) {
      const { k, pivots, l } = chol;
      const stride = even(cols);
      // layout (f64 slots): z [k, stride], a zero row, the coefficients and the row list (k + 4 each)
      const zeroAt = k * stride, valuesAt = zeroAt + stride, listAt = valuesAt + k + 4;
      const mem = heap((listAt + k + 4) * 8);
      mem.fill(0, zeroAt, valuesAt);
      const z = mem.subarray(0, k * stride), values = mem.subarray(valuesAt, valuesAt + k + 4);
      const list = new Int32Array(memory.buffer, listAt * 8, k + 4);
      for (let a = 0; a < k; a++) {
        for (let c = 0; c < cols; c++) z[a * stride + c] = x[a * cols + c];
        if (stride > cols) z[a * stride + cols] = 0;
      }
      for (let a = k - 1; a >= 0; a--) {
        let count = 0;
        for (let b = a + 1; b < k; b++) {
          const lba = l[pivots[b] * R + a];
          if (lba === 0) continue;
          list[count] = b * stride * 8;
          values[count++] = lba;
        }
        gather(a * stride, list, values, count, zeroAt, stride >> 1, true);
        const laa = l[pivots[a] * R + a];
        for (let c = 0; c < cols; c++) z[a * stride + c] /= laa;
      }
      const result = new Float64Array(k * cols);
      for (let a = 0; a < k; a++) for (let c = 0; c < cols; c++) result[a * cols + c] = z[a * stride + c];
      return result;
    },

    rowGram(x, rows, cols) {
      const outAt = rows * cols, listAt = outAt + rows;
      const mem = heap((listAt + rows) * 8);
      mem.set(x.subarray(0, rows * cols), 0);
      const out = mem.subarray(outAt, outAt + rows);
      const list = new Int32Array(memory.buffer, listAt * 8, rows);
      for (let j = 0; j < rows; j++) list[j] = j * cols * 8;
      const g = new Float64Array(rows * rows);
      // by chunks of rows j (~128 KB, kept in cache while every row i passes over them)
      const chunk = Math.max(4, Math.floor(16384 / Math.max(1, cols)));
      for (let j0 = 0; j0 < rows; j0 += chunk) {
        const j1 = Math.min(rows, j0 + chunk);
        for (let i = 0; i < j1; i++) {
          const from = Math.max(i, j0);
          ex.dots(i * cols * 8, listAt * 8 + from * 4, j1 - from, cols, outAt * 8);
          for (let j = from; j < j1; j++) {
            const s = out[j - from];
            g[i * rows + j] = s;
            g[j * rows + i] = s;
          }
        }
      }
      return g;
    },

    topEigen(input, n, keep) {
      keep = Math.max(0, Math.min(keep, n));
      const stride = Math.max(16, keep + 15 - ((keep + 15) % 16)); // whole blocks of 16 columns (rotate)
      // layout (f64 slots): v [n, n], d, e (n each), w [n, stride], g (stride), a zero row (stride), the
      // coefficients and the row list (n + 4 each), then the rotations
      const dAt = n * n, eAt = dAt + n, wAt = eAt + n, gAt = wAt + n * stride, zeroAt = gAt + stride;
      const valuesAt = zeroAt + stride, listAt = valuesAt + n + 4, rotAt = listAt + n + 4;
      let mem = heap(rotAt * 8);
      mem.set(input.subarray(0, n * n), 0);
      const h = new Float64Array(n);
      const d = new Float64Array(n);
      const e = new Float64Array(n);
      let rotations = new Float64Array(0);
      let count = 0;
      if (n > 0) {
        reduce(ex, mem, n, dAt, eAt);
        for (let j = 0; j < n; j++) { h[j] = mem[dAt + j]; d[j] = mem[j * n + j]; e[j] = mem[eAt + j]; }
        e[0] = 0;
        rotations = new Float64Array(3 * Math.max(16, n * 2));
        const rowBytes = stride * 8;
        diagonalizeTridiagonal(null, d, e, n, (i, c, s) => {
          if (count * 3 + 3 > rotations.length) {
            const grown = new Float64Array(rotations.length * 2);
            grown.set(rotations);
            rotations = grown;
          }
          rotations[count * 3] = i * rowBytes;
          rotations[count * 3 + 1] = c;
          rotations[count * 3 + 2] = s;
          count++;
        });
      }
      const sorted = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[j] - d[i] || i - j);
      const values = new Float64Array(n);
      for (let q = 0; q < n; q++) values[q] = d[sorted[q]];
      mem = heap((rotAt + 3 * count) * 8);
      mem.fill(0, wAt, rotAt);
      for (let q = 0; q < keep; q++) mem[wAt + sorted[q] * stride + q] = 1;
      mem.set(rotations.subarray(0, 3 * count), rotAt);
      ex.rotate(rotAt * 8, count, wAt * 8, stride * 8, stride >> 1);
      // the reflections H_{n−1}···H_1 applied to w's rows, H_1 first (eigen.ts's applyReflections)
      mem.fill(0, zeroAt, valuesAt);
      const coefs = mem.subarray(valuesAt, valuesAt + n + 4);
      const list = new Int32Array(memory.buffer, listAt * 8, n + 4);
      for (let i = 1; i < n; i++) {
        const hi = h[i];
        if (hi === 0) continue;
        mem.fill(0, gAt, gAt + stride);
        let count = 0;
        for (let k = 0; k < i; k++) {
          const x = mem[i * n + k];
          if (x === 0) continue;
          list[count] = (wAt + k * stride) * 8;
          coefs[count++] = x;
        }
        gather(gAt, list, coefs, count, zeroAt, stride >> 1, false);
        for (let q = 0; q < stride; q++) mem[gAt + q] /= hi;
        ex.scatter(wAt * 8, stride * 8, i * n * 8, i, gAt * 8, stride >> 1, 1);
      }
      const vectors = new Float64Array(n * keep);
      for (let j = 0; j < n; j++) for (let q = 0; q < keep; q++) vectors[j * keep + q] = mem[wAt + j * stride + q];
      return { values, vectors };
    },

    coreProduct(cb, ca, coefficients, R) {
      const kb = cb.k, ka = ca.k;
      const spanB = nonzeroSpans(cb, R), spanA = nonzeroSpans(ca, R);
      const stride = even(ka);
      // layout (f64 slots): core [kb, stride], c·L_A rows [R, stride], L_B [R, R]
      const rowsAt = kb * stride, lbAt = rowsAt + R * stride;
      const mem = heap((lbAt + R * R) * 8);
      mem.fill(0, 0, lbAt);
      mem.set(cb.l.subarray(0, R * R), lbAt);
      const la = ca.l;
      for (let t = 0; t < R; t++) {
        const c = coefficients[t];
        if (c === 0) continue;
        const ja = spanA[t], o = rowsAt + t * stride;
        for (let j = 0; j < ja; j++) mem[o + j] = c * la[t * R + j];
      }
      // blocks of rows of the core, every t in order for each (each entry's sum unchanged), so that a
      // block stays in cache while the rows of c·L_A stream past
      const block = Math.max(1, Math.floor(16384 / stride));
      for (let i0 = 0; i0 < kb; i0 += block) {
        for (let t = 0; t < R; t++) {
          if (coefficients[t] === 0) continue;
          const count = Math.min(spanB[t], i0 + block) - i0;
          if (count <= 0) continue;
          ex.scatter(i0 * stride * 8, stride * 8, (lbAt + t * R + i0) * 8, count, (rowsAt + t * stride) * 8, (spanA[t] + 1) >> 1, 0);
        }
      }
      const core = new Float64Array(kb * ka);
      for (let i = 0; i < kb; i++) for (let j = 0; j < ka; j++) core[i * ka + j] = mem[i * stride + j];
      return core;
    },

    singularRows(vectors, sigma, other, p, q0, keep) {
      // layout (f64 slots): other [q0, p], the vectors y_q [keep, p], the dots' output (q0), the row list (q0 i32)
      const yAt = q0 * p, outAt = yAt + keep * p, listAt = outAt + q0;
      const mem = heap((listAt + q0) * 8);
      mem.set(other.subarray(0, q0 * p), 0);
      const list = new Int32Array(memory.buffer, listAt * 8, q0);
      for (let i = 0; i < q0; i++) list[i] = i * p * 8;
      const near = new Float64Array(keep * p);
      const far = new Float64Array(keep * q0);
      const factor = new Float64Array(keep);
      let kept = 0;
      for (let q = 0; q < keep; q++) {
        const sv = sigma[q];
        kept += sv * sv;
        if (sv === 0) continue;
        const root = Math.sqrt(sv);
        const y = yAt + q * p;
        for (let j = 0; j < p; j++) mem[y + j] = vectors[j * keep + q];
        for (let j = 0; j < p; j++) near[q * p + j] = mem[y + j] * root;
        factor[q] = root / sv;
      }
      // by chunks of rows of other (~128 KB, kept in cache while every y_q passes over them)
      const chunk = Math.max(4, Math.floor(16384 / Math.max(1, p)));
      for (let i0 = 0; i0 < q0; i0 += chunk) {
        const i1 = Math.min(q0, i0 + chunk);
        for (let q = 0; q < keep; q++) {
          if (sigma[q] === 0) continue;
          ex.dots((yAt + q * p) * 8, listAt * 8 + i0 * 4, i1 - i0, p, outAt * 8);
          const f = factor[q];
          for (let i = i0; i < i1; i++) far[q * q0 + i] = mem[outAt + i - i0] * f;
        }
      }
      return { near, far, kept };
    },
  };
}

/** For each original row t of a pivoted Cholesky factor: how many leading columns can be non-zero. */
export function nonzeroSpans(chol: { k: number; pivots: Int32Array }, R: number): Int32Array {
  const span = new Int32Array(R).fill(chol.k);
  for (let j = 0; j < chol.k; j++) span[chol.pivots[j]] = j + 1;
  return span;
}

/**
 * eigen.ts's reduceToTridiagonal on v [n, n] at slot 0 of `mem` (d, e at slots dAt, eAt): the O(i)
 * steps here, the two O(i²) loops of each row in the kernels.
 */
function reduce(ex: MixExports, mem: Float64Array, n: number, dAt: number, eAt: number): void {
  const v = mem;
  const d = mem.subarray(dAt, dAt + n), e = mem.subarray(eAt, eAt + n);
  const stride = n * 8;
  for (let j = 0; j < n; j++) d[j] = v[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[j * n + i - 1];
        v[j * n + i] = 0;
        v[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      ex.reduceStep(0, stride, i, dAt * 8, eAt * 8);
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      ex.reduceUpdate(0, stride, i, dAt * 8, eAt * 8);
    }
    d[i] = h;
  }
}
