/**
 * The body of the lasso λ-path's per-breakpoint bookkeeping (weights/lassoPath.ts): after the
 * direction, the marks, the moving candidates' row sums, the next event and the step to it, in one
 * call. Apart from pathBodies.ts (the constrained path's) because it is read against lassoPath.ts's
 * loop and its JavaScript twin (scalarKernels.ts lassoStep), operation for operation.
 */
import { F64, I32, f64Access, functionBody, loopUntil, op, unsigned } from './assembler';

/**
 * lassoStep(k, w, d, correlation, gd, leaveAt, marks, moving, now, rhs, b, out, stride, list, values,
 * zero, pairs, λ, boundaryLevel, slack) → the support's size after the step. Per candidate i: free =
 * wᵢ > 0, on the boundary = not free and correlationᵢ ≥ boundaryLevel, in the support = free or (on
 * the boundary and dᵢ > 0); marks[i] = support | boundary << 1; the moving list (dᵢ ≠ 0) ascending;
 * gd = G·d over it (addRowsOf, the function `addRowsOf`, scale 1, from zero). Then δ = the minimum of
 * λ, each free candidate's leave step wᵢ/−dᵢ (dᵢ < 0; leaveAt[i], else ∞) and each outside candidate's
 * (marks 0) join step max(0, λ − correlationⱼ)/(1 − gdⱼ) when 1 − gdⱼ > 0: f64.min is Math.min
 * (NaN wins, −0 < +0), so one pass gives the JavaScript's two. tie = δ + slack, next = λ − δ ≤ slack
 * ? 0 : λ − δ (out[0]), moved = λ − next; each support weight moves (w += moved·d), any weight whose
 * leave step is ≤ tie or that is < 0 becomes 0, and the positive ones are listed in `now` with
 * rhs[a] = b[now[a]] − next. Branch-free; lists and marks are i32.
 */
export function lassoStepBody(addRowsOf: number): number[] {
  const [k, w, d, correlation, gd, leaveAt, marks, moving, now, rhs, b, out, stride, list, values, zero, pairs, lambda, boundaryLevel, slack] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  const [i, at8, at4, mv, count, free, onBoundary] = [20, 21, 22, 23, 24, 25, 26];
  const [wi, di, delta, at, den, next, moved, tie] = [27, 28, 29, 30, 31, 32, 33, 34];
  const infinity = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f];
  const one = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];
  const f64Zero = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0];
  const f64At = (base: number) => [op.localGet, base, op.localGet, at8, op.i32Add, op.f64Load, ...f64Access];
  const i32At = (base: number) => [op.localGet, base, op.localGet, at4, op.i32Add, op.i32Load, 2, 0];
  const f64Slot = (base: number) => [op.localGet, base, op.localGet, at8, op.i32Add];
  const i32Slot = (base: number, index: number) => [op.localGet, base, op.localGet, index, op.i32Const, 2, op.i32Shl, op.i32Add];
  return functionBody([[7, I32], [8, F64]], (emit) => {
    const eachCandidate = (body: () => void) => {
      emit(op.i32Const, 0, op.localSet, i);
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, k, op.i32GeS), () => {
        emit(op.localGet, i, op.i32Const, 3, op.i32Shl, op.localSet, at8, op.localGet, i, op.i32Const, 2, op.i32Shl, op.localSet, at4);
        body();
        emit(op.localGet, i, op.i32Const, 1, op.i32Add, op.localSet, i);
      });
    };
    // The marks, the moving list, gd = 0.
    eachCandidate(() => {
      emit(...f64At(w), op.localTee, wi, ...f64Zero, op.f64Gt, op.localSet, free);
      emit(...f64At(d), op.localSet, di);
      emit(op.localGet, free, op.i32Eqz, ...f64At(correlation), op.localGet, boundaryLevel, op.f64Ge, op.i32And, op.localSet, onBoundary);
      emit(...i32Slot(marks, i), op.localGet, free, op.localGet, onBoundary, op.localGet, di, ...f64Zero, op.f64Gt, op.i32And, op.i32Or);
      emit(op.localGet, onBoundary, op.i32Const, 1, op.i32Shl, op.i32Or, op.i32Store, 2, 0);
      emit(...i32Slot(moving, mv), op.localGet, i, op.i32Store, 2, 0);
      emit(op.localGet, mv, op.localGet, di, ...f64Zero, op.f64Ne, op.i32Add, op.localSet, mv);
      emit(...f64Slot(gd), ...f64Zero, op.f64Store, ...f64Access);
    });
    emit(op.localGet, gd, op.localGet, moving, op.localGet, mv, op.localGet, d, ...one, op.localGet, stride, op.localGet, list, op.localGet, values, op.localGet, zero, op.localGet, pairs, op.call, ...unsigned(addRowsOf));
    // δ: the leave steps (free, d < 0) and the join steps (outside, 1 − gd > 0).
    emit(op.localGet, lambda, op.localSet, delta);
    eachCandidate(() => {
      emit(...f64At(w), op.localTee, wi, ...f64At(d), op.localTee, di, op.f64Neg, op.f64Div, ...infinity);
      emit(op.localGet, wi, ...f64Zero, op.f64Gt, op.localGet, di, ...f64Zero, op.f64Lt, op.i32And, op.select, op.localSet, at);
      emit(...f64Slot(leaveAt), op.localGet, at, op.f64Store, ...f64Access);
      emit(op.localGet, delta, op.localGet, at, op.f64Min, op.localSet, delta);
      emit(...one, ...f64At(gd), op.f64Sub, op.localSet, den);
      emit(...f64Zero, op.localGet, lambda, ...f64At(correlation), op.f64Sub, op.f64Max, op.localGet, den, op.f64Div, ...infinity);
      emit(...i32At(marks), op.i32Eqz, op.localGet, den, ...f64Zero, op.f64Gt, op.i32And, op.select, op.localSet, at);
      emit(op.localGet, delta, op.localGet, at, op.f64Min, op.localSet, delta);
    });
    // tie, next (out[0]), moved.
    emit(op.localGet, delta, op.localGet, slack, op.f64Add, op.localSet, tie);
    emit(...f64Zero, op.localGet, lambda, op.localGet, delta, op.f64Sub, op.localTee, next, op.localGet, next, op.localGet, slack, op.f64Le, op.select, op.localSet, next);
    emit(op.localGet, out, op.localGet, next, op.f64Store, ...f64Access);
    emit(op.localGet, lambda, op.localGet, next, op.f64Sub, op.localSet, moved);
    // The step, the support after it and its right-hand side.
    eachCandidate(() => {
      emit(...f64At(w), op.localTee, wi, op.localGet, moved, ...f64At(d), op.f64Mul, op.f64Add, op.localGet, wi, ...i32At(marks), op.i32Const, 1, op.i32And, op.select, op.localSet, wi);
      emit(...f64Zero, op.localGet, wi, ...f64At(leaveAt), op.localGet, tie, op.f64Le, op.localGet, wi, ...f64Zero, op.f64Lt, op.i32Or, op.select, op.localSet, wi);
      emit(...f64Slot(w), op.localGet, wi, op.f64Store, ...f64Access);
      emit(...i32Slot(now, count), op.localGet, i, op.i32Store, 2, 0);
      emit(op.localGet, rhs, op.localGet, count, op.i32Const, 3, op.i32Shl, op.i32Add, ...f64At(b), op.localGet, next, op.f64Sub, op.f64Store, ...f64Access);
      emit(op.localGet, count, op.localGet, wi, ...f64Zero, op.f64Gt, op.i32Add, op.localSet, count);
    });
    emit(op.localGet, count);
  });
}
