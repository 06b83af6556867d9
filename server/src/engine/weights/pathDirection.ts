/**
 * The λ-path's direction system, kept factorised from one breakpoint to the next.
 *
 * On the active set A with signs s the path moves along d = dw/dλ solving
 *   2·C_AA·d − dν·1 = −s,   1ᵀd = 0.
 * With a reference candidate r ∈ A and d = Σ_{i≠r} zᵢ·(eᵢ − e_r) (so 1ᵀd = 0 by construction) this is
 *   2·M·z = −(s_i − s_r)_i,   M_ij = C_ij − C_ir − C_rj + C_rr = (p_i − p_r)·(p_j − p_r),
 * a positive definite system while the active prototypes are affinely independent. Only one candidate
 * joins or leaves at a typical breakpoint, so instead of refactorising M (O(m³)) we append a row to
 * its Cholesky factor or delete one (a stable rank-one update), both O(m²). Each solve takes one step
 * of iterative refinement against M (kept beside its factor), and the factor is rebuilt every REBUILD_AFTER removals, so
 * rounding from the updates never accumulates (appends add none: an appended row is what a from-scratch
 * factorisation in that order computes). The factor, its transpose (the forward substitution
 * reads L by columns) and M live in a kernel workspace (linalg/simdDot.ts): the substitutions and the
 * residual run in WebAssembly SIMD, bit for bit the scalar loops. When the reference leaves, or the active prototypes
 * are (nearly) affinely dependent, the caller falls back to the minimum-norm solve in affineHull.ts.
 * dν/dλ is the caller's: it already has 2·C·d over every candidate for the next events.
 */
import { choleskyDelete } from '../linalg/cholesky';
import { denseKernels, type RowSums } from '../linalg/simdDot';

/** Removals after which the factor is rebuilt from C. */
const REBUILD_AFTER = 32;
/**
 * An appended pivot² below this (relative to max C_ii) counts as affinely dependent. Looser than the
 * pseudo-inverse's own threshold, so every system that one would treat as singular goes to it.
 */
const DEPENDENT_PIVOT = 1e-10;

export class PathDirectionSystem {
  private reference = -1;
  /** Active candidates other than the reference, in factor order (the first `size` entries; in the workspace). */
  private readonly members: Int32Array;
  private size = 0;
  /** Lower-triangular Cholesky factor of M, row-major with row stride k. */
  private readonly factor: Float64Array;
  /** Its transpose (the same stride), kept in step with it. */
  private readonly transposed: Float64Array;
  /** The kernel workspace holding the factor, M and the solve's vectors (and the caller's `extra`). */
  readonly sums: RowSums;
  /** Vectors of length k in `sums` for the caller (the path's 2·C·w and 2·C·d). */
  readonly extra: Float64Array[];
  /** Index lists of length k in `sums` for the caller (addRows builds its groups in the module from them). */
  readonly lists: Int32Array[];
  /** M itself in factor order (row stride k): the refinement's residual reads contiguous rows of it. */
  private readonly system: Float64Array;
  private changes = 0;
  private valid = false;
  private readonly dependentBelow: number;
  // Scratch, reused from one breakpoint to the next (the path calls solve once or twice per breakpoint).
  /** The reference and the members (kept with them). */
  private readonly isPresent: Uint8Array;
  /** An appended row's forward substitution, in the workspace (the kernels address it). */
  private readonly appended: Float64Array;
  private readonly rhs: Float64Array;
  private readonly z: Float64Array;
  private readonly correction: Float64Array;
  private readonly scratch: Float64Array;
  /** The direction handed out by solve (in the workspace, so the caller's row sums read it there): valid until the next call. */
  readonly direction: Float64Array;

  /**
   * `extraVectors`: how many more vectors of length k the caller wants in the same workspace (its row
   * sums of C, `sums.addRows`, must use them: a workspace is valid until the next one is made);
   * `extraLists`: how many index lists of length k.
   */
  constructor(private readonly c: Float64Array, private readonly k: number, extraVectors = 0, extraLists = 0) {
    this.sums = denseKernels().rowSums(c, k, 5 + extraVectors, 3, 1 + extraLists);
    [this.factor, this.transposed, this.system] = this.sums.matrices;
    [this.rhs, this.z, this.correction, this.appended, this.direction] = this.sums.vectors;
    this.extra = this.sums.vectors.slice(5);
    [this.members] = this.sums.lists;
    this.lists = this.sums.lists.slice(1);
    let largest = 0;
    for (let i = 0; i < k; i++) largest = Math.max(largest, c[i * k + i]);
    this.dependentBelow = DEPENDENT_PIVOT * largest;
    this.isPresent = new Uint8Array(k);
    this.scratch = new Float64Array(k);
  }

  /**
   * dw/dλ over all k candidates (0 off the active set) on the first `count` entries of `active`
   * (ascending candidate indices) with signs `sign`, or null when the active prototypes are (nearly)
   * affinely dependent. `w` picks the reference on a rebuild: the largest weight is the least likely
   * to leave. The returned array is reused by the next call.
   */
  solve(active: Int32Array, count: number, sign: Int32Array, w: Float64Array): Float64Array | null {
    if (!this.follow(active, count, sign, w)) return null;
    const { members, reference, rhs, z, correction } = this;
    const m = this.size;
    // (× 0.5 is ÷ 2 exactly, without a division per entry.)
    for (let a = 0; a < m; a++) z[a] = rhs[a] = -(sign[members[a]] - sign[reference]) * 0.5;
    // z = (LLᵀ)⁻¹·rhs, then one step of iterative refinement against the stored M: z += (LLᵀ)⁻¹(rhs − M·z)
    // (one kernel call).
    this.sums.refinedSolve(this.factor, this.transposed, this.system, m, z, rhs, correction);
    return this.expand(z);
  }

  /**
   * Brings the factor to exactly `active` (the candidates with a nonzero sign, ascending); false when
   * that system is (nearly) singular.
   */
  private follow(active: Int32Array, count: number, sign: Int32Array, w: Float64Array): boolean {
    const { isPresent, members } = this;
    if (!this.valid || this.changes >= REBUILD_AFTER || sign[this.reference] === 0) return this.rebuild(active, count, w);
    for (let p = this.size - 1; p >= 0; p--) {
      if (sign[members[p]] === 0) { this.remove(p); this.changes++; }
    }
    for (let a = 0; a < count; a++) {
      const i = active[a];
      if (isPresent[i]) continue;
      // An appended row is what a row-by-row Cholesky of M computes: only removals count towards a rebuild.
      if (!this.append(i)) { this.valid = false; return false; }
    }
    return true;
  }

  private rebuild(active: Int32Array, count: number, w: Float64Array): boolean {
    let reference = active[0];
    for (let a = 0; a < count; a++) if (Math.abs(w[active[a]]) > Math.abs(w[reference])) reference = active[a];
    this.reference = reference;
    this.size = 0;
    this.changes = 0;
    this.valid = false;
    const isPresent = this.isPresent;
    isPresent.fill(0);
    isPresent[reference] = 1;
    for (let a = 0; a < count; a++) {
      const i = active[a];
      if (i === reference) continue;
      if (!this.append(i)) return false;
    }
    this.valid = true;
    return true;
  }

  /**
   * New last row of L: L·l = M_{members, j}, pivot² = M_jj − lᵀl, M_ij = C_ij − C_ir − C_rj + C_rr, and
   * M's new row and column (the kernels' appendRow: cholesky.ts's appendBesideTranspose in one call).
   */
  private append(j: number): boolean {
    const m = this.size;
    if (!this.sums.appendRow(this.members, m, this.reference, j, this.factor, this.transposed, this.system, this.appended, this.dependentBelow)) return false;
    this.members[m] = j;
    this.isPresent[j] = 1;
    this.size = m + 1;
    return true;
  }

  /** Deletes the member at factor position p: drop its row and column, then fold that column into the rows below. */
  private remove(p: number): void {
    const { factor, k, members, system } = this;
    const m = this.size;
    choleskyDelete(factor, k, m, p, this.scratch);
    // Rows from p on changed: their columns of the transpose.
    const transposed = this.transposed;
    for (let i = p; i < m - 1; i++) for (let j = 0; j <= i; j++) transposed[j * k + i] = factor[i * k + j];
    for (let i = 0; i < m; i++) {
      const row = i * k;
      system.copyWithin(row + p, row + p + 1, row + m);
    }
    system.copyWithin(p * k, (p + 1) * k, m * k);
    this.isPresent[members[p]] = 0;
    members.copyWithin(p, p + 1, m);
    this.size = m - 1;
  }

  /** d = Σ zᵢ·(eᵢ − e_r) over all k candidates. */
  private expand(z: Float64Array): Float64Array {
    const { direction: d, members, reference } = this;
    d.fill(0);
    let total = 0;
    for (let a = 0; a < this.size; a++) { d[members[a]] = z[a]; total += z[a]; }
    d[reference] = -total;
    return d;
  }

}
