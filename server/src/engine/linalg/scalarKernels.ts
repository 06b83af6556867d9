/**
 * The dense kernels in plain JavaScript, bit for bit the SIMD ones (simdKernels.ts): every sum in the
 * same order, so a runtime without WebAssembly SIMD gives the same weights. It exists apart from the
 * SIMD code so each twin can be read against its kernel, and it holds targetProducts, the reference
 * order of the lasso's products with the target.
 */
import { addRows, dot } from './dense';
import { appendBesideTranspose, choleskySolve, substituteCholesky } from './cholesky';
import type { LassoStepInput, PathBoundaryInput, PathEventsInput, SimdKernels, TargetProducts } from './kernelContract';

/** TargetProducts in JavaScript, the reference order: each sum over d ascending, one term at a time. */
export function targetProducts(target: Float64Array, prototypes: readonly Float64Array[]): TargetProducts {
  const k = prototypes.length;
  const dim = target.length;
  const out = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
  // Two prototypes per pass: six independent chains of additions instead of three (the same bits).
  let i = 0;
  for (; i + 1 < k; i += 2) {
    const p = prototypes[i];
    const q = prototypes[i + 1];
    let bp = 0, ep = 0, pp = 0, bq = 0, eq = 0, qq = 0;
    for (let d = 0; d < dim; d++) {
      const td = target[d];
      const pd = p[d];
      const qd = q[d];
      bp += pd * td; ep += (td - pd) * td; pp += pd * pd;
      bq += qd * td; eq += (td - qd) * td; qq += qd * qd;
    }
    out.b[i] = bp; out.e[i] = ep; out.squares[i] = pp;
    out.b[i + 1] = bq; out.e[i + 1] = eq; out.squares[i + 1] = qq;
  }
  for (; i < k; i++) {
    const p = prototypes[i];
    let bi = 0, ei = 0, pp = 0;
    for (let d = 0; d < dim; d++) { const pd = p[d]; const td = target[d]; bi += pd * td; ei += (td - pd) * td; pp += pd * pd; }
    out.b[i] = bi; out.e[i] = ei; out.squares[i] = pp;
  }
  return out;
}

/** Row i of `out` = t − pᵢ. */
function writeDifferences(out: Float64Array, target: Float64Array, prototypes: readonly Float64Array[]): void {
  const dim = target.length;
  for (let i = 0; i < prototypes.length; i++) {
    const p = prototypes[i];
    const offset = i * dim;
    for (let d = 0; d < dim; d++) out[offset + d] = target[d] - p[d];
  }
}

/**
 * Σ f(x_t, y_t) summed as the SIMD kernels do: even terms, odd terms, their sum, then the last term of
 * an odd length. f is x·y or (x − y)².
 */
function paired(v: Float64Array, x: number, y: number, n: number, squares: boolean): number {
  let even = 0;
  let odd = 0;
  const pairs = n & ~1;
  for (let t = 0; t < pairs; t += 2) {
    if (squares) {
      const a = v[x + t] - v[y + t];
      const b = v[x + t + 1] - v[y + t + 1];
      even += a * a;
      odd += b * b;
    } else {
      even += v[x + t] * v[y + t];
      odd += v[x + t + 1] * v[y + t + 1];
    }
  }
  let sum = even + odd;
  if (pairs < n) {
    const a = v[x + pairs];
    const b = v[y + pairs];
    sum += squares ? (a - b) * (a - b) : a * b;
  }
  return sum;
}

function scalarPass(rows: Float64Array, k: number, dim: number, squares: boolean): Float64Array {
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const value = paired(rows, i * dim, j * dim, dim, squares);
      c[i * k + j] = value;
      c[j * k + i] = value;
    }
  }
  return c;
}

/** forwardU in JavaScript: y ← L⁻¹·y from U = Lᵀ, column by column. */
function forwardByColumns(u: Float64Array, k: number, m: number, y: Float64Array): void {
  for (let c = 0; c < m; c++) {
    const row = c * k;
    const yc = y[c] / u[row + c];
    y[c] = yc;
    for (let i = c + 1; i < m; i++) y[i] = y[i] - u[row + i] * yc;
  }
}

/** RowSums.appendRow in JavaScript (the SIMD one's reference): the column, then appendBesideTranspose. */
function appendRow(a: Float64Array, k: number, members: Int32Array, m: number, r: number, j: number, factor: Float64Array, transposed: Float64Array, system: Float64Array | null, l: Float64Array, dependentBelow: number): boolean {
  const rowJ = j * k;
  let diagonal = a[rowJ + j];
  if (r >= 0) {
    const crr = a[r * k + r];
    const crj = a[r * k + j];
    diagonal = a[rowJ + j] - 2 * crj + crr;
    for (let p = 0; p < m; p++) {
      const i = members[p];
      const value = a[rowJ + i] - a[r * k + i] - crj + crr;
      l[p] = value;
      if (system) {
        system[m * k + p] = value;
        system[p * k + m] = value;
      }
    }
  } else {
    for (let p = 0; p < m; p++) l[p] = a[rowJ + members[p]];
  }
  if (!appendBesideTranspose(factor, transposed, k, m, l, diagonal, dependentBelow, (y, size) => forwardByColumns(transposed, k, size, y))) return false;
  if (r >= 0 && system) system[m * k + m] = diagonal;
  return true;
}

/** RowSums.pathBoundary in JavaScript (the SIMD one's reference): ν, the tolerance, the boundary. */
function pathBoundary(k: number, input: PathBoundaryInput): boolean {
  const { active, count, inactive, sign, justLeft, joined, w, g, out, lambda } = input;
  let nu = 0;
  let l1 = 0;
  for (let a = 0; a < count; a++) { const i = active[a]; nu += g[i] + lambda * sign[i]; l1 += Math.abs(w[i]); }
  nu /= count;
  const tolerance = input.base + input.slope * l1;
  out[0] = nu;
  input.toleranceOut[0] = tolerance;
  // Candidates on the boundary |ν − g_j| = λ join, signed like ν − g_j.
  let listed = true;
  for (let n = k - 1; n >= count; n--) {
    const j = inactive[n];
    if (justLeft[j]) continue;
    const r = nu - g[j];
    if (Math.abs(r) >= lambda - tolerance) { sign[j] = r > 0 ? 1 : -1; joined[j] = 1; listed = false; }
  }
  return listed;
}

/** RowSums.pathUpdate in JavaScript (the SIMD one's reference): the step to the next breakpoint. */
function pathUpdate(k: number, input: PathEventsInput, moved: number, tie: number): void {
  const { active, count, inactive, w, direction, sign, justLeft, joined, leaveAt, joinAt, joinSign } = input;
  justLeft.fill(0);
  joined.fill(0);
  for (let a = 0; a < count; a++) {
    const i = active[a];
    w[i] -= moved * direction[i];
    if (leaveAt[i] <= tie || w[i] * sign[i] <= 0) { w[i] = 0; sign[i] = 0; justLeft[i] = 1; }
  }
  // The inactive candidates of the search (sign 0 then, none of them just left) whose join is due.
  for (let n = k - 1; n >= count; n--) {
    const j = inactive[n];
    if (joinAt[j] <= tie) { sign[j] = joinSign[j]; joined[j] = 1; }
  }
}

/**
 * RowSums.pathEvents in JavaScript (the SIMD one's reference): the constrained λ-path's next event.
 * Leave: an active weight reaches 0 at δ = wᵢ/dᵢ when that is > 0. Join: an inactive candidate's
 * r − δρ = s(λ − δ) ⇔ δ = (λ − s·r)/(1 − s·ρ), with λ − s·r ≥ 0 while |r| ≤ λ: s = 1, then s = −1; one
 * that just left may not rejoin at once on the side it is at (within the tolerance).
 */
function pathEvents(k: number, input: PathEventsInput): number {
  const { active, count, inactive, sign, justLeft, w, direction, g, gDirection, leaveAt, joinAt, joinSign, nu, lambda, tolerance } = input;
  let delta = lambda;
  let dNu = 0;
  for (let a = 0; a < count; a++) {
    const i = active[a];
    dNu += gDirection[i] + sign[i];
    // (Written without a branch on the sign of d: Math.min(δ, ∞) is δ.)
    const d = w[i] / direction[i];
    const at = w[i] !== 0 && direction[i] !== 0 && d > 0 ? d : Infinity;
    leaveAt[i] = at;
    delta = Math.min(delta, at);
  }
  dNu /= count;
  input.dNu[0] = dNu;
  for (let n = k - 1; n >= count; n--) {
    const j = inactive[n];
    const r = nu - g[j];
    const rho = dNu - gDirection[j];
    const skipNear = justLeft[j] !== 0;
    let at = Infinity;
    let atSign = 0;
    const up = lambda - r;
    const upDenominator = 1 - rho;
    if (upDenominator > 0 && !(skipNear && up <= tolerance)) {
      const d = Math.max(0, up) / upDenominator;
      if (d < at) { at = d; atSign = 1; }
    }
    const down = lambda + r;
    const downDenominator = 1 + rho;
    if (downDenominator > 0 && !(skipNear && down <= tolerance)) {
      const d = Math.max(0, down) / downDenominator;
      if (d < at) { at = d; atSign = -1; }
    }
    joinAt[j] = at;
    if (atSign !== 0) joinSign[j] = atSign;
    delta = Math.min(delta, at);
  }
  return delta;
}

/**
 * RowSums.lassoStep in JavaScript (the SIMD one's reference): the lasso λ-path's loop after its
 * direction (lassoPath.ts). A free weight (w > 0) leaves at δ = w/−d when d < 0; an outside candidate
 * (neither in the support nor on the boundary) joins when its correlation c − δ·(G·d) reaches λ − δ,
 * at δ = max(0, λ − c)/(1 − (G·d)) when 1 − (G·d) > 0. The minimum over both kinds in one pass: Math.min
 * does not depend on the order (NaN wins, −0 < +0).
 */
function lassoStep(k: number, input: LassoStepInput, addRowsOf: (out: Float64Array, rows: Int32Array, count: number, v: Float64Array) => void): number {
  const { w, direction: d, correlation, gd, leaveAt, marks, moving, now, rhs, b, out, lambda, boundaryLevel, slack } = input;
  let mv = 0;
  for (let i = 0; i < k; i++) {
    const free = w[i] > 0 ? 1 : 0;
    const onBoundary = free === 0 && correlation[i] >= boundaryLevel ? 1 : 0;
    marks[i] = free | (onBoundary & (d[i] > 0 ? 1 : 0)) | (onBoundary << 1);
    moving[mv] = i;
    mv += d[i] !== 0 ? 1 : 0;
    gd[i] = 0;
  }
  addRowsOf(gd, moving, mv, d);
  let delta = lambda;
  for (let i = 0; i < k; i++) {
    const leave = w[i] > 0 && d[i] < 0 ? w[i] / -d[i] : Infinity;
    leaveAt[i] = leave;
    delta = Math.min(delta, leave);
    const denominator = 1 - gd[i];
    const join = marks[i] === 0 && denominator > 0 ? Math.max(0, lambda - correlation[i]) / denominator : Infinity;
    delta = Math.min(delta, join);
  }
  const tie = delta + slack;
  const next = lambda - delta <= slack ? 0 : lambda - delta;
  out[0] = next;
  const moved = lambda - next;
  let count = 0;
  for (let i = 0; i < k; i++) {
    let x = w[i];
    if (marks[i] & 1) x += moved * d[i];
    if (leaveAt[i] <= tie || x < 0) x = 0;
    w[i] = x;
    now[count] = i;
    rhs[count] = b[i] - next;
    count += x > 0 ? 1 : 0;
  }
  return count;
}

/** The kernels in plain JavaScript, bit for bit the SIMD ones. */
export const scalarKernels: SimdKernels = {
  gramOfRows: (rows, k, dim) => scalarPass(rows, k, dim, false),
  choleskySolve,
  rowSums: (matrix, k, vectors, matrices = 0, lists = 0) => ({
    vectors: Array.from({ length: vectors }, () => new Float64Array(k)),
    matrices: Array.from({ length: matrices }, () => new Float64Array(k * k)),
    lists: Array.from({ length: lists }, () => new Int32Array(k)),
    addRows: (out, rows, count, v, scale) => addRows(out, matrix, k, rows, count, v, scale),
    appendRow: (members, m, reference, j, factor, transposed, system, l, dependentBelow) => appendRow(matrix, k, members, m, reference, j, factor, transposed, system, l, dependentBelow),
    pathBoundary: (input) => pathBoundary(k, input),
    pathEvents: (input) => pathEvents(k, input),
    pathUpdate: (input, moved, tie) => pathUpdate(k, input, moved, tie),
    lassoStep: (input) => lassoStep(k, input, (out, rows, count, v) => addRows(out, matrix, k, rows, count, v)),
    refinedSolve: (l, _u, a, m, z, rhs, correction) => {
      substituteCholesky(l, k, m, z, z);
      for (let p = 0; p < m; p++) correction[p] = rhs[p] - dot(a, p * k, z, 0, m);
      substituteCholesky(l, k, m, correction, correction);
      for (let p = 0; p < m; p++) z[p] += correction[p];
    },
    gramRefinedSolve: (l, _u, members, m, rhs, x, byCandidate, full, r) => {
      for (let p = 0; p < m; p++) x[p] = rhs[p];
      substituteCholesky(l, k, m, x, x);
      for (let q = 0; q < m; q++) { byCandidate[members[q]] = x[q]; full[members[q]] = rhs[q]; }
      addRows(full, matrix, k, members, m, byCandidate, -1);
      for (let p = 0; p < m; p++) r[p] = full[members[p]];
      substituteCholesky(l, k, m, r, r);
    },
    substitute: (l, _u, m, y) => { substituteCholesky(l, k, m, y, y); },
    forward: (u, m, y) => { forwardByColumns(u, k, m, y); },
    residual: (a, m, z, rhs, out) => { for (let p = 0; p < m; p++) out[p] = rhs[p] - dot(a, p * k, z, 0, m); },
  }),
  gramOfDifferences: (target, prototypes, products) => {
    if (products) {
      const { b, e, squares } = targetProducts(target, prototypes);
      products.b.set(b);
      products.e.set(e);
      products.squares.set(squares);
    }
    const differences = new Float64Array(prototypes.length * target.length);
    writeDifferences(differences, target, prototypes);
    return scalarPass(differences, prototypes.length, target.length, false);
  },
  squaredDistances: (rows, k, dim) => scalarPass(rows, k, dim, true),
};
