/**
 * The body of the affine-hull solves' pivoted Cholesky (lin, convex's iterations, the sparse point's
 * minimum-norm check: weights/affineHull.ts) as one module call: pivot choice, the column, its
 * divisions, the Schur diagonal, the transpose and both substitutions. Apart from the λ-paths'
 * kernels (triangularBodies.ts) because it is read against cholesky.ts's choleskySolve, its JavaScript
 * twin, operation for operation (simdKernels.ts called the module once per column before, and ran the
 * rest in JavaScript).
 */
import { F64, I32, V128, f64Access, functionBody, loopUntil, op, signed, simd, unsigned } from './assembler';

/** f64x2.div (not in the shared assembler's list): IEEE division in each lane, as `/` in JavaScript. */
const f64x2Div = [0xfd, 0xf3, 0x01] as const;

/**
 * choleskySolve(a, n, b, floor, perm, schur, lt, l, y, x) → 1, or 0 when a pivot is not above `floor`
 * (A numerically singular): cholesky.ts's choleskySolve on the n×n matrix A (row-major at `a`) with
 * right-hand side b, its solution written at x. Addresses are bytes; `schur` has n + 1 slots and `y`,
 * Lt's and L's rows n + 2 (the row stride): a pair run over the last entry of an odd run reads and
 * writes slot n, which nothing reads. Per column j, as choleskySolve and takePivot:
 * - the pivot: the first largest Schur diagonal from j on (`schur[i] > best`, so ties keep the
 *   earliest, and NaN never wins); 0 when it is not above floor; else swapped into place in perm,
 *   schur and the factor's first j columns (Lt[c][j] ↔ Lt[c][p], c < j);
 * - d = √schur[j]; Lt[j][j] = d; then for i > j: s = A[perm i][perm j], s = s − Lt[c][i]·Lt[c][j] for
 *   c = 0 … j − 1 in ascending order (choleskySolve's L[i][c]·L[j][c]), lij = s / d, Lt[j][i] = lij,
 *   schur[i] = schur[i] − lij·lij: eight entries per pass (four pairs, four independent chains), then
 *   one pair at a time; the column is gathered into Lt's row j and replaced there.
 * Then L row-major from Lt, y = P·b, forwardU on Lt and backwardL on L (the function indices
 * `forward`, `backward`: substituteCholesky's operations, as simdKernels.ts called them), x = Pᵀ·y.
 */
export function choleskySolveBody(forward: number, backward: number): number[] {
  const [a, n, b, floor, perm, schur, lt, l, y, x] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [stride, end, j, i, p, rowC, rowJ, column, diagonal, rowI] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const [best, s, d, t] = [20, 21, 22, 23];
  const [acc0, v, dPair] = [24, 28, 29];
  // perm's i32 entry for a byte index (8 per entry) held in local `index`.
  const permAt = (index: number) => [op.localGet, perm, op.localGet, index, op.i32Const, 1, 0x76 /* i32.shr_u */, op.i32Add];
  const f64At = (base: number, index: number) => [op.localGet, base, op.localGet, index, op.i32Add];
  return functionBody([[10, I32], [4, F64], [6, V128]], (emit) => {
    emit(op.localGet, n, op.i32Const, 2, op.i32Add, op.i32Const, 3, op.i32Shl, op.localSet, stride);
    emit(op.localGet, n, op.i32Const, 3, op.i32Shl, op.localSet, end);
    // perm[i] = i, schur[i] = A[i][i] (diagonal steps n·8 + 8 bytes).
    emit(op.localGet, a, op.localSet, diagonal);
    loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
      emit(...permAt(i), op.localGet, i, op.i32Const, 3, 0x76, op.i32Store, 2, 0);
      emit(...f64At(schur, i), op.localGet, diagonal, op.f64Load, ...f64Access, op.f64Store, ...f64Access);
      emit(op.localGet, diagonal, op.localGet, end, op.i32Add, op.i32Const, 8, op.i32Add, op.localSet, diagonal);
      emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
    });
    emit(op.localGet, lt, op.localSet, rowJ);
    loopUntil(emit, () => emit(op.localGet, j, op.localGet, end, op.i32GeS), () => {
      // The pivot: the first largest schur[i], i ≥ j.
      emit(op.localGet, j, op.localSet, p, ...f64At(schur, j), op.f64Load, ...f64Access, op.localSet, best);
      emit(op.localGet, j, op.i32Const, 8, op.i32Add, op.localSet, i);
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
        emit(...f64At(schur, i), op.f64Load, ...f64Access, op.localTee, s, op.localGet, best, op.f64Gt, op.if, 0x40);
        emit(op.localGet, s, op.localSet, best, op.localGet, i, op.localSet, p);
        emit(op.end);
        emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
      });
      emit(op.localGet, best, op.localGet, floor, op.f64Gt, op.i32Eqz, op.if, 0x40, op.i32Const, 0, op.return, op.end);
      emit(op.localGet, p, op.localGet, j, op.i32Ne, op.if, 0x40);
      // Lt[c][j] ↔ Lt[c][p] for c < j, then perm and schur.
      emit(op.localGet, lt, op.localSet, rowC);
      loopUntil(emit, () => emit(op.localGet, rowC, op.localGet, rowJ, op.i32GeU), () => {
        emit(...f64At(rowC, j), op.f64Load, ...f64Access, op.localSet, t);
        emit(...f64At(rowC, j), ...f64At(rowC, p), op.f64Load, ...f64Access, op.f64Store, ...f64Access);
        emit(...f64At(rowC, p), op.localGet, t, op.f64Store, ...f64Access);
        emit(op.localGet, rowC, op.localGet, stride, op.i32Add, op.localSet, rowC);
      });
      emit(...permAt(j), op.i32Load, 2, 0, op.localSet, column);
      emit(...permAt(j), ...permAt(p), op.i32Load, 2, 0, op.i32Store, 2, 0);
      emit(...permAt(p), op.localGet, column, op.i32Store, 2, 0);
      emit(...f64At(schur, p), ...f64At(schur, j), op.f64Load, ...f64Access, op.f64Store, ...f64Access);
      emit(...f64At(schur, j), op.localGet, best, op.f64Store, ...f64Access);
      emit(op.end);
      // d = √schur[j] (schur[j] is `best` now), Lt[j][j] = d.
      emit(...f64At(rowJ, j), op.localGet, best, op.f64Sqrt, op.localTee, d, op.f64Store, ...f64Access);
      emit(op.localGet, d, simd.splat, op.localSet, dPair);
      // The column: Lt[j][i] = A[perm i][perm j] for i > j (column = perm[j]·8, rowI = perm[i]·n·8).
      emit(...permAt(j), op.i32Load, 2, 0, op.i32Const, 3, op.i32Shl, op.localGet, a, op.i32Add, op.localSet, column);
      emit(op.localGet, j, op.i32Const, 8, op.i32Add, op.localSet, i);
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
        emit(...permAt(i), op.i32Load, 2, 0, op.localGet, end, op.i32Mul, op.localGet, column, op.i32Add, op.localSet, rowI);
        emit(...f64At(rowJ, i), op.localGet, rowI, op.f64Load, ...f64Access, op.f64Store, ...f64Access);
        emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
      });
      // Pairs of entries from j + 1: s − Lt[c][·]·Lt[c][j] over c, ÷ d, into Lt's row j and schur.
      const pairs = (count: number) => {
        for (let q = 0; q < count; q++) emit(...f64At(rowJ, i), simd.load, 3, ...unsigned(16 * q), op.localSet, acc0 + q);
        emit(op.localGet, lt, op.localSet, rowC);
        loopUntil(emit, () => emit(op.localGet, rowC, op.localGet, rowJ, op.i32GeU), () => {
          emit(...f64At(rowC, j), simd.load64Splat, f64Access, op.localSet, v);
          for (let q = 0; q < count; q++) {
            emit(op.localGet, acc0 + q, ...f64At(rowC, i), simd.load, 3, ...unsigned(16 * q), op.localGet, v, simd.mul, simd.sub, op.localSet, acc0 + q);
          }
          emit(op.localGet, rowC, op.localGet, stride, op.i32Add, op.localSet, rowC);
        });
        for (let q = 0; q < count; q++) {
          emit(...f64At(rowJ, i), op.localGet, acc0 + q, op.localGet, dPair, f64x2Div, op.localTee, acc0 + q, simd.store, 3, ...unsigned(16 * q));
          emit(...f64At(schur, i), ...f64At(schur, i), simd.load, 3, ...unsigned(16 * q), op.localGet, acc0 + q, op.localGet, acc0 + q, simd.mul, simd.sub, simd.store, 3, ...unsigned(16 * q));
        }
        emit(op.localGet, i, op.i32Const, ...signed(16 * count), op.i32Add, op.localSet, i);
      };
      emit(op.localGet, j, op.i32Const, 8, op.i32Add, op.localSet, i);
      // Four pairs while the fourth starts inside (i + 48 < end), then single pairs while i < end.
      loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 48, op.i32Add, op.localGet, end, op.i32GeS), () => pairs(4));
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => pairs(1));
      emit(op.localGet, j, op.i32Const, 8, op.i32Add, op.localSet, j);
      emit(op.localGet, rowJ, op.localGet, stride, op.i32Add, op.localSet, rowJ);
    });
    // L[i][c] = Lt[c][i] for c ≤ i (rowI: L's row i; rowC: Lt's row c; j: c in bytes).
    emit(op.i32Const, 0, op.localSet, i, op.localGet, l, op.localSet, rowI);
    loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
      emit(op.i32Const, 0, op.localSet, j, op.localGet, lt, op.localSet, rowC);
      loopUntil(emit, () => emit(op.localGet, j, op.localGet, i, op.i32GtS), () => {
        emit(...f64At(rowI, j), ...f64At(rowC, i), op.f64Load, ...f64Access, op.f64Store, ...f64Access);
        emit(op.localGet, j, op.i32Const, 8, op.i32Add, op.localSet, j);
        emit(op.localGet, rowC, op.localGet, stride, op.i32Add, op.localSet, rowC);
      });
      emit(op.localGet, rowI, op.localGet, stride, op.i32Add, op.localSet, rowI);
      emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
    });
    // y = P·b, the two substitutions, x = Pᵀ·y.
    emit(op.i32Const, 0, op.localSet, i);
    loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
      emit(...f64At(y, i), op.localGet, b, ...permAt(i), op.i32Load, 2, 0, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access, op.f64Store, ...f64Access);
      emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
    });
    emit(op.localGet, lt, op.localGet, stride, op.localGet, n, op.localGet, y, op.call, ...unsigned(forward));
    emit(op.localGet, l, op.localGet, stride, op.localGet, n, op.localGet, y, op.call, ...unsigned(backward));
    emit(op.i32Const, 0, op.localSet, i);
    loopUntil(emit, () => emit(op.localGet, i, op.localGet, end, op.i32GeS), () => {
      emit(op.localGet, x, ...permAt(i), op.i32Load, 2, 0, op.i32Const, 3, op.i32Shl, op.i32Add, ...f64At(y, i), op.f64Load, ...f64Access, op.f64Store, ...f64Access);
      emit(op.localGet, i, op.i32Const, 8, op.i32Add, op.localSet, i);
    });
    emit(op.i32Const, 1);
  });
}
