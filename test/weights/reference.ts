/**
 * Independent references for the weights tests: a seeded PRNG, problem generators, brute-force
 * optima by exhaustive enumeration of active sets / sign patterns (each equality-constrained
 * subproblem solved by Gaussian elimination on the full KKT system — a different method from the
 * engine's Householder + Cholesky/Jacobi), and KKT checkers.
 */

import { seededRandom } from '../../server/src/engine/random';

export { seededRandom };

export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface Problem {
  target: Float64Array;
  prototypes: Float64Array[];
  names: string[];
}

export function randomVector(random: () => number, dim: number, offset = 0): Float64Array {
  return Float64Array.from({ length: dim }, () => offset + gaussian(random));
}

export function randomProblem(random: () => number, k: number, dim: number, options: { duplicates?: number; offset?: number; affineMixes?: number } = {}): Problem {
  const offset = options.offset ?? 0;
  const target = randomVector(random, dim, offset);
  const prototypes = Array.from({ length: k }, () => randomVector(random, dim, offset));
  for (let d = 0; d < (options.duplicates ?? 0) && k > 1; d++) {
    const from = Math.floor(random() * k);
    let to = Math.floor(random() * k);
    if (to === from) to = (to + 1) % k;
    prototypes[to] = Float64Array.from(prototypes[from]);
  }
  // A prototype replaced by an affine combination of two others: an exact affine dependency.
  for (let d = 0; d < (options.affineMixes ?? 0) && k > 2; d++) {
    const to = Math.floor(random() * k);
    const a = (to + 1 + Math.floor(random() * (k - 1))) % k;
    let b = (to + 1 + Math.floor(random() * (k - 1))) % k;
    if (b === a) b = (a + 1) % k === to ? (a + 2) % k : (a + 1) % k;
    const alpha = random() < 0.5 ? 0.5 : random() * 1.5 - 0.25;
    prototypes[to] = Float64Array.from(prototypes[a], (x, i) => alpha * x + (1 - alpha) * prototypes[b][i]);
  }
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}

/**
 * The trial-th of a family of problems with small integer coordinates (k = 2…17, D = 2…6, entries in
 * −span…span): every product is exact, so ties anywhere on a λ-path are exact ties, and duplicates and
 * k > D are frequent.
 */
export function integerProblem(random: () => number, trial: number): Problem {
  const k = 2 + (trial % 16);
  const dim = 2 + (trial % 5);
  const span = 1 + (trial % 3);
  const integer = () => Math.floor(random() * (2 * span + 1)) - span;
  const target = Float64Array.from({ length: dim }, integer);
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, integer));
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${String(i).padStart(2, '0')}`) };
}

/** C_ij by the definition, written out plainly. */
export function referenceCost(target: Float64Array, prototypes: Float64Array[]): number[][] {
  return prototypes.map((pi) => prototypes.map((pj) => {
    let s = 0;
    for (let d = 0; d < target.length; d++) s += (target[d] - pi[d]) * (target[d] - pj[d]);
    return s;
  }));
}

/** ‖t − Σwᵢpᵢ‖², straight from the vectors. */
export function directResidualSquared(problem: Problem, w: ArrayLike<number>): number {
  let total = 0;
  for (let d = 0; d < problem.target.length; d++) {
    let value = problem.target[d];
    problem.prototypes.forEach((p, i) => { value -= w[i] * p[d]; });
    total += value * value;
  }
  return total;
}

export function quadratic(c: number[][], w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) for (let j = 0; j < c.length; j++) s += w[i] * c[i][j] * w[j];
  return s;
}

export function l1(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += Math.abs(w[i]);
  return s;
}

export function sum(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  return s;
}

/** Gaussian elimination with partial pivoting; null when a pivot is negligible (singular system). */
export function gaussSolve(matrix: number[][], rhs: number[]): number[] | null {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]]);
  let scale = 0;
  for (const row of matrix) for (const x of row) scale = Math.max(scale, Math.abs(x));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) <= 1e-11 * scale) return null;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      for (let c2 = col; c2 <= n; c2++) a[r][c2] -= f * a[col][c2];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let c2 = r + 1; c2 < n; c2++) s -= a[r][c2] * x[c2];
    x[r] = s / a[r][r];
  }
  return x;
}

/** On subset S: 2C_SS·w − ν·1 = −λ·s, 1ᵀw = 1. Returns full-length w (zeros off S) or null. */
function faceSolution(c: number[][], subset: number[], signs: number[] | null, lambda: number): number[] | null {
  const m = subset.length;
  const matrix: number[][] = [];
  const rhs: number[] = [];
  subset.forEach((i, a) => {
    matrix.push([...subset.map((j) => 2 * c[i][j]), -1]);
    rhs.push(signs ? -lambda * signs[a] : 0);
  });
  matrix.push([...subset.map(() => 1), 0]);
  rhs.push(1);
  const x = gaussSolve(matrix, rhs);
  if (!x) return null;
  const w = new Array<number>(c.length).fill(0);
  subset.forEach((i, a) => { w[i] = x[a]; });
  if (m === 0) return null;
  return w;
}

function subsets(k: number): number[][] {
  const out: number[][] = [];
  for (let mask = 1; mask < 1 << k; mask++) {
    const s: number[] = [];
    for (let i = 0; i < k; i++) if (mask & (1 << i)) s.push(i);
    out.push(s);
  }
  return out;
}

export interface Optimum { objective: number; weights: number[] }

/** min wᵀCw s.t. Σw = 1: the best affine-hull minimum over all subsets (the spanning ones attain it). */
export function referenceLin(c: number[][]): Optimum {
  let best: Optimum = { objective: Infinity, weights: [] };
  for (const s of subsets(c.length)) {
    const w = faceSolution(c, s, null, 0);
    if (!w) continue;
    const objective = quadratic(c, w);
    if (objective < best.objective) best = { objective, weights: w };
  }
  return best;
}

/** min wᵀCw s.t. w ≥ 0, Σw = 1: the best non-negative affine-hull minimum over all subsets. */
export function referenceConvex(c: number[][]): Optimum {
  let best: Optimum = { objective: Infinity, weights: [] };
  for (const s of subsets(c.length)) {
    const w = faceSolution(c, s, null, 0);
    if (!w || w.some((x) => x < -1e-12)) continue;
    const objective = quadratic(c, w);
    if (objective < best.objective) best = { objective, weights: w };
  }
  return best;
}

/** min wᵀCw + λ‖w‖₁ s.t. Σw = 1: every subset × sign pattern, keeping sign-consistent stationary points. */
export function referenceSparse(c: number[][], lambda: number): Optimum {
  let best: Optimum = { objective: Infinity, weights: [] };
  for (const s of subsets(c.length)) {
    for (let pattern = 0; pattern < 1 << s.length; pattern++) {
      const signs = s.map((_, a) => (pattern & (1 << a) ? -1 : 1));
      const w = faceSolution(c, s, signs, lambda);
      if (!w) continue;
      if (s.some((i, a) => signs[a] * w[i] < -1e-12)) continue;
      const objective = quadratic(c, w) + lambda * l1(w);
      if (objective < best.objective) best = { objective, weights: w };
    }
  }
  return best;
}

export function gradientOf(c: number[][], w: ArrayLike<number>): number[] {
  return c.map((row) => 2 * row.reduce((s, x, j) => s + x * w[j], 0));
}

export function costScale(c: number[][], w: ArrayLike<number>): number {
  const diag = Math.max(...c.map((row, i) => row[i]), 1e-300);
  return 2 * diag * (1 + l1(w));
}

/** Returns a description of the first violated KKT condition, or '' when all hold. */
export function linViolation(c: number[][], w: ArrayLike<number>, tolerance = 1e-9): string {
  if (Math.abs(sum(w) - 1) > 1e-12 * Math.max(1, l1(w))) return `Σw = ${sum(w)}`;
  const g = gradientOf(c, w);
  const spread = Math.max(...g) - Math.min(...g);
  if (spread > tolerance * costScale(c, w)) return `stationarity: 2Cw not constant (spread ${spread})`;
  return '';
}

export function convexViolation(c: number[][], w: ArrayLike<number>, tolerance = 1e-9): string {
  if (Math.abs(sum(w) - 1) > 1e-12) return `Σw = ${sum(w)}`;
  for (let i = 0; i < w.length; i++) if (w[i] < 0) return `w[${i}] = ${w[i]} < 0`;
  const g = gradientOf(c, w);
  const nu = g.reduce((s, x, i) => s + x * w[i], 0);
  const tol = tolerance * costScale(c, w);
  for (let j = 0; j < w.length; j++) {
    if (g[j] - nu < -tol) return `dual feasibility: reduced gradient ${g[j] - nu} at ${j}`;
    if (w[j] > 0 && Math.abs(g[j] - nu) > tol) return `complementary slackness at ${j}: w=${w[j]}, reduced gradient ${g[j] - nu}`;
  }
  return '';
}

export function sparseViolation(c: number[][], w: ArrayLike<number>, lambda: number, tolerance = 1e-9): string {
  if (Math.abs(sum(w) - 1) > 1e-12 * Math.max(1, l1(w))) return `Σw = ${sum(w)}`;
  const g = gradientOf(c, w);
  const active: number[] = [];
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) active.push(i);
  const nu = active.reduce((s, i) => s + g[i] + lambda * Math.sign(w[i]), 0) / active.length;
  const tol = tolerance * costScale(c, w);
  for (const i of active) {
    if (Math.abs(g[i] + lambda * Math.sign(w[i]) - nu) > tol) return `stationarity at active ${i}: ${g[i] + lambda * Math.sign(w[i]) - nu}`;
  }
  for (let j = 0; j < w.length; j++) {
    if (w[j] === 0 && Math.abs(nu - g[j]) > lambda + tol) return `subgradient out of [-1,1] at ${j}: |ν − g| = ${Math.abs(nu - g[j])} > λ = ${lambda}`;
  }
  return '';
}

/** A basis of {d : C·d = 0, 1ᵀd = 0} by reduced row echelon of [C; 1ᵀ] (exact-zero tests at 1e-9). */
export function flatBasis(c: number[][]): number[][] {
  const k = c.length;
  const scale = Math.max(1e-300, ...c.map((r, i) => Math.abs(r[i])));
  const rows = [...c.map((r) => r.map((x) => x / scale)), new Array<number>(k).fill(1)];
  const pivots: number[] = [];
  let r = 0;
  for (let col = 0; col < k && r < rows.length; col++) {
    let p = r;
    for (let i = r + 1; i < rows.length; i++) if (Math.abs(rows[i][col]) > Math.abs(rows[p][col])) p = i;
    if (Math.abs(rows[p][col]) <= 1e-9) continue;
    [rows[r], rows[p]] = [rows[p], rows[r]];
    const pv = rows[r][col];
    rows[r] = rows[r].map((x) => x / pv);
    for (let i = 0; i < rows.length; i++) {
      if (i === r) continue;
      const f = rows[i][col];
      if (f !== 0) rows[i] = rows[i].map((x, j) => x - f * rows[r][j]);
    }
    pivots.push(col);
    r++;
  }
  const free = Array.from({ length: k }, (_, i) => i).filter((i) => !pivots.includes(i));
  return free.map((f) => {
    const d = new Array<number>(k).fill(0);
    d[f] = 1;
    pivots.forEach((pc, pr) => { d[pc] = -rows[pr][f]; });
    return d;
  });
}

/** Within 1e-9 relative, plus the rounding floor of a squared norm near 0 (C's size × ‖w‖₁²). */
export function closeObjective(actual: number, expected: number, c: number[][], w: ArrayLike<number>): boolean {
  const floor = 1e-11 * Math.max(...c.map((r, i) => r[i])) * (1 + l1(w) ** 2);
  return Math.abs(actual - Math.max(0, expected)) <= 1e-9 * Math.abs(expected) + floor;
}

/**
 * Minimum-norm solution of a consistent linear system B·x = b (rows reduced to an independent set by
 * Gaussian elimination, then x = B_rᵀ(B_r·B_rᵀ)⁻¹b_r); null when the system is inconsistent.
 */
export function minimumNormSolve(matrix: number[][], rhs: number[]): number[] | null {
  const n = matrix[0].length;
  const scale = Math.max(1e-300, ...matrix.flat().map(Math.abs), ...rhs.map(Math.abs));
  const rows = matrix.map((row, i) => [...row, rhs[i]]);
  const independent: number[][] = [];
  let work = rows.map((row) => [...row]);
  for (let col = 0; col < n && work.length > 0; col++) {
    let pivot = 0;
    for (let r = 1; r < work.length; r++) if (Math.abs(work[r][col]) > Math.abs(work[pivot][col])) pivot = r;
    if (Math.abs(work[pivot][col]) <= 1e-9 * scale) continue;
    const p = work[pivot];
    independent.push(p);
    work = work.filter((_, r) => r !== pivot).map((row) => {
      const f = row[col] / p[col];
      return row.map((x, j) => x - f * p[j]);
    });
  }
  // What is left after elimination must be 0 = 0.
  for (const row of work) if (Math.abs(row[n]) > 1e-9 * scale) return null;
  const gram = independent.map((a) => independent.map((b) => a.slice(0, n).reduce((s, x, j) => s + x * b[j], 0)));
  const mu = gaussSolve(gram, independent.map((row) => row[n]));
  if (!mu) return null;
  const x = new Array<number>(n).fill(0);
  independent.forEach((row, r) => { for (let j = 0; j < n; j++) x[j] += mu[r] * row[j]; });
  return x;
}

/**
 * The minimum-norm minimiser of wᵀCw + λ‖w‖₁ s.t. Σw = 1: for every subset × sign pattern, the
 * minimum-norm w solving its KKT equations (2C_SS·w + λs constant on S, 1ᵀw = 1); among the
 * sign-consistent ones with the optimal objective, the smallest ‖w‖₂.
 */
export function referenceMinimumNormSparse(c: number[][], lambda: number): Optimum {
  const candidates: { objective: number; weights: number[]; norm: number }[] = [];
  const diagonal = Math.max(1e-300, ...c.map((row, i) => row[i]));
  for (const s of subsets(c.length)) {
    for (let pattern = 0; pattern < 1 << s.length; pattern++) {
      const signs = s.map((_, a) => (pattern & (1 << a) ? -1 : 1));
      const matrix: number[][] = [];
      const rhs: number[] = [];
      for (let a = 1; a < s.length; a++) {
        matrix.push(s.map((j) => 2 * (c[s[a]][j] - c[s[0]][j])));
        rhs.push(-lambda * (signs[a] - signs[0]));
      }
      matrix.push(s.map(() => 1));
      rhs.push(1);
      const x = minimumNormSolve(matrix, rhs);
      if (!x) continue;
      if (x.some((value, a) => signs[a] * value < -1e-12 * (1 + l1(x)))) continue;
      const w = new Array<number>(c.length).fill(0);
      s.forEach((i, a) => { w[i] = x[a]; });
      if (sparseViolation(c, w, lambda, 1e-8) !== '') continue;
      candidates.push({ objective: quadratic(c, w) + lambda * l1(w), weights: w, norm: Math.hypot(...w) });
    }
  }
  const best = Math.min(...candidates.map((p) => p.objective));
  const tolerance = 1e-9 * Math.abs(best) + 1e-11 * diagonal;
  let out = { objective: Infinity, weights: [] as number[], norm: Infinity };
  for (const p of candidates) if (p.objective <= best + tolerance && p.norm < out.norm) out = p;
  return { objective: out.objective, weights: out.weights };
}

/**
 * min ‖w‖² s.t. σᵢwᵢ ≥ 0, Σw = 1, Σwᵢpᵢ = t (σ = all +1 unless given: the target inside the hull): the
 * optimum is, on its support S, the minimum-norm solution of the equalities restricted to S (KKT), so
 * enumerating every S and keeping the smallest sign-consistent one finds it. `feasible` collects every
 * sign-consistent exact fit met on the way (the vertices of the polytope among them).
 */
export function referenceMinimumNormHull(p: { target: Float64Array; prototypes: Float64Array[] }, feasible: number[][] = [], sign?: number[]): number[] {
  const k = p.prototypes.length;
  const sigma = sign ?? new Array<number>(k).fill(1);
  let best: number[] = [];
  let bestNorm = Infinity;
  for (const s of subsets(k)) {
    const rows = [s.map(() => 1), ...Array.from(p.target, (_, d) => s.map((i) => p.prototypes[i][d]))];
    const x = minimumNormSolve(rows, [1, ...p.target]);
    if (!x || x.some((v, a) => sigma[s[a]] * v < -1e-12)) continue;
    const full = new Array<number>(k).fill(0);
    s.forEach((i, a) => { full[i] = sigma[i] * Math.max(0, sigma[i] * x[a]); });
    feasible.push(full);
    const norm = Math.hypot(...x);
    if (norm < bestNorm - 1e-12) {
      bestNorm = norm;
      best = new Array<number>(k).fill(0);
      s.forEach((i, a) => { best[i] = x[a]; });
    }
  }
  return best;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * KKT of the non-negative Lasso, G and b from the vectors: b_i − (Gw)_i = λ where w_i > 0, ≤ λ where
 * w_i = 0, within 1e-8·scale; the first violation in words, or ''.
 */
export function lassoKktViolation(p: Problem, w: ArrayLike<number>, lambda: number, scale: number): string {
  const k = p.prototypes.length;
  for (let i = 0; i < k; i++) {
    if (w[i] < 0) return `w[${i}] = ${w[i]} < 0`;
    let c = dot(p.prototypes[i], p.target);
    for (let j = 0; j < k; j++) c -= dot(p.prototypes[i], p.prototypes[j]) * w[j];
    if (w[i] > 0 && Math.abs(c - lambda) > 1e-8 * scale) return `active ${i}: correlation ${c} ≠ λ ${lambda}`;
    if (w[i] === 0 && c > lambda + 1e-8 * scale) return `inactive ${i}: correlation ${c} > λ ${lambda}`;
  }
  return '';
}

/**
 * A random lower-triangular m×m factor in the leading corner of the k×k `l` (its transpose in `u`,
 * the rest zero), with entries over six orders of magnitude, and a random k×k `a` with some entries
 * 10⁴ larger: the kept factors' triangular kernels are tested on these against their twins.
 */
export function randomFactor(random: () => number, l: Float64Array, u: Float64Array, a: Float64Array, k: number, m: number): void {
  l.fill(0);
  u.fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      const x = i === j ? 0.5 + 3 * random() : gaussian(random) * (j % 3 === 0 ? 1e3 : 1);
      l[i * k + j] = x;
      u[j * k + i] = x;
    }
  }
  for (let i = 0; i < k * k; i++) a[i] = gaussian(random) * (i % 5 === 0 ? 1e4 : 1);
}

