/**
 * The bodies of the constrained λ-path's per-breakpoint bookkeeping (lambdaPath.ts): pathBoundary (ν
 * and the candidates that join the boundary), pathEvents (the next event: a weight reaching 0 or a
 * candidate reaching the boundary) and pathUpdate (the step to it). Apart from the factor kernels
 * (triangularBodies.ts) because they are read against lambdaPath.ts's loops, not cholesky.ts's: each
 * repeats its JavaScript twin (scalarKernels.ts) operation for operation.
 */
import { F64, I32, f64Access, functionBody, loopUntil, op, signed } from './assembler';

/**
 * pathEvents(active, count, inactive, k, sign, justLeft, w, direction, g, gDirection, leaveAt, joinAt,
 * joinSign, dNuOut, ν, λ, tolerance) → δ: the constrained λ-path's search for its next event
 * (lambdaPath.ts followDown, whose JavaScript loops this is, operation for operation). Over the active
 * candidates i = active[a], a < count: dν += (2·C·d)ᵢ + sᵢ, leaveAt[i] = wᵢ/dᵢ when wᵢ ≠ 0, dᵢ ≠ 0
 * and that is > 0, else ∞; dν /= count (stored at dNuOut). Over the inactive ones j = inactive[n],
 * n = k − 1 down to count: r = ν − g_j, ρ = dν − (2·C·d)_j; the step to |r| = λ from above (sign +1:
 * max(0, λ − r)/(1 − ρ) when 1 − ρ > 0 and not (j just left and λ − r ≤ tolerance)) and from below
 * (sign −1, likewise with λ + r, 1 + ρ); the smaller (the first when equal) is joinAt[j] and its sign
 * joinSign[j] (kept when neither applies), else joinAt[j] = ∞. δ = the minimum of λ and every leaveAt
 * and joinAt written, in the JavaScript's order (f64.min is Math.min: NaN wins, −0 < +0). Branch-free:
 * both candidates' quotients are always computed and selected. Lists and signs are i32.
 */
export function pathEventsBody(): number[] {
  const [active, count, inactive, k, sign, justLeft, w, direction, g, gDirection, leaveAt, joinAt, joinSign, dNuOut, nu, lambda, tolerance] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const [a, i, at8, skip, okUp, okDown, atSign] = [17, 18, 19, 20, 21, 22, 23];
  const [delta, dNu, wi, di, d, at, r, rho, dUp, dDown] = [24, 25, 26, 27, 28, 29, 30, 31, 32, 33];
  const infinity = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f];
  const one = [op.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f];
  const zero = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0];
  const f64At = (base: number) => [op.localGet, base, op.localGet, at8, op.i32Add, op.f64Load, ...f64Access];
  const i32At = (base: number, index: number) => [op.localGet, base, op.localGet, index, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0];
  return functionBody([[7, I32], [10, F64]], (emit) => {
    emit(op.localGet, lambda, op.localSet, delta);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32GeS), () => {
      emit(...i32At(active, a), op.localTee, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      // dν += (2·C·d)ᵢ + sᵢ
      emit(op.localGet, dNu, ...f64At(gDirection), ...i32At(sign, i), op.f64FromI32, op.f64Add, op.f64Add, op.localSet, dNu);
      emit(...f64At(w), op.localTee, wi, ...f64At(direction), op.localTee, di, op.f64Div, op.localSet, d);
      // at = wᵢ ≠ 0 && dᵢ ≠ 0 && d > 0 ? d : ∞
      emit(op.localGet, d, ...infinity);
      emit(op.localGet, wi, ...zero, op.f64Ne, op.localGet, di, ...zero, op.f64Ne, op.i32And, op.localGet, d, ...zero, op.f64Gt, op.i32And);
      emit(op.select, op.localSet, at);
      emit(op.localGet, leaveAt, op.localGet, at8, op.i32Add, op.localGet, at, op.f64Store, ...f64Access);
      emit(op.localGet, delta, op.localGet, at, op.f64Min, op.localSet, delta);
      emit(op.localGet, a, op.i32Const, 1, op.i32Add, op.localSet, a);
    });
    emit(op.localGet, dNu, op.localGet, count, op.f64FromI32, op.f64Div, op.localSet, dNu);
    emit(op.localGet, dNuOut, op.localGet, dNu, op.f64Store, ...f64Access);
    // n = k − 1 down to count (a reused as n)
    emit(op.localGet, k, op.i32Const, 1, op.i32Sub, op.localSet, a);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32LtS), () => {
      emit(...i32At(inactive, a), op.localTee, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      emit(op.localGet, nu, ...f64At(g), op.f64Sub, op.localSet, r);
      emit(op.localGet, dNu, ...f64At(gDirection), op.f64Sub, op.localSet, rho);
      emit(...i32At(justLeft, i), op.i32Const, 0, op.i32Ne, op.localSet, skip);
      // up = λ − r over 1 − ρ: ok when 1 − ρ > 0 and !(skip && up ≤ tolerance)
      emit(...zero, op.localGet, lambda, op.localGet, r, op.f64Sub, op.localTee, wi, op.f64Max, ...one, op.localGet, rho, op.f64Sub, op.localTee, di, op.f64Div, op.localSet, dUp);
      emit(op.localGet, di, ...zero, op.f64Gt, op.localGet, skip, op.localGet, wi, op.localGet, tolerance, op.f64Le, op.i32And, op.i32Eqz, op.i32And, op.localSet, okUp);
      // down = λ + r over 1 + ρ
      emit(...zero, op.localGet, lambda, op.localGet, r, op.f64Add, op.localTee, wi, op.f64Max, ...one, op.localGet, rho, op.f64Add, op.localTee, di, op.f64Div, op.localSet, dDown);
      emit(op.localGet, di, ...zero, op.f64Gt, op.localGet, skip, op.localGet, wi, op.localGet, tolerance, op.f64Le, op.i32And, op.i32Eqz, op.i32And, op.localSet, okDown);
      // the up step when it applies and is < ∞ (sign 1)
      emit(op.localGet, okUp, op.localGet, dUp, ...infinity, op.f64Lt, op.i32And, op.localSet, okUp);
      emit(op.localGet, dUp, ...infinity, op.localGet, okUp, op.select, op.localSet, at);
      emit(op.localGet, okUp, op.localSet, atSign);
      // the down step when it applies and is < at (sign −1)
      emit(op.localGet, okDown, op.localGet, dDown, op.localGet, at, op.f64Lt, op.i32And, op.localSet, okDown);
      emit(op.localGet, dDown, op.localGet, at, op.localGet, okDown, op.select, op.localSet, at);
      emit(op.i32Const, ...signed(-1), op.localGet, atSign, op.localGet, okDown, op.select, op.localSet, atSign);
      emit(op.localGet, joinAt, op.localGet, at8, op.i32Add, op.localGet, at, op.f64Store, ...f64Access);
      emit(op.localGet, atSign, op.if, 0x40);
      emit(op.localGet, joinSign, op.localGet, i, op.i32Const, 2, op.i32Shl, op.i32Add, op.localGet, atSign, op.i32Store, 2, 0);
      emit(op.end);
      emit(op.localGet, delta, op.localGet, at, op.f64Min, op.localSet, delta);
      emit(op.localGet, a, op.i32Const, 1, op.i32Sub, op.localSet, a);
    });
    emit(op.localGet, delta);
  });
}

/**
 * pathBoundary(active, count, inactive, k, sign, justLeft, joined, w, g, out, toleranceOut, λ, base, slope) → 1 when no
 * candidate joined, else 0: the constrained λ-path's ν and boundary (lambdaPath.ts followDown, whose
 * JavaScript loops this is, operation for operation). ν = Σ over the active i of g_i + λ·s_i, ‖w‖₁ = Σ |w_i|,
 * ν /= count, tolerance = base + slope·‖w‖₁ (out[0] = ν, toleranceOut[0] = tolerance); then for the inactive
 * j = inactive[n], n = k − 1 down to count, not just left: with r = ν − g_j, |r| ≥ λ − tolerance puts j
 * on the boundary: sign_j = r > 0 ? 1 : −1, joined_j = 1. Lists, signs and marks are i32.
 */
export function pathBoundaryBody(): number[] {
  const [active, count, inactive, k, sign, justLeft, joined, w, g, out, toleranceOut, lambda, base, slope] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [a, i, at8, listed] = [14, 15, 16, 17];
  const [nu, l1, tolerance, r] = [18, 19, 20, 21];
  const i32At = (baseLocal: number, index: number) => [op.localGet, baseLocal, op.localGet, index, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0];
  const f64At = (baseLocal: number) => [op.localGet, baseLocal, op.localGet, at8, op.i32Add, op.f64Load, ...f64Access];
  return functionBody([[4, I32], [4, F64]], (emit) => {
    emit(op.i32Const, 1, op.localSet, listed);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32GeS), () => {
      emit(...i32At(active, a), op.localTee, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      emit(op.localGet, nu, ...f64At(g), op.localGet, lambda, ...i32At(sign, i), op.f64FromI32, op.f64Mul, op.f64Add, op.f64Add, op.localSet, nu);
      emit(op.localGet, l1, ...f64At(w), op.f64Abs, op.f64Add, op.localSet, l1);
      emit(op.localGet, a, op.i32Const, 1, op.i32Add, op.localSet, a);
    });
    emit(op.localGet, nu, op.localGet, count, op.f64FromI32, op.f64Div, op.localSet, nu);
    emit(op.localGet, base, op.localGet, slope, op.localGet, l1, op.f64Mul, op.f64Add, op.localSet, tolerance);
    emit(op.localGet, out, op.localGet, nu, op.f64Store, ...f64Access);
    emit(op.localGet, toleranceOut, op.localGet, tolerance, op.f64Store, ...f64Access);
    emit(op.localGet, k, op.i32Const, 1, op.i32Sub, op.localSet, a);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32LtS), () => {
      emit(...i32At(inactive, a), op.localTee, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      emit(...i32At(justLeft, i), op.i32Eqz, op.if, 0x40);
      emit(op.localGet, nu, ...f64At(g), op.f64Sub, op.localSet, r);
      emit(op.localGet, r, op.f64Abs, op.localGet, lambda, op.localGet, tolerance, op.f64Sub, op.f64Ge, op.if, 0x40);
      emit(op.localGet, sign, op.localGet, i, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Const, 1, op.i32Const, ...signed(-1), op.localGet, r, op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, op.f64Gt, op.select, op.i32Store, 2, 0);
      emit(op.localGet, joined, op.localGet, i, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Const, 1, op.i32Store, 2, 0);
      emit(op.i32Const, 0, op.localSet, listed);
      emit(op.end);
      emit(op.end);
      emit(op.localGet, a, op.i32Const, 1, op.i32Sub, op.localSet, a);
    });
    emit(op.localGet, listed);
  });
}

/**
 * pathUpdate(active, count, inactive, k, w, direction, sign, justLeft, joined, leaveAt, joinAt, joinSign,
 * moved, tie): the constrained λ-path's step to its next breakpoint (lambdaPath.ts followDown, whose
 * JavaScript loops this is, operation for operation): justLeft and joined cleared; each active i moves,
 * w_i = w_i − moved·d_i, and leaves (w_i = 0, s_i = 0, justLeft_i = 1) when leaveAt_i ≤ tie or
 * w_i·s_i ≤ 0; each inactive j = inactive[n] (n = k − 1 down to count) with joinAt_j ≤ tie joins:
 * s_j = joinSign_j, joined_j = 1. Lists, signs and marks are i32.
 */
export function pathUpdateBody(): number[] {
  const [active, count, inactive, k, w, direction, sign, justLeft, joined, leaveAt, joinAt, joinSign, moved, tie] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [a, i, at8, at4] = [14, 15, 16, 17];
  const [wi] = [18];
  const zero = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0];
  const f64At = (base: number) => [op.localGet, base, op.localGet, at8, op.i32Add, op.f64Load, ...f64Access];
  const setI32 = (base: number, value: () => void) => { emit32(base); value(); };
  let emit32: (base: number) => void = () => undefined;
  return functionBody([[4, I32], [1, F64]], (emit) => {
    emit32 = (base: number) => emit(op.localGet, base, op.localGet, at4, op.i32Add);
    const store32 = () => emit(op.i32Store, 2, 0);
    // Clear justLeft and joined (k i32 each).
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, k, op.i32GeS), () => {
      emit(op.localGet, a, op.i32Const, 2, op.i32Shl, op.localSet, at4);
      setI32(justLeft, () => emit(op.i32Const, 0)); store32();
      setI32(joined, () => emit(op.i32Const, 0)); store32();
      emit(op.localGet, a, op.i32Const, 1, op.i32Add, op.localSet, a);
    });
    emit(op.i32Const, 0, op.localSet, a);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32GeS), () => {
      emit(op.localGet, active, op.localGet, a, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0, op.localTee, i);
      emit(op.i32Const, 2, op.i32Shl, op.localSet, at4, op.localGet, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      // w_i = w_i − moved·d_i
      emit(op.localGet, w, op.localGet, at8, op.i32Add, ...f64At(w), op.localGet, moved, ...f64At(direction), op.f64Mul, op.f64Sub, op.localTee, wi, op.f64Store, ...f64Access);
      // leaveAt_i ≤ tie || w_i·s_i ≤ 0
      emit(...f64At(leaveAt), op.localGet, tie, op.f64Le);
      emit(op.localGet, wi, op.localGet, sign, op.localGet, at4, op.i32Add, op.i32Load, 2, 0, op.f64FromI32, op.f64Mul, ...zero, op.f64Le, op.i32Or);
      emit(op.if, 0x40);
      emit(op.localGet, w, op.localGet, at8, op.i32Add, ...zero, op.f64Store, ...f64Access);
      setI32(sign, () => emit(op.i32Const, 0)); store32();
      setI32(justLeft, () => emit(op.i32Const, 1)); store32();
      emit(op.end);
      emit(op.localGet, a, op.i32Const, 1, op.i32Add, op.localSet, a);
    });
    emit(op.localGet, k, op.i32Const, 1, op.i32Sub, op.localSet, a);
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32LtS), () => {
      emit(op.localGet, inactive, op.localGet, a, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0, op.localTee, i);
      emit(op.i32Const, 2, op.i32Shl, op.localSet, at4, op.localGet, i, op.i32Const, 3, op.i32Shl, op.localSet, at8);
      emit(...f64At(joinAt), op.localGet, tie, op.f64Le, op.if, 0x40);
      setI32(sign, () => emit(op.localGet, joinSign, op.localGet, at4, op.i32Add, op.i32Load, 2, 0)); store32();
      setI32(joined, () => emit(op.i32Const, 1)); store32();
      emit(op.end);
      emit(op.localGet, a, op.i32Const, 1, op.i32Sub, op.localSet, a);
    });
  });
}
