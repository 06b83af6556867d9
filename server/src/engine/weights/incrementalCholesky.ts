/**
 * A Cholesky factor of A_SS (A symmetric positive definite on the subsets used) kept across the
 * breakpoints of a λ-path: a breakpoint adds or drops one candidate, so the factor gains a row
 * (O(m²)) or loses one by a stable rank-one update (O(m²)) instead of being refactorised (O(m³)).
 * Each solve takes one step of iterative refinement against A itself and the factor is rebuilt every
 * REBUILD_AFTER changes, so rounding from the updates never accumulates. A pivot² below
 * DEPENDENT_PIVOT·scale (looser than choleskySolve's own threshold) answers null: the caller then
 * takes its exact dense route, so singular and near-singular systems are decided as before. The
 * factor and its transpose live in a kernel workspace (linalg/simdDot.ts): the substitutions and the
 * refinement's residual (a sum of A's rows) run in WebAssembly SIMD, bit for bit the scalar loops.
 */
import { choleskyDelete } from '../linalg/cholesky';
import { denseKernels, type RowSums } from '../linalg/simdDot';

const REBUILD_AFTER = 32;
const DEPENDENT_PIVOT = 1e-10;

export class IncrementalCholesky {
  /** Candidates in factor order. */
  /** The first `size` entries (in the workspace, so the row sums and the append read it there). */
  private readonly members: Int32Array;
  private size = 0;
  private readonly position: Int32Array;
  /** Lower-triangular factor, row-major with row stride k. */
  private readonly factor: Float64Array;
  /** Its transpose (the same stride), kept in step with it. */
  private readonly transposed: Float64Array;
  /** An appended row's forward substitution, in the workspace (the kernels address it). */
  private readonly appended: Float64Array;
  private changes = 0;
  private readonly dependentBelow: number;
  private readonly rhs: Float64Array;
  private readonly scratch: Float64Array;
  private readonly wanted: Uint8Array;
  /** x by candidate, for the residual's row sums. */
  private readonly byCandidate: Float64Array;
  private readonly answer: Float64Array;
  // Workspace vectors: the solution, the residual by candidate, the residual in factor order.
  private readonly x: Float64Array;
  private readonly residualByCandidate: Float64Array;
  private readonly residual: Float64Array;
  /** The kernel workspace (A's rows, the factor, the solve's vectors and the caller's `extra`). */
  readonly sums: RowSums;
  /** Vectors of length k in `sums` for the caller's own row sums of A. */
  readonly extra: Float64Array[];
  /** Index lists of length k in `sums` for the caller (addRows builds its groups in the module from them). */
  readonly lists: Int32Array[];

  /** `extraVectors`, `extraLists`: vectors and index lists of length k the caller wants in the same workspace (see `sums`). */
  constructor(private readonly a: Float64Array, private readonly k: number, scale: number, extraVectors = 0, extraLists = 0) {
    this.sums = denseKernels().rowSums(a, k, 6 + extraVectors, 2, 1 + extraLists);
    [this.factor, this.transposed] = this.sums.matrices;
    [this.x, this.residualByCandidate, this.residual, this.appended, this.byCandidate, this.rhs] = this.sums.vectors;
    this.extra = this.sums.vectors.slice(6);
    [this.members] = this.sums.lists;
    this.lists = this.sums.lists.slice(1);
    this.position = new Int32Array(k).fill(-1);
    this.dependentBelow = DEPENDENT_PIVOT * scale;
    this.scratch = new Float64Array(k);
    this.wanted = new Uint8Array(k);
    this.answer = new Float64Array(k);
  }

  /**
   * x with A_SS·x = b for S the first `size` entries of `subset` (x and b in that order: the first
   * `size` entries of the answer), or null when A_SS is (nearly) singular. The answer is reused by
   * the next call.
   */
  solve(subset: ArrayLike<number>, b: ArrayLike<number>, size = subset.length): Float64Array | null {
    if (!this.follow(subset, size)) return null;
    const { members, position, rhs } = this;
    const m = this.size;
    for (let s = 0; s < m; s++) rhs[position[subset[s]]] = b[s];
    const { x, residual: r } = this;
    // x = (LLᵀ)⁻¹·b, then one step of iterative refinement: r = b − A_SS·x, each entry subtracting its
    // terms in factor order (A is symmetric, so that is a sum of A's rows, the members', with weights
    // −x), and the correction (LLᵀ)⁻¹·r: one kernel call.
    this.sums.gramRefinedSolve(this.factor, this.transposed, members, m, rhs, x, this.byCandidate, this.residualByCandidate, r);
    const correction = r;
    const out = this.answer;
    for (let s = 0; s < size; s++) {
      const p = position[subset[s]];
      out[s] = x[p] + correction[p];
    }
    return out;
  }

  private follow(subset: ArrayLike<number>, size: number): boolean {
    const { position } = this;
    if (this.changes >= REBUILD_AFTER) this.clear();
    const wanted = this.wanted;
    wanted.fill(0);
    for (let s = 0; s < size; s++) wanted[subset[s]] = 1;
    for (let p = this.size - 1; p >= 0; p--) {
      const i = this.members[p];
      if (!wanted[i]) { this.remove(p); this.changes++; }
    }
    for (let s = 0; s < size; s++) {
      const i = subset[s];
      if (position[i] >= 0) continue;
      if (!this.append(i)) { this.clear(); return false; }
      this.changes++;
    }
    return true;
  }

  private clear(): void {
    for (let p = 0; p < this.size; p++) this.position[this.members[p]] = -1;
    this.size = 0;
    this.changes = 0;
  }

  /**
   * New last row of L: L·l = A_{members, j}, pivot² = A_jj − lᵀl (the kernels' appendRow: cholesky.ts's
   * appendBesideTranspose in one call).
   */
  private append(j: number): boolean {
    const m = this.size;
    if (!this.sums.appendRow(this.members, m, -1, j, this.factor, this.transposed, null, this.appended, this.dependentBelow)) return false;
    this.position[j] = m;
    this.members[m] = j;
    this.size = m + 1;
    return true;
  }

  /** Deletes the member at position p: drop its row and column, then fold that column into the rows below. */
  private remove(p: number): void {
    const { factor, k, members, position } = this;
    const m = this.size;
    choleskyDelete(factor, k, m, p, this.scratch);
    // Rows from p on changed: their columns of the transpose.
    const transposed = this.transposed;
    for (let i = p; i < m - 1; i++) for (let j = 0; j <= i; j++) transposed[j * k + i] = factor[i * k + j];
    position[members[p]] = -1;
    members.copyWithin(p, p + 1, m);
    this.size = m - 1;
    for (let i = p; i < this.size; i++) position[members[i]] = i;
  }


}
