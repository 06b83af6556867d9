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
 * cholesky.ts's row-by-row forward substitution does: the same bits. Look-ahead: a pass updates the
 * next pair (c + 2, c + 3) first and divides it at once (the next pass's y[c+2], y[c+3], whose terms
 * are then all in), before the rest of its rows: the divisions, which every later row waits for, run
 * while the rest is updated. Every entry still gets the same operations in the same order.
 */
export function forwardBody(): number[] {
  const [u, stride, m, y] = [0, 1, 2, 3];
  const [c, row, i, end, endPair, next, ahead, aheadNext] = [4, 5, 6, 7, 8, 9, 10, 11];
  const [yc, yn, aheadC, aheadN] = [12, 13, 14, 15];
  const [ycPair, ynPair, headPair] = [16, 17, 18];
  return functionBody([[8, I32], [4, F64], [3, V128]], (emit) => {
    // The pivots of the pair at column `at` (bytes) from rows `first` (U[at]) and `first` + stride.
    // y[at], y[at + 8] are read from memory, or (`pair`) from the lanes of a v128 local that holds them.
    const pivots = (first: number, second: number, at: number, intoC: number, intoN: number, pair = -1) => {
      const entry = (lane: number) => (pair < 0 ? load(y, at, 8 * lane) : [op.localGet, pair, ...simd.extractLane, lane]);
      emit(op.localGet, first, op.localGet, stride, op.i32Add, op.localSet, second);
      emit(op.localGet, y, op.localGet, at, op.i32Add);
      emit(...entry(0), ...load(first, at), op.f64Div, op.localTee, intoC, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, at, op.i32Add);
      emit(...entry(1), ...load(first, at, 8), op.localGet, intoC, op.f64Mul, op.f64Sub, ...load(second, at, 8), op.f64Div, op.localTee, intoN, op.f64Store, 3, 8);
    };
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, 8, op.i32Sub, op.localSet, endPair);
    emit(op.localGet, u, op.localSet, row);
    // The first pass's pivots (when there is a pair of columns at all).
    emit(op.localGet, c, op.localGet, endPair, op.i32LtS, op.if, 0x40);
    pivots(row, next, c, yc, yn);
    emit(op.end);
    // Pairs of columns while c + 1 < m; y[c], y[c+1] (yc, yn) are already divided.
    loopUntil(emit, () => emit(op.localGet, c, op.localGet, endPair, op.i32GeS), () => {
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, next);
      emit(op.localGet, yc, simd.splat, op.localSet, ycPair, op.localGet, yn, simd.splat, op.localSet, ynPair);
      emit(op.localGet, c, op.i32Const, 16, op.i32Add, op.localSet, i);
      // Look-ahead: the pair (c + 2, c + 3), then its division.
      emit(op.localGet, i, op.localGet, endPair, op.i32LtS, op.if, 0x40);
      emit(op.localGet, y, op.localGet, i, op.i32Add);
      emit(op.localGet, y, op.localGet, i, op.i32Add, simd.load, v128Access);
      emit(op.localGet, row, op.localGet, i, op.i32Add, simd.load, v128Access, op.localGet, ycPair, simd.mul, simd.sub);
      emit(op.localGet, next, op.localGet, i, op.i32Add, simd.load, v128Access, op.localGet, ynPair, simd.mul, simd.sub);
      emit(op.localTee, headPair, simd.store, v128Access);
      emit(op.localGet, next, op.localGet, stride, op.i32Add, op.localSet, ahead);
      pivots(ahead, aheadNext, i, aheadC, aheadN, headPair);
      emit(op.localGet, i, op.i32Const, 16, op.i32Add, op.localSet, i);
      emit(op.end);
      subtractTwoRows(emit, () => emit(op.localGet, i, op.localGet, endPair, op.i32GeS), y, i, end, [row, yc, ycPair], [next, yn, ynPair]);
      emit(op.localGet, aheadC, op.localSet, yc, op.localGet, aheadN, op.localSet, yn);
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
 * subtractions in the same order, the same bits. Look-ahead, as forwardU: a pass updates the pair
 * (i − 3, i − 2) first and divides it at once (the next pass's x_{i−2}, x_{i−3}), then the rows below.
 */
export function backwardBody(): number[] {
  const [l, stride, m, y] = [0, 1, 2, 3];
  const [i, row, above, r, end, aheadRow, aheadAbove, at] = [4, 5, 6, 7, 8, 9, 10, 11];
  const [xi, xh, aheadI, aheadH] = [12, 13, 14, 15];
  const [xiPair, xhPair, headPair] = [16, 17, 18];
  return functionBody([[8, I32], [4, F64], [3, V128]], (emit) => {
    // The pivots of rows `index` (bytes) and index − 8 from L's rows `lower` (row index) and `upper`
    // (row index − 1): x = y[index]/L[index][index], then (y[index−1] − L[index][index−1]·x)/L[index−1][index−1].
    // y[index − 8], y[index] from memory, or (`pair`) from the lanes 0, 1 of a v128 local holding them.
    const pivots = (lower: number, upper: number, index: number, intoI: number, intoH: number, pair = -1) => {
      emit(op.localGet, index, op.i32Const, 8, op.i32Sub, op.localSet, at);
      emit(...(pair < 0 ? load(y, index) : [op.localGet, pair, ...simd.extractLane, 1]), ...load(lower, index), op.f64Div, op.localSet, intoI);
      emit(...(pair < 0 ? load(y, at) : [op.localGet, pair, ...simd.extractLane, 0]), ...load(lower, at), op.localGet, intoI, op.f64Mul, op.f64Sub, ...load(upper, at), op.f64Div, op.localSet, intoH);
      emit(op.localGet, y, op.localGet, index, op.i32Add, op.localGet, intoI, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, at, op.i32Add, op.localGet, intoH, op.f64Store, ...f64Access);
    };
    // i (bytes) = 8(m − 1); row = l + (m − 1)·stride; above = row − stride
    emit(op.localGet, m, op.i32Const, 1, op.i32Sub, op.i32Const, 3, op.i32Shl, op.localSet, i);
    emit(op.localGet, l, op.localGet, m, op.i32Const, 1, op.i32Sub, op.localGet, stride, op.i32Mul, op.i32Add, op.localTee, row);
    emit(op.localGet, stride, op.i32Sub, op.localSet, above);
    // The first pass's pivots (when there are two rows at all).
    emit(op.localGet, i, op.i32Const, 8, op.i32GeS, op.if, 0x40);
    pivots(row, above, i, xi, xh);
    emit(op.end);
    loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 8, op.i32LtS), () => {
      // x_i, x_{i−1} (xi, xh) are already divided; the rows left are r < i − 1 (bytes: r < end).
      emit(op.localGet, i, op.i32Const, 8, op.i32Sub, op.localSet, end);
      emit(op.localGet, xi, simd.splat, op.localSet, xiPair, op.localGet, xh, simd.splat, op.localSet, xhPair);
      // Look-ahead when the next pass has two rows (i − 2 ≥ 1): the pair (i − 3, i − 2), its division.
      emit(op.localGet, i, op.i32Const, 24, op.i32GeS, op.if, 0x40);
      emit(op.localGet, i, op.i32Const, 24, op.i32Sub, op.localSet, end);
      emit(op.localGet, y, op.localGet, end, op.i32Add);
      emit(op.localGet, y, op.localGet, end, op.i32Add, simd.load, v128Access);
      emit(op.localGet, row, op.localGet, end, op.i32Add, simd.load, v128Access, op.localGet, xiPair, simd.mul, simd.sub);
      emit(op.localGet, above, op.localGet, end, op.i32Add, simd.load, v128Access, op.localGet, xhPair, simd.mul, simd.sub);
      emit(op.localTee, headPair, simd.store, v128Access);
      emit(op.localGet, above, op.localGet, stride, op.i32Sub, op.localTee, aheadRow, op.localGet, stride, op.i32Sub, op.localSet, aheadAbove);
      emit(op.localGet, i, op.i32Const, 16, op.i32Sub, op.localSet, r);
      pivots(aheadRow, aheadAbove, r, aheadI, aheadH, headPair);
      emit(op.end);
      // The rest: r over [0, end), pairs while r + 8 < end, then the last one alone.
      emit(op.i32Const, 0, op.localSet, r);
      subtractTwoRows(emit, () => emit(op.localGet, r, op.i32Const, 8, op.i32Add, op.localGet, end, op.i32GeS), y, r, end, [row, xi, xiPair], [above, xh, xhPair]);
      emit(op.localGet, aheadI, op.localSet, xi, op.localGet, aheadH, op.localSet, xh);
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

/**
 * appendRow(k, members, m, reference, j, factor, transposed, system, l, dependentBelow) → 1, or 0 when
 * the new pivot² is not above dependentBelow: a λ-path's kept factor gains the row of candidate j,
 * in one op.call. The matrix A (k×k, row stride 8k bytes) is at address 0; members (i32) lists the m
 * candidates in factor order. With reference r ≥ 0 (the constrained path's direction system) the
 * column is M_{members, j} with M_ij = ((A_ji − A_ri) − A_rj) + A_rr and M_jj = (A_jj − 2·A_rj) + A_rr,
 * written into `system` (row and column m) as it is formed; with r < 0 (the lasso's Gram factor) it is
 * A_{members, j} and A_jj, and `system` is not used. Then, as cholesky.ts's appendBesideTranspose:
 * l = L⁻¹·column by forwardU (function index `forward`), pivot² = M_jj − l₀² − l₁² − …, and on
 * success l and √pivot² as row m of the factor and column m of its transpose. Every value is the
 * JavaScript's, operation for operation: the same bits.
 */
export function appendRowBody(forward: number): number[] {
  const [k, members, m, reference, j, factor, transposed, system, l, dependentBelow] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [p, rowJ, rowR, stride, at, i] = [10, 11, 12, 13, 14, 15];
  const [crr, crj, diagonal, value, pivot] = [16, 17, 18, 19, 20];
  return functionBody([[6, I32], [5, F64]], (emit) => {
    // Addresses: A[x][y] at (x·k + y)·8; rowJ, rowR are byte offsets of rows j and r.
    emit(op.localGet, k, op.i32Const, 3, op.i32Shl, op.localSet, stride);
    emit(op.localGet, j, op.localGet, stride, op.i32Mul, op.localSet, rowJ);
    const entry = (row: number, column: number) => [op.localGet, row, op.localGet, column, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access];
    emit(op.localGet, reference, op.i32Const, 0, op.i32GeS, op.if, 0x40);
    {
      emit(op.localGet, reference, op.localGet, stride, op.i32Mul, op.localSet, rowR);
      emit(...entry(rowR, reference), op.localSet, crr);
      emit(...entry(rowR, j), op.localSet, crj);
      emit(...entry(rowJ, j), op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0x40, op.localGet, crj, op.f64Mul, op.f64Sub, op.localGet, crr, op.f64Add, op.localSet, diagonal);
      loopUntil(emit, () => emit(op.localGet, p, op.localGet, m, op.i32GeS), () => {
        emit(op.localGet, members, op.localGet, p, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0, op.localSet, i);
        emit(...entry(rowJ, i), ...entry(rowR, i), op.f64Sub, op.localGet, crj, op.f64Sub, op.localGet, crr, op.f64Add, op.localSet, value);
        emit(op.localGet, p, op.i32Const, 3, op.i32Shl, op.localSet, at);
        emit(op.localGet, l, op.localGet, at, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
        // system[m][p] and system[p][m]
        emit(op.localGet, system, op.localGet, m, op.localGet, stride, op.i32Mul, op.i32Add, op.localGet, at, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
        emit(op.localGet, system, op.localGet, p, op.localGet, stride, op.i32Mul, op.i32Add, op.localGet, m, op.i32Const, 3, op.i32Shl, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
        emit(op.localGet, p, op.i32Const, 1, op.i32Add, op.localSet, p);
      });
    }
    emit(0x05); // else
    {
      emit(...entry(rowJ, j), op.localSet, diagonal);
      loopUntil(emit, () => emit(op.localGet, p, op.localGet, m, op.i32GeS), () => {
        emit(op.localGet, members, op.localGet, p, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0, op.localSet, i);
        emit(op.localGet, l, op.localGet, p, op.i32Const, 3, op.i32Shl, op.i32Add, ...entry(rowJ, i), op.f64Store, ...f64Access);
        emit(op.localGet, p, op.i32Const, 1, op.i32Add, op.localSet, p);
      });
    }
    emit(op.end);
    // l = L⁻¹·column (forwardU on the transpose), then pivot² = diagonal − Σ l_p², ascending.
    emit(op.localGet, transposed, op.localGet, stride, op.localGet, m, op.localGet, l, op.call, ...unsigned(forward));
    emit(op.localGet, diagonal, op.localSet, pivot, op.i32Const, 0, op.localSet, p);
    loopUntil(emit, () => emit(op.localGet, p, op.localGet, m, op.i32GeS), () => {
      emit(op.localGet, pivot, op.localGet, l, op.localGet, p, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access, op.localTee, value);
      emit(op.localGet, value, op.f64Mul, op.f64Sub, op.localSet, pivot);
      emit(op.localGet, p, op.i32Const, 1, op.i32Add, op.localSet, p);
    });
    // !(pivot² > dependentBelow): refused, nothing written to the factor.
    emit(op.localGet, pivot, op.localGet, dependentBelow, op.f64Gt, op.i32Eqz, op.if, 0x40, op.i32Const, 0, op.return, op.end);
    // Row m of the factor and column m of the transpose: l, then √pivot².
    emit(op.i32Const, 0, op.localSet, p);
    loopUntil(emit, () => emit(op.localGet, p, op.localGet, m, op.i32GeS), () => {
      emit(op.localGet, p, op.i32Const, 3, op.i32Shl, op.localSet, at);
      emit(op.localGet, l, op.localGet, at, op.i32Add, op.f64Load, ...f64Access, op.localSet, value);
      emit(op.localGet, factor, op.localGet, m, op.localGet, stride, op.i32Mul, op.i32Add, op.localGet, at, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
      emit(op.localGet, transposed, op.localGet, p, op.localGet, stride, op.i32Mul, op.i32Add, op.localGet, m, op.i32Const, 3, op.i32Shl, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
      emit(op.localGet, p, op.i32Const, 1, op.i32Add, op.localSet, p);
    });
    emit(op.localGet, pivot, op.f64Sqrt, op.localSet, value);
    // at = (m·k + m)·8: the diagonal entry of row m, in the factor, the transpose and the system.
    emit(op.localGet, m, op.localGet, stride, op.i32Mul, op.localGet, m, op.i32Const, 3, op.i32Shl, op.i32Add, op.localSet, at);
    emit(op.localGet, factor, op.localGet, at, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
    emit(op.localGet, transposed, op.localGet, at, op.i32Add, op.localGet, value, op.f64Store, ...f64Access);
    emit(op.localGet, reference, op.i32Const, 0, op.i32GeS, op.if, 0x40);
    emit(op.localGet, system, op.localGet, at, op.i32Add, op.localGet, diagonal, op.f64Store, ...f64Access);
    emit(op.end);
    emit(op.i32Const, 1);
  });
}

/**
 * refinedSolve(l, u, a, stride, m, z, rhs, correction): z ← (L·Lᵀ)⁻¹·z by forwardU then backwardL
 * (function indices `forward`, `backward`), one step of iterative refinement against A — correction =
 * rhs − A·z (`residual`), correction ← (L·Lᵀ)⁻¹·correction — then z[p] = z[p] + correction[p]: the
 * direction system's solve (pathDirection.ts) in one op.call instead of five, the same operations.
 */
export function refinedSolveBody(forward: number, backward: number, residual: number): number[] {
  const [l, u, a, stride, m, z, rhs, correction] = [0, 1, 2, 3, 4, 5, 6, 7];
  const p = 8;
  return functionBody([[1, I32]], (emit) => {
    const substitute = (y: number) => {
      emit(op.localGet, u, op.localGet, stride, op.localGet, m, op.localGet, y, op.call, ...unsigned(forward));
      emit(op.localGet, l, op.localGet, stride, op.localGet, m, op.localGet, y, op.call, ...unsigned(backward));
    };
    substitute(z);
    emit(op.localGet, a, op.localGet, stride, op.localGet, m, op.localGet, z, op.localGet, rhs, op.localGet, correction, op.call, ...unsigned(residual));
    substitute(correction);
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localSet, m);
    loopUntil(emit, () => emit(op.localGet, p, op.localGet, m, op.i32GeS), () => {
      emit(op.localGet, z, op.localGet, p, op.i32Add);
      emit(...load(z, p), ...load(correction, p), op.f64Add, op.f64Store, ...f64Access);
      emit(op.localGet, p, op.i32Const, 8, op.i32Add, op.localSet, p);
    });
  });
}

/**
 * gramRefinedSolve(l, u, stride, m, members, rhs, x, byCandidate, full, r, list, values, zero, pairs): the
 * lasso's kept-factor solve (incrementalCholesky.ts) from its right-hand side in factor order: x = rhs,
 * x ← (L·Lᵀ)⁻¹·x; byCandidate[members[q]] = x[q], full[members[q]] = rhs[q]; full −= A·byCandidate over
 * the members' rows (`addRowsOf`, scale −1: the residual, each entry's terms in factor order);
 * r[p] = full[members[p]], r ← (L·Lᵀ)⁻¹·r (the correction). The calls and loops it replaces, in order.
 */
export function gramRefinedSolveBody(forward: number, backward: number, addRowsOf: number): number[] {
  const [l, u, stride, m, members, rhs, x, byCandidate, full, r, list, values, zero, pairs] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [p, m8, i8] = [14, 15, 16];
  const minusOne = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf];
  return functionBody([[3, I32]], (emit) => {
    const substitute = (y: number) => {
      emit(op.localGet, u, op.localGet, stride, op.localGet, m, op.localGet, y, op.call, ...unsigned(forward));
      emit(op.localGet, l, op.localGet, stride, op.localGet, m, op.localGet, y, op.call, ...unsigned(backward));
    };
    // i8 = members[p / 8] · 8 (p in bytes of f64: members are i32, at p / 2)
    const member = () => emit(op.localGet, members, op.localGet, p, op.i32Const, 1, 0x76 /* i32.shr_u */, op.i32Add, op.i32Load, 2, 0, op.i32Const, 3, op.i32Shl, op.localSet, i8);
    const each = (body: () => void) => {
      emit(op.i32Const, 0, op.localSet, p);
      loopUntil(emit, () => emit(op.localGet, p, op.localGet, m8, op.i32GeS), () => {
        body();
        emit(op.localGet, p, op.i32Const, 8, op.i32Add, op.localSet, p);
      });
    };
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localSet, m8);
    each(() => emit(op.localGet, x, op.localGet, p, op.i32Add, ...load(rhs, p), op.f64Store, ...f64Access));
    substitute(x);
    each(() => {
      member();
      emit(op.localGet, byCandidate, op.localGet, i8, op.i32Add, ...load(x, p), op.f64Store, ...f64Access);
      emit(op.localGet, full, op.localGet, i8, op.i32Add, ...load(rhs, p), op.f64Store, ...f64Access);
    });
    emit(op.localGet, full, op.localGet, members, op.localGet, m, op.localGet, byCandidate, ...minusOne, op.localGet, stride, op.localGet, list, op.localGet, values, op.localGet, zero, op.localGet, pairs, op.call, ...unsigned(addRowsOf));
    each(() => {
      member();
      emit(op.localGet, r, op.localGet, p, op.i32Add, ...load(full, i8), op.f64Store, ...f64Access);
    });
    substitute(r);
  });
}

/**
 * forwardPair(u, stride, m, y): forwardU on two right-hand sides at once, interleaved (y[2i] the first
 * column's entry i, y[2i + 1] the second's), one in each lane: column by column, y[c] /= U[c][c], then
 * y[i] = y[i] − U[c][i]·y[c] for i > c. Each lane's entry gets exactly forwardU's operations in its
 * order (its terms subtracted one at a time in ascending c, then the division), so each column comes
 * out bit for bit as forwardU's. The substitutions are latency-bound (each column waits for a
 * division), so the second column costs little more than the first.
 */
export function forwardPairBody(): number[] {
  const [u, stride, m, y] = [0, 1, 2, 3];
  const [c, row, i, end] = [4, 5, 6, 7];
  const yc = 8;
  return functionBody([[4, I32], [1, V128]], (emit) => {
    const at = (index: number) => emit(op.localGet, y, op.localGet, index, op.localGet, index, op.i32Add, op.i32Add);
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localSet, end);
    emit(op.localGet, u, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, c, op.localGet, end, op.i32GeS), () => {
      at(c);
      at(c);
      emit(simd.load, v128Access, op.localGet, row, op.localGet, c, op.i32Add, simd.load64Splat, f64Access, simd.div, op.localTee, yc, simd.store, v128Access);
      emit(op.localGet, c, op.i32Const, 8, op.i32Add, op.localSet, i);
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
        at(i);
        at(i);
        emit(simd.load, v128Access, op.localGet, row, op.localGet, i, op.i32Add, simd.load64Splat, f64Access, op.localGet, yc, simd.mul, simd.sub, simd.store, v128Access);
        emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
      });
      emit(op.localGet, c, op.i32Const, 8, op.i32Add, op.localSet, c);
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, row);
    });
  });
}

/**
 * backwardPair(l, stride, m, y): backwardL on two interleaved right-hand sides, one per lane: row by
 * row from the last, x_i = y[i] / L[i][i], then y[r] = y[r] − L[i][r]·x_i for r < i. Each entry's
 * subtractions come one at a time in descending i, as backwardL's (y[r] − L[i][r]·xᵢ − L[i−1][r]·x_{i−1}
 * is two roundings in that order), and its division last: each column bit for bit backwardL's.
 */
export function backwardPairBody(): number[] {
  const [l, stride, m, y] = [0, 1, 2, 3];
  const [i, row, r] = [4, 5, 6];
  const xi = 7;
  return functionBody([[3, I32], [1, V128]], (emit) => {
    const at = (index: number) => emit(op.localGet, y, op.localGet, index, op.localGet, index, op.i32Add, op.i32Add);
    emit(op.localGet, m, op.i32Const, 1, op.i32Sub, op.i32Const, 3, op.i32Shl, op.localSet, i);
    emit(op.localGet, l, op.localGet, m, op.i32Const, 1, op.i32Sub, op.localGet, stride, op.i32Mul, op.i32Add, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 0, op.i32LtS), () => {
      at(i);
      at(i);
      emit(simd.load, v128Access, op.localGet, row, op.localGet, i, op.i32Add, simd.load64Splat, f64Access, simd.div, op.localTee, xi, simd.store, v128Access);
      emit(op.i32Const, 0, op.localSet, r);
      loopUntil(emit, () => emit(op.localGet, r, op.localGet, i, op.i32GeS), () => {
        at(r);
        at(r);
        emit(simd.load, v128Access, op.localGet, row, op.localGet, r, op.i32Add, simd.load64Splat, f64Access, op.localGet, xi, simd.mul, simd.sub, simd.store, v128Access);
        emit(op.localGet, r, op.i32Const, 8, op.i32Add, op.localSet, r);
      });
      emit(op.localGet, i, op.i32Const, 8, op.i32Sub, op.localSet, i);
      emit(op.localGet, row, op.localGet, stride, op.i32Sub, op.localSet, row);
    });
  });
}

/**
 * gramRefinedSolvePair(l, u, stride, m, members, rhs, rhs2, x, x2, byCandidate, byCandidate2, full, full2,
 * r, r2, pair, list, values, zero, pairs): gramRefinedSolve on two right-hand sides (rhs → x, r;
 * rhs2 → x2, r2) in one call, both substitutions of each (forwardPair, backwardPair: function indices
 * `forward`, `backward`) with the two columns interleaved in `pair` (2m entries), one per lane; the
 * residuals' row sums (`addRowsOf`) one column after the other. Each column's every operation is
 * gramRefinedSolve's, so (x, r) are bit for bit gramRefinedSolve(rhs)'s and (x2, r2) gramRefinedSolve(rhs2)'s.
 */
export function gramRefinedSolvePairBody(forward: number, backward: number, addRowsOf: number): number[] {
  const [l, u, stride, m, members, rhs, rhs2, x, x2, byCandidate, byCandidate2, full, full2, r, r2, pair, list, values, zero, pairs] = Array.from({ length: 20 }, (_, n) => n);
  const [p, q, m8, i8] = [20, 21, 22, 23];
  const minusOne = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf];
  return functionBody([[4, I32]], (emit) => {
    const substitute = () => {
      emit(op.localGet, u, op.localGet, stride, op.localGet, m, op.localGet, pair, op.call, ...unsigned(forward));
      emit(op.localGet, l, op.localGet, stride, op.localGet, m, op.localGet, pair, op.call, ...unsigned(backward));
    };
    const member = () => emit(op.localGet, members, op.localGet, p, op.i32Const, 1, 0x76 /* i32.shr_u */, op.i32Add, op.i32Load, 2, 0, op.i32Const, 3, op.i32Shl, op.localSet, i8);
    // p: bytes into a column (8 per entry); q = 2p: bytes into `pair`.
    const each = (body: () => void) => {
      emit(op.i32Const, 0, op.localSet, p, op.i32Const, 0, op.localSet, q);
      loopUntil(emit, () => emit(op.localGet, p, op.localGet, m8, op.i32GeS), () => {
        body();
        emit(op.localGet, p, op.i32Const, 8, op.i32Add, op.localSet, p);
        emit(op.localGet, q, op.i32Const, 16, op.i32Add, op.localSet, q);
      });
    };
    const store = (base: number, index: number, value: number[]) => emit(op.localGet, base, op.localGet, index, op.i32Add, ...value, op.f64Store, ...f64Access);
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localSet, m8);
    each(() => {
      store(pair, q, load(rhs, p));
      emit(op.localGet, pair, op.localGet, q, op.i32Add, ...load(rhs2, p), op.f64Store, 3, 8);
    });
    substitute();
    each(() => {
      member();
      store(x, p, load(pair, q));
      store(x2, p, load(pair, q, 8));
      store(byCandidate, i8, load(pair, q));
      store(byCandidate2, i8, load(pair, q, 8));
      store(full, i8, load(rhs, p));
      store(full2, i8, load(rhs2, p));
    });
    for (const [into, by] of [[full, byCandidate], [full2, byCandidate2]]) {
      emit(op.localGet, into, op.localGet, members, op.localGet, m, op.localGet, by, ...minusOne, op.localGet, stride, op.localGet, list, op.localGet, values, op.localGet, zero, op.localGet, pairs, op.call, ...unsigned(addRowsOf));
    }
    each(() => {
      member();
      store(pair, q, load(full, i8));
      emit(op.localGet, pair, op.localGet, q, op.i32Add, ...load(full2, i8), op.f64Store, 3, 8);
    });
    substitute();
    each(() => {
      store(r, p, load(pair, q));
      store(r2, p, load(pair, q, 8));
    });
  });
}
