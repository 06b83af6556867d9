/**
 * The bodies of the λ-paths' per-breakpoint kernels on a Cholesky factor: forwardU and backwardL (the
 * two triangular substitutions, over contiguous rows of the factor and of its transpose) and residual
 * (rhs − A·z). They are here, apart from the row kernels (rowBodies.ts), because each repeats
 * cholesky.ts's or dense.ts's order of operations exactly, and is read against it.
 */
import { F64, I32, V128, f64Access, functionBody, loopUntil, op, signed, simd, unsigned, v128Access, type Emit } from './assembler';

/** f64 at base + index + delta (locals holding byte addresses). */
function load(base: number, index: number, delta = 0): number[] {
  return [op.localGet, base, op.localGet, index, op.i32Add, op.f64Load, 3, ...unsigned(delta)];
}

/** A factor row's address local, the f64 local it is scaled by, and that value splatted (v128). */
type ScaledRow = [row: number, value: number, pair: number];

/**
 * Both substitutions' inner loop: y[at] = y[at] − first[at]·a − second[at]·b (`at` a byte index), two
 * entries per instruction until `stop`, then the one left when at < end alone.
 */
function subtractTwoRows(emit: Emit, stop: () => void, y: number, at: number, end: number, [first, a, aPair]: ScaledRow, [second, b, bPair]: ScaledRow): void {
  loopUntil(emit, stop, () => {
    emit(op.localGet, y, op.localGet, at, op.i32Add);
    emit(op.localGet, y, op.localGet, at, op.i32Add, simd.load, v128Access);
    emit(op.localGet, first, op.localGet, at, op.i32Add, simd.load, v128Access, op.localGet, aPair, simd.mul, simd.sub);
    emit(op.localGet, second, op.localGet, at, op.i32Add, simd.load, v128Access, op.localGet, bPair, simd.mul, simd.sub);
    emit(simd.store, v128Access);
    emit(op.localGet, at, op.i32Const, 16, op.i32Add, op.localSet, at);
  });
  emit(op.localGet, at, op.localGet, end, op.i32LtS, op.if, 0x40);
  emit(op.localGet, y, op.localGet, at, op.i32Add);
  emit(...load(y, at), ...load(first, at), op.localGet, a, op.f64Mul, op.f64Sub, ...load(second, at), op.localGet, b, op.f64Mul, op.f64Sub, op.f64Store, ...f64Access);
  emit(op.end);
}

/**
 * forwardU(u, stride, m, y): solves L·y = b in place (y holds b) with U = Lᵀ row-major (row stride
 * `stride` bytes), two columns c, c + 1 per pass: y[c] /= U[c][c]; y[c+1] = (y[c+1] − U[c][c+1]·y[c]) /
 * U[c+1][c+1]; then y[i] = y[i] − U[c][i]·y[c] − U[c+1][i]·y[c+1] for i > c + 1, two entries per
 * instruction (the last of an odd count alone). Each y[i] subtracts its terms in ascending c, as
 * cholesky.ts's row-by-row forward substitution does: the same bits.
 */
export function forwardBody(): number[] {
  const [u, stride, m, y] = [0, 1, 2, 3];
  const [c, row, i, end, endPair, next] = [4, 5, 6, 7, 8, 9];
  const [yc, yn] = [10, 11];
  const [ycPair, ynPair] = [12, 13];
  return functionBody([[6, I32], [2, F64], [2, V128]], (emit) => {
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, 8, op.i32Sub, op.localSet, endPair);
    emit(op.localGet, u, op.localSet, row);
    // Pairs of columns while c + 1 < m.
    loopUntil(emit, () => emit(op.localGet, c, op.localGet, endPair, op.i32GeS), () => {
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, next);
      emit(op.localGet, y, op.localGet, c, op.i32Add);
      emit(...load(y, c), ...load(row, c), op.f64Div, op.localTee, yc, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, c, op.i32Add);
      emit(...load(y, c, 8), ...load(row, c, 8), op.localGet, yc, op.f64Mul, op.f64Sub, ...load(next, c, 8), op.f64Div, op.localTee, yn, op.f64Store, 3, 8);
      emit(op.localGet, yc, simd.splat, op.localSet, ycPair, op.localGet, yn, simd.splat, op.localSet, ynPair);
      emit(op.localGet, c, op.i32Const, 16, op.i32Add, op.localSet, i);
      subtractTwoRows(emit, () => emit(op.localGet, i, op.localGet, endPair, op.i32GeS), y, i, end, [row, yc, ycPair], [next, yn, ynPair]);
      emit(op.localGet, c, op.i32Const, 16, op.i32Add, op.localSet, c);
      emit(op.localGet, next, op.localGet, stride, op.i32Add, op.localSet, row);
    });
    // The last column of an odd m: y[c] /= U[c][c] (nothing below it).
    emit(op.localGet, c, op.localGet, end, op.i32LtS, op.if, 0x40);
    emit(op.localGet, y, op.localGet, c, op.i32Add, ...load(y, c), ...load(row, c), op.f64Div, op.f64Store, ...f64Access);
    emit(op.end);
  });
}

/**
 * backwardL(l, stride, m, y): solves Lᵀ·x = y in place with L row-major (row stride `stride` bytes),
 * as cholesky.ts's substituteCholesky does: two rows i, i − 1 per pass, then
 * y[r] = y[r] − L[i][r]·xᵢ − L[i−1][r]·x_{i−1} for r < i − 1, two entries per instruction: the same
 * subtractions in the same order, the same bits.
 */
export function backwardBody(): number[] {
  const [l, stride, m, y] = [0, 1, 2, 3];
  const [i, row, above, r, end] = [4, 5, 6, 7, 8];
  const [xi, xh] = [9, 10];
  const [xiPair, xhPair] = [11, 12];
  return functionBody([[5, I32], [2, F64], [2, V128]], (emit) => {
    // i (bytes) = 8(m − 1); row = l + (m − 1)·stride; above = row − stride
    emit(op.localGet, m, op.i32Const, 1, op.i32Sub, op.i32Const, 3, op.i32Shl, op.localSet, i);
    emit(op.localGet, l, op.localGet, m, op.i32Const, 1, op.i32Sub, op.localGet, stride, op.i32Mul, op.i32Add, op.localTee, row);
    emit(op.localGet, stride, op.i32Sub, op.localSet, above);
    loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 8, op.i32LtS), () => {
      // The address y + i − 8 is y[i − 1]: index i − 8 bytes, read with offset 0 from (y + i − 8).
      emit(op.localGet, i, op.i32Const, 8, op.i32Sub, op.localSet, end);
      emit(...load(y, i), ...load(row, i), op.f64Div, op.localSet, xi);
      emit(...load(y, end), ...load(row, end), op.localGet, xi, op.f64Mul, op.f64Sub, ...load(above, end), op.f64Div, op.localSet, xh);
      emit(op.localGet, y, op.localGet, i, op.i32Add, op.localGet, xi, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, end, op.i32Add, op.localGet, xh, op.f64Store, ...f64Access);
      emit(op.localGet, xi, simd.splat, op.localSet, xiPair, op.localGet, xh, simd.splat, op.localSet, xhPair);
      // r over [0, i − 1): pairs while r + 8 < end (bytes), then the last one alone.
      emit(op.i32Const, 0, op.localSet, r);
      subtractTwoRows(emit, () => emit(op.localGet, r, op.i32Const, 8, op.i32Add, op.localGet, end, op.i32GeS), y, r, end, [row, xi, xiPair], [above, xh, xhPair]);
      emit(op.localGet, i, op.i32Const, 16, op.i32Sub, op.localSet, i);
      emit(op.localGet, row, op.localGet, stride, op.i32Const, 1, op.i32Shl, op.i32Sub, op.localSet, row);
      emit(op.localGet, above, op.localGet, stride, op.i32Const, 1, op.i32Shl, op.i32Sub, op.localSet, above);
    });
    // i = 0 left: y[0] /= L[0][0]
    emit(op.localGet, i, op.i32Eqz, op.if, 0x40);
    emit(op.localGet, y, op.localGet, y, op.f64Load, ...f64Access, op.localGet, l, op.f64Load, ...f64Access, op.f64Div, op.f64Store, ...f64Access);
    emit(op.end);
  });
}

/**
 * residual(a, stride, m, z, rhs, out): out[p] = rhs[p] − Σ_q A[p][q]·z[q] for p < m (A row-major, row
 * stride `stride` bytes), each sum as dense.ts's dot: four interleaved partial sums (two lanes of two
 * accumulators), the rest into the first, then (s₀ + s₁) + (s₂ + s₃): the same bits.
 */
export function residualBody(): number[] {
  const [a, stride, m, z, rhs, out] = [0, 1, 2, 3, 4, 5];
  const [p, row, t, end4, end] = [6, 7, 8, 9, 10];
  const [s0, s1, s2, s3] = [11, 12, 13, 14];
  const [acc0, acc1] = [15, 16];
  const zeroPair = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, ...simd.splat];
  return functionBody([[5, I32], [4, F64], [2, V128]], (emit) => {
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, ...signed(-32), op.i32And, op.localSet, end4);
    emit(op.localGet, a, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, p, op.localGet, end, op.i32GeU), () => {
      emit(...zeroPair, op.localSet, acc0, ...zeroPair, op.localSet, acc1, op.i32Const, 0, op.localSet, t);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, end4, op.i32GeU), () => {
        emit(op.localGet, acc0, op.localGet, row, op.localGet, t, op.i32Add, simd.load, v128Access, op.localGet, z, op.localGet, t, op.i32Add, simd.load, v128Access, simd.mul, simd.add, op.localSet, acc0);
        emit(op.localGet, acc1, op.localGet, row, op.localGet, t, op.i32Add, simd.load, 3, 16, op.localGet, z, op.localGet, t, op.i32Add, simd.load, 3, 16, simd.mul, simd.add, op.localSet, acc1);
        emit(op.localGet, t, op.i32Const, 32, op.i32Add, op.localSet, t);
      });
      emit(op.localGet, acc0, simd.extractLane, 0, op.localSet, s0, op.localGet, acc0, simd.extractLane, 1, op.localSet, s1);
      emit(op.localGet, acc1, simd.extractLane, 0, op.localSet, s2, op.localGet, acc1, simd.extractLane, 1, op.localSet, s3);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, end, op.i32GeU), () => {
        emit(op.localGet, s0, op.localGet, row, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, op.localGet, z, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, s0);
        emit(op.localGet, t, op.i32Const, 8, op.i32Add, op.localSet, t);
      });
      emit(op.localGet, out, op.localGet, p, op.i32Add);
      emit(op.localGet, rhs, op.localGet, p, op.i32Add, op.f64Load, ...f64Access);
      emit(op.localGet, s0, op.localGet, s1, op.f64Add, op.localGet, s2, op.localGet, s3, op.f64Add, op.f64Add, op.f64Sub, op.f64Store, ...f64Access);
      emit(op.localGet, p, op.i32Const, 8, op.i32Add, op.localSet, p);
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, row);
    });
  });
}
