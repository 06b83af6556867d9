/**
 * The svd merge's R×R kernels (linalg/mixKernels.ts) as WebAssembly SIMD bodies, and their module. They
 * exist because the R×R steps of lora/truncatedProduct.ts's truncationMix (R up to 512: pivoted
 * Cholesky, the core product and Gram, the Householder reduction, the QL rotations' folding, the
 * reflections, the triangular solves) were ~1 s a module in JavaScript. Every kernel computes each
 * output entry with the same operations in the same order as the JavaScript loop it replaces (linalg/
 * cholesky.ts, dense.ts, eigen.ts, lora/truncatedProduct.ts), two independent entries per instruction:
 * WebAssembly float arithmetic is IEEE and never fused, so the bits are those of the JavaScript.
 * Addresses are in bytes; a "pairs" count is a row length in f64x2 (rows padded to an even length).
 */
import { F64, I32, V128, f64Access, functionBody, loopUntil, op, section, signed, simd, text, unsigned, v128Access, vector, type Emit } from './assembler';

/** Opcodes the shared assembler does not list. */
const more = {
  f64Ne: 0x62, i32Ne: 0x47, i32GtS: 0x4a, i32LeU: 0x4d, i32LtU: 0x49, i32TruncF64U: 0xab,
} as const;
const load = (emit: Emit, ...address: number[]) => emit(...address, simd.load, v128Access);
const get = (local: number) => [op.localGet, local];

/**
 * rotate(rot, count, w, stride, pairs): for t = count − 1 down to 0, with (a, c, s) = rot[3t…3t+2] (a
 * the byte offset of row i in w): rows i, i+1 ← (x·c + y·s, y·c − x·s) along the row (eigen.ts's
 * topEigen folding of the recorded QL rotations). By blocks of 16 columns (`pairs` a multiple of 8):
 * each column's updates are the same and in the same order, but a block's rows stay in cache, and row
 * i+1, which the next rotation of a QL sweep (row i+1, i+2) takes as its x, stays in registers.
 */
function rotateBody(): number[] {
  const [rot, count, w, stride, pairs] = [0, 1, 2, 3, 4];
  const [t, ri, rj, column, end, next] = [5, 6, 7, 8, 9, 10];
  const [c, s, y] = [11, 12, 13];
  const carry0 = 14; // eight pairs: row i+1 of the last rotation
  const block = 8;
  return functionBody([[6, I32], [3 + block, V128]], (emit) => {
    emit(op.localGet, pairs, op.i32Const, 4, op.i32Shl, op.localGet, w, op.i32Add, op.localSet, end);
    emit(op.localGet, w, op.localSet, column);
    loopUntil(emit, () => emit(op.localGet, column, op.localGet, end, op.i32GeU), () => {
      emit(op.localGet, count, op.i32Const, 24, op.i32Mul, op.localGet, rot, op.i32Add, op.localSet, t);
      emit(op.i32Const, ...signed(-1), op.localSet, next);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, rot, more.i32LeU), () => {
        emit(op.localGet, t, op.i32Const, 24, op.i32Sub, op.localSet, t);
        emit(op.localGet, column, op.localGet, t, op.f64Load, ...f64Access, more.i32TruncF64U, op.i32Add, op.localTee, ri, op.localGet, stride, op.i32Add, op.localSet, rj);
        emit(op.localGet, t, op.f64Load, 3, 8, simd.splat, op.localSet, c);
        emit(op.localGet, t, op.f64Load, 3, 16, simd.splat, op.localSet, s);
        // a new sweep: the carried row back to memory, row i into the registers
        emit(op.localGet, ri, op.localGet, next, more.i32Ne, op.if, 0x40);
        emit(op.localGet, next, op.i32Const, ...signed(-1), more.i32Ne, op.if, 0x40);
        for (let q = 0; q < block; q++) emit(op.localGet, next, op.localGet, carry0 + q, simd.store, 3, ...unsigned(16 * q));
        emit(op.end);
        for (let q = 0; q < block; q++) emit(op.localGet, ri, simd.load, 3, ...unsigned(16 * q), op.localSet, carry0 + q);
        emit(op.end);
        for (let q = 0; q < block; q++) {
          emit(op.localGet, rj, simd.load, 3, ...unsigned(16 * q), op.localSet, y);
          emit(op.localGet, ri, ...get(carry0 + q), ...get(c), simd.mul, ...get(y), ...get(s), simd.mul, simd.add, simd.store, 3, ...unsigned(16 * q));
          emit(...get(y), ...get(c), simd.mul, ...get(carry0 + q), ...get(s), simd.mul, simd.sub, op.localSet, carry0 + q);
        }
        emit(op.localGet, rj, op.localSet, next);
      });
      emit(op.localGet, next, op.i32Const, ...signed(-1), more.i32Ne, op.if, 0x40);
      for (let q = 0; q < block; q++) emit(op.localGet, next, op.localGet, carry0 + q, simd.store, 3, ...unsigned(16 * q));
      emit(op.end);
      emit(op.localGet, column, op.i32Const, ...signed(16 * block), op.i32Add, op.localSet, column);
    });
  });
}

/**
 * gather(dst, rows, coefs, groups, pairs, subtract): dst ← dst ± row₀·a₀ ± row₁·a₁ ± row₂·a₂ ± row₃·a₃
 * entry by entry, left to right, for each of `groups` groups of four (row address i32 in `rows`,
 * coefficient f64 in `coefs`): the same operations in the same order as one row at a time. The
 * reflections' g += x·w and the triangular solve's z_a −= l·z_b (rows with a zero coefficient left
 * out of the list by the caller, as the loops skip them; a group is padded with a zero row times
 * −0 when adding, +0 when subtracting, which changes no bit of any dst, −0 included).
 */
function gatherBody(): number[] {
  const [dst, rows, coefs, groups, pairs, subtract] = [0, 1, 2, 3, 4, 5];
  const [q, end] = [6, 7];
  const row0 = 8; // four row addresses
  const a0 = 12; // four splatted coefficients (v128)
  const acc = 16;
  return functionBody([[6, I32], [5, V128]], (emit) => {
    emit(op.localGet, pairs, op.i32Const, 4, op.i32Shl, op.localSet, end);
    loopUntil(emit, () => emit(op.localGet, groups, op.i32Eqz), () => {
      for (let c = 0; c < 4; c++) {
        emit(op.localGet, rows, op.i32Load, 2, ...unsigned(4 * c), op.localSet, row0 + c);
        emit(op.localGet, coefs, simd.load64Splat, 3, ...unsigned(8 * c), op.localSet, a0 + c);
      }
      emit(op.i32Const, 0, op.localSet, q);
      for (const [branch, combine] of [[op.if, simd.sub], [0x05, simd.add]] as const) {
        emit(...(branch === op.if ? [op.localGet, subtract, op.if, 0x40] : [0x05]));
        loopUntil(emit, () => emit(op.localGet, q, op.localGet, end, op.i32GeU), () => {
          emit(op.localGet, dst, op.localGet, q, op.i32Add, simd.load, v128Access, op.localSet, acc);
          for (let c = 0; c < 4; c++) emit(op.localGet, acc, op.localGet, row0 + c, op.localGet, q, op.i32Add, simd.load, v128Access, op.localGet, a0 + c, simd.mul, combine, op.localSet, acc);
          emit(op.localGet, dst, op.localGet, q, op.i32Add, op.localGet, acc, simd.store, v128Access);
          emit(op.localGet, q, op.i32Const, 16, op.i32Add, op.localSet, q);
        });
      }
      emit(op.end);
      emit(op.localGet, rows, op.i32Const, 16, op.i32Add, op.localSet, rows);
      emit(op.localGet, coefs, op.i32Const, 32, op.i32Add, op.localSet, coefs);
      emit(op.localGet, groups, op.i32Const, 1, op.i32Sub, op.localSet, groups);
    });
  });
}

/**
 * scatter(dst, dstStride, coefs, count, x, pairs, subtract): for i < count with a = coefs[i] ≠ 0:
 * dst_i ← dst_i ± x·a entry by entry (dst_i = dst + i·dstStride). The core product's core_i += l·row
 * and the reflections' w_k −= g·x.
 */
function scatterBody(): number[] {
  const [dst, dstStride, coefs, count, x, pairs, subtract] = [0, 1, 2, 3, 4, 5, 6];
  const [i, q, end, row] = [7, 8, 9, 10];
  const [a] = [11];
  return functionBody([[4, I32], [1, V128]], (emit) => {
    emit(op.localGet, pairs, op.i32Const, 4, op.i32Shl, op.localSet, end);
    emit(op.localGet, dst, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, i, op.localGet, count, op.i32GeU), () => {
      emit(op.localGet, coefs, op.localGet, i, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access, op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, more.f64Ne, op.if, 0x40);
      emit(op.localGet, coefs, op.localGet, i, op.i32Const, 3, op.i32Shl, op.i32Add, simd.load64Splat, f64Access, op.localSet, a);
      emit(op.i32Const, 0, op.localSet, q);
      emit(op.localGet, subtract, op.if, 0x40);
      loopUntil(emit, () => emit(op.localGet, q, op.localGet, end, op.i32GeU), () => {
        emit(op.localGet, row, op.localGet, q, op.i32Add);
        load(emit, op.localGet, row, op.localGet, q, op.i32Add);
        load(emit, op.localGet, x, op.localGet, q, op.i32Add);
        emit(...get(a), simd.mul, simd.sub, simd.store, v128Access);
        emit(op.localGet, q, op.i32Const, 16, op.i32Add, op.localSet, q);
      });
      emit(0x05);
      loopUntil(emit, () => emit(op.localGet, q, op.localGet, end, op.i32GeU), () => {
        emit(op.localGet, row, op.localGet, q, op.i32Add);
        load(emit, op.localGet, row, op.localGet, q, op.i32Add);
        load(emit, op.localGet, x, op.localGet, q, op.i32Add);
        emit(...get(a), simd.mul, simd.add, simd.store, v128Access);
        emit(op.localGet, q, op.i32Const, 16, op.i32Add, op.localSet, q);
      });
      emit(op.end);
      emit(op.end);
      emit(op.localGet, row, op.localGet, dstStride, op.i32Add, op.localSet, row);
      emit(op.localGet, i, op.i32Const, 1, op.i32Add, op.localSet, i);
    });
  });
}

/**
 * dots(x, rows, count, n, out): out[r] = dense.ts's dot(x, rows[r], n) for r < count (rows: i32 byte
 * addresses): four interleaved partial sums (two lanes of two accumulators), the rest into the first,
 * then (s₀ + s₁) + (s₂ + s₃). Four rows per pass (each loaded pair of x serves four rows, and eight
 * independent chains hide the adds' latency), then the rows left one at a time.
 */
function dotsBody(): number[] {
  const [x, rows, count, n, out] = [0, 1, 2, 3, 4];
  const [r, t, end4, end, tail] = [5, 6, 7, 8, 9];
  const row0 = 10; // four row addresses
  const [s0, s1, s2, s3] = [14, 15, 16, 17];
  const [xa, xb] = [18, 19];
  const acc0 = 20; // two accumulators per row, four rows
  const zeroPair = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, ...simd.splat];
  return functionBody([[9, I32], [4, F64], [10, V128]], (emit) => {
    emit(op.localGet, n, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, ...signed(-32), op.i32And, op.localSet, end4);
    const group = (size: number) => {
      for (let g = 0; g < size; g++) {
        emit(op.localGet, rows, op.localGet, r, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, ...unsigned(4 * g), op.localSet, row0 + g);
        emit(...zeroPair, op.localSet, acc0 + 2 * g, ...zeroPair, op.localSet, acc0 + 2 * g + 1);
      }
      emit(op.i32Const, 0, op.localSet, t);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, end4, op.i32GeU), () => {
        emit(op.localGet, x, op.localGet, t, op.i32Add, simd.load, v128Access, op.localSet, xa);
        emit(op.localGet, x, op.localGet, t, op.i32Add, simd.load, 3, 16, op.localSet, xb);
        for (let g = 0; g < size; g++) {
          emit(op.localGet, acc0 + 2 * g, op.localGet, row0 + g, op.localGet, t, op.i32Add, simd.load, v128Access, op.localGet, xa, simd.mul, simd.add, op.localSet, acc0 + 2 * g);
          emit(op.localGet, acc0 + 2 * g + 1, op.localGet, row0 + g, op.localGet, t, op.i32Add, simd.load, 3, 16, op.localGet, xb, simd.mul, simd.add, op.localSet, acc0 + 2 * g + 1);
        }
        emit(op.localGet, t, op.i32Const, 32, op.i32Add, op.localSet, t);
      });
      for (let g = 0; g < size; g++) {
        emit(op.localGet, acc0 + 2 * g, simd.extractLane, 0, op.localSet, s0, op.localGet, acc0 + 2 * g, simd.extractLane, 1, op.localSet, s1);
        emit(op.localGet, acc0 + 2 * g + 1, simd.extractLane, 0, op.localSet, s2, op.localGet, acc0 + 2 * g + 1, simd.extractLane, 1, op.localSet, s3);
        emit(op.localGet, t, op.localSet, tail);
        loopUntil(emit, () => emit(op.localGet, tail, op.localGet, end, op.i32GeU), () => {
          emit(op.localGet, s0, op.localGet, x, op.localGet, tail, op.i32Add, op.f64Load, ...f64Access, op.localGet, row0 + g, op.localGet, tail, op.i32Add, op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, s0);
          emit(op.localGet, tail, op.i32Const, 8, op.i32Add, op.localSet, tail);
        });
        emit(op.localGet, out, op.localGet, r, op.i32Const, 3, op.i32Shl, op.i32Add);
        emit(op.localGet, s0, op.localGet, s1, op.f64Add, op.localGet, s2, op.localGet, s3, op.f64Add, op.f64Add, op.f64Store, 3, ...unsigned(8 * g));
      }
      emit(op.localGet, r, op.i32Const, size, op.i32Add, op.localSet, r);
    };
    loopUntil(emit, () => emit(op.localGet, r, op.i32Const, 4, op.i32Add, op.localGet, count, more.i32GtS), () => group(4));
    loopUntil(emit, () => emit(op.localGet, r, op.localGet, count, op.i32GeS), () => group(1));
  });
}

/**
 * reduceStep(v, stride, i, d, e): the Householder reduction's product for row i (eigen.ts's
 * reduceToTridiagonal): for j < i: f = d[j]; v[i][j] = f; g = e[j] + v[j][j]·f; then for k in (j, i):
 * g += v[j][k]·d[k] (one chain, in order) and e[k] += v[j][k]·f; e[j] = g. Four rows j at a time where
 * all four have a k past the group: their g chains are independent (four chains hide the adds'
 * latency), and each e[k] takes the four rows' terms in ascending j, as row after row would; inside
 * the group (k < j₀ + 4) the rows go one after the other, so row j still starts from the e[j] the rows
 * before it left. The rows left over go one at a time.
 */
function reduceStepBody(): number[] {
  const G = 4;
  const [v, stride, i, d, e] = [0, 1, 2, 3, 4];
  const [j, k, last, rowI] = [5, 6, 7, 8];
  const row0 = 9; // G row addresses
  const f0 = row0 + G, g0 = f0 + G; // f64 each
  const fPair0 = g0 + G, x0 = fPair0 + G; // v128 each
  const [dPair, ePair, product] = [x0 + G, x0 + G + 1, x0 + G + 2];
  const at = (base: number, index: number) => [op.localGet, base, op.localGet, index, op.i32Const, 3, op.i32Shl, op.i32Add];
  const atPlus = (base: number, index: number, plus: number) => [...at(base, index), op.i32Const, ...signed(8 * plus), op.i32Add];
  return functionBody([[4 + G, I32], [2 * G, F64], [2 * G + 3, V128]], (emit) => {
    emit(op.localGet, i, op.i32Const, 1, op.i32Sub, op.localSet, last); // pairs run while k + 1 ≤ i − 1
    emit(op.localGet, v, op.localGet, i, op.localGet, stride, op.i32Mul, op.i32Add, op.localSet, rowI);
    // groups of G rows while j + G ≤ i − 1 (every row of the group has k = j + G to come)
    loopUntil(emit, () => emit(op.localGet, j, op.i32Const, G, op.i32Add, op.localGet, last, more.i32GtS), () => {
      for (let r = 0; r < G; r++) {
        emit(op.localGet, v, op.localGet, j, op.i32Const, r, op.i32Add, op.localGet, stride, op.i32Mul, op.i32Add, op.localSet, row0 + r);
        emit(...atPlus(d, j, r), op.f64Load, ...f64Access, op.localTee, f0 + r, simd.splat, op.localSet, fPair0 + r);
        emit(...atPlus(rowI, j, r), op.localGet, f0 + r, op.f64Store, ...f64Access);
        emit(...atPlus(e, j, r), op.f64Load, ...f64Access, ...atPlus(row0 + r, j, r), op.f64Load, ...f64Access, op.localGet, f0 + r, op.f64Mul, op.f64Add, op.localSet, g0 + r);
        for (let q = r + 1; q < G; q++) {
          emit(op.localGet, g0 + r, ...atPlus(row0 + r, j, q), op.f64Load, ...f64Access, ...atPlus(d, j, q), op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, g0 + r);
          emit(...atPlus(e, j, q), ...atPlus(e, j, q), op.f64Load, ...f64Access, ...atPlus(row0 + r, j, q), op.f64Load, ...f64Access, op.localGet, f0 + r, op.f64Mul, op.f64Add, op.f64Store, ...f64Access);
        }
      }
      emit(op.localGet, j, op.i32Const, G, op.i32Add, op.localSet, k);
      loopUntil(emit, () => emit(op.localGet, k, op.localGet, last, op.i32GeU), () => {
        emit(...at(d, k), simd.load, v128Access, op.localSet, dPair);
        for (let r = 0; r < G; r++) {
          emit(...at(row0 + r, k), simd.load, v128Access, op.localTee, x0 + r, op.localGet, dPair, simd.mul, op.localSet, product);
          emit(op.localGet, g0 + r, op.localGet, product, simd.extractLane, 0, op.f64Add, op.localGet, product, simd.extractLane, 1, op.f64Add, op.localSet, g0 + r);
        }
        emit(...at(e, k), simd.load, v128Access, op.localSet, ePair);
        for (let r = 0; r < G; r++) emit(op.localGet, ePair, op.localGet, x0 + r, op.localGet, fPair0 + r, simd.mul, simd.add, op.localSet, ePair);
        emit(...at(e, k), op.localGet, ePair, simd.store, v128Access);
        emit(op.localGet, k, op.i32Const, 2, op.i32Add, op.localSet, k);
      });
      // the last k alone (k = i − 1)
      emit(op.localGet, k, op.localGet, i, op.i32LtS, op.if, 0x40);
      for (let r = 0; r < G; r++) {
        emit(op.localGet, g0 + r, ...at(row0 + r, k), op.f64Load, ...f64Access, ...at(d, k), op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, g0 + r);
        emit(...at(e, k), ...at(e, k), op.f64Load, ...f64Access, ...at(row0 + r, k), op.f64Load, ...f64Access, op.localGet, f0 + r, op.f64Mul, op.f64Add, op.f64Store, ...f64Access);
      }
      emit(op.end);
      for (let r = 0; r < G; r++) emit(...atPlus(e, j, r), op.localGet, g0 + r, op.f64Store, ...f64Access);
      emit(op.localGet, j, op.i32Const, G, op.i32Add, op.localSet, j);
    });
    // the rows left, one at a time
    const [row, f, g, fPair, xPair] = [row0, f0, g0, fPair0, x0];
    loopUntil(emit, () => emit(op.localGet, j, op.localGet, i, op.i32GeU), () => {
      emit(op.localGet, v, op.localGet, j, op.localGet, stride, op.i32Mul, op.i32Add, op.localSet, row);
      emit(...at(d, j), op.f64Load, ...f64Access, op.localTee, f, simd.splat, op.localSet, fPair);
      emit(...at(rowI, j), op.localGet, f, op.f64Store, ...f64Access);
      emit(...at(e, j), op.f64Load, ...f64Access, ...at(row, j), op.f64Load, ...f64Access, op.localGet, f, op.f64Mul, op.f64Add, op.localSet, g);
      emit(op.localGet, j, op.i32Const, 1, op.i32Add, op.localSet, k);
      loopUntil(emit, () => emit(op.localGet, k, op.localGet, last, op.i32GeU), () => {
        emit(...at(row, k), simd.load, v128Access, op.localTee, xPair, ...at(d, k), simd.load, v128Access, simd.mul, op.localSet, product);
        emit(op.localGet, g, op.localGet, product, simd.extractLane, 0, op.f64Add, op.localGet, product, simd.extractLane, 1, op.f64Add, op.localSet, g);
        emit(...at(e, k), ...at(e, k), simd.load, v128Access, op.localGet, xPair, op.localGet, fPair, simd.mul, simd.add, simd.store, v128Access);
        emit(op.localGet, k, op.i32Const, 2, op.i32Add, op.localSet, k);
      });
      emit(op.localGet, k, op.localGet, i, op.i32LtS, op.if, 0x40);
      emit(op.localGet, g, ...at(row, k), op.f64Load, ...f64Access, ...at(d, k), op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, g);
      emit(...at(e, k), ...at(e, k), op.f64Load, ...f64Access, ...at(row, k), op.f64Load, ...f64Access, op.localGet, f, op.f64Mul, op.f64Add, op.f64Store, ...f64Access);
      emit(op.end);
      emit(...at(e, j), op.localGet, g, op.f64Store, ...f64Access);
      emit(op.localGet, j, op.i32Const, 1, op.i32Add, op.localSet, j);
    });
  });
}

/**
 * reduceUpdate(v, stride, i, d, e): the reduction's rank-two update of the leading i×i block (eigen.ts's
 * reduceToTridiagonal): for j < i: f = d[j], g = e[j]; v[j][k] −= f·e[k] + g·d[k] for k in [j, i);
 * d[j] = v[j][i−1]; v[j][i] = 0.
 */
function reduceUpdateBody(): number[] {
  const [v, stride, i, d, e] = [0, 1, 2, 3, 4];
  const [j, row, k, last] = [5, 6, 7, 8];
  const [f, g] = [9, 10];
  const [fPair, gPair] = [11, 12];
  const at = (base: number, index: number) => [op.localGet, base, op.localGet, index, op.i32Const, 3, op.i32Shl, op.i32Add];
  return functionBody([[4, I32], [2, F64], [2, V128]], (emit) => {
    emit(op.localGet, i, op.i32Const, 1, op.i32Sub, op.localSet, last);
    emit(op.localGet, v, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, j, op.localGet, i, op.i32GeU), () => {
      emit(...at(d, j), op.f64Load, ...f64Access, op.localTee, f, simd.splat, op.localSet, fPair);
      emit(...at(e, j), op.f64Load, ...f64Access, op.localTee, g, simd.splat, op.localSet, gPair);
      emit(op.localGet, j, op.localSet, k);
      loopUntil(emit, () => emit(op.localGet, k, op.localGet, last, op.i32GeS), () => {
        emit(...at(row, k), ...at(row, k), simd.load, v128Access);
        emit(op.localGet, fPair, ...at(e, k), simd.load, v128Access, simd.mul, op.localGet, gPair, ...at(d, k), simd.load, v128Access, simd.mul, simd.add, simd.sub, simd.store, v128Access);
        emit(op.localGet, k, op.i32Const, 2, op.i32Add, op.localSet, k);
      });
      emit(op.localGet, k, op.localGet, i, op.i32LtS, op.if, 0x40);
      emit(...at(row, k), ...at(row, k), op.f64Load, ...f64Access);
      emit(op.localGet, f, ...at(e, k), op.f64Load, ...f64Access, op.f64Mul, op.localGet, g, ...at(d, k), op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.f64Sub, op.f64Store, ...f64Access);
      emit(op.end);
      // d[j] = v[j][i − 1]; v[j][i] = 0
      emit(...at(d, j), op.localGet, row, op.localGet, last, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access, op.f64Store, ...f64Access);
      emit(...at(row, i), op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, op.f64Store, ...f64Access);
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, row);
      emit(op.localGet, j, op.i32Const, 1, op.i32Add, op.localSet, j);
    });
  });
}

/** The module: rotate, gather, scatter, dots, reduceStep, reduceUpdate, and its memory. */
export function mixModuleBytes(): Uint8Array<ArrayBuffer> {
  const params = (count: number) => [0x60, ...vector(Array.from({ length: count }, () => [I32])), ...vector([])];
  const names = ['rotate', 'gather', 'scatter', 'dots', 'reduceStep', 'reduceUpdate'];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([params(5), params(7), params(6)])),
    ...section(3, vector([[0], [2], [1], [0], [0], [0]])),
    ...section(5, vector([[0x00, 1]])),
    ...section(7, vector([...names.map((name, i) => [...text(name), 0x00, i]), [...text('memory'), 0x02, 0]])),
    ...section(10, vector([rotateBody(), gatherBody(), scatterBody(), dotsBody(), reduceStepBody(), reduceUpdateBody()])),
  ];
  return Uint8Array.from(bytes);
}

export interface MixExports {
  memory: WebAssembly.Memory;
  rotate(rot: number, count: number, w: number, stride: number, pairs: number): void;
  gather(dst: number, rows: number, coefs: number, groups: number, pairs: number, subtract: number): void;
  scatter(dst: number, dstStride: number, coefs: number, count: number, x: number, pairs: number, subtract: number): void;
  dots(x: number, rows: number, count: number, n: number, out: number): void;
  reduceStep(v: number, stride: number, i: number, d: number, e: number): void;
  reduceUpdate(v: number, stride: number, i: number, d: number, e: number): void;
}
