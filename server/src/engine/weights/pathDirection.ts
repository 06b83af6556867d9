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
 * of iterative refinement against C itself, and the factor is rebuilt every REBUILD_AFTER changes, so
 * rounding from the updates never accumulates. When the reference leaves, or the active prototypes
 * are (nearly) affinely dependent, the caller falls back to the minimum-norm solve in affineHull.ts.
 */
import { choleskyAppend, choleskyDelete, substituteCholesky } from '../linalg/cholesky';

/** Changes after which the factor is rebuilt from C. */
const REBUILD_AFTER = 32;
/**
 * An appended pivot² below this (relative to max C_ii) counts as affinely dependent. Looser than the
 * pseudo-inverse's own threshold, so every system that one would treat as singular goes to it.
 */
const DEPENDENT_PIVOT = 1e-10;

export interface PathDirection {
  /** dw/dλ over all k candidates (0 off the active set). */
  direction: Float64Array;
  /** dν/dλ. */
  dNu: number;
}

export class PathDirectionSystem {
  private reference = -1;
  /** Active candidates other than the reference, in factor order. */
  private members: number[] = [];
  /** Lower-triangular Cholesky factor of M, row-major with row stride k. */
  private readonly factor: Float64Array;
  private changes = 0;
  private valid = false;
  private readonly dependentBelow: number;

  constructor(private readonly c: Float64Array, private readonly k: number) {
    this.factor = new Float64Array(k * k);
    let largest = 0;
    for (let i = 0; i < k; i++) largest = Math.max(largest, c[i * k + i]);
    this.dependentBelow = DEPENDENT_PIVOT * largest;
  }

  /**
   * The direction on `active` (ascending candidate indices) with signs `sign`, or null when the
   * active prototypes are (nearly) affinely dependent. `w` picks the reference on a rebuild: the
   * largest weight is the least likely to leave.
   */
  solve(active: readonly number[], sign: Int8Array, w: Float64Array): PathDirection | null {
    if (!this.follow(active, w)) return null;
    const { members, reference } = this;
    const m = members.length;
    const rhs = new Float64Array(m);
    for (let a = 0; a < m; a++) rhs[a] = -(sign[members[a]] - sign[reference]) / 2;
    const z = this.solveFactored(rhs);
    // One step of iterative refinement: residual of M·z = rhs with M applied through C.
    const correction = this.solveFactored(this.residual(z, rhs));
    for (let a = 0; a < m; a++) z[a] += correction[a];
    const direction = this.expand(z);
    const cd = this.activeProduct(direction);
    let dNu = 2 * cd[reference] + sign[reference];
    for (let a = 0; a < m; a++) dNu += 2 * cd[members[a]] + sign[members[a]];
    dNu /= m + 1;
    return { direction, dNu };
  }

  /** Brings the factor to exactly `active`; false when that system is (nearly) singular. */
  private follow(active: readonly number[], w: Float64Array): boolean {
    if (!this.valid || this.changes >= REBUILD_AFTER || !active.includes(this.reference)) return this.rebuild(active, w);
    const inActive = new Uint8Array(this.k);
    for (const i of active) inActive[i] = 1;
    for (const i of [...this.members]) {
      if (!inActive[i]) { this.remove(i); this.changes++; }
    }
    const present = new Uint8Array(this.k);
    present[this.reference] = 1;
    for (const i of this.members) present[i] = 1;
    for (const i of active) {
      if (present[i]) continue;
      if (!this.append(i)) { this.valid = false; return false; }
      this.changes++;
    }
    return true;
  }

  private rebuild(active: readonly number[], w: Float64Array): boolean {
    let reference = active[0];
    for (const i of active) if (Math.abs(w[i]) > Math.abs(w[reference])) reference = i;
    this.reference = reference;
    this.members = [];
    this.changes = 0;
    this.valid = false;
    for (const i of active) {
      if (i === reference) continue;
      if (!this.append(i)) return false;
    }
    this.valid = true;
    return true;
  }

  private entry(i: number, j: number): number {
    const { c, k, reference: r } = this;
    return c[i * k + j] - c[i * k + r] - c[r * k + j] + c[r * k + r];
  }

  /** New last row of L: L·l = M_{members, j}, pivot² = M_jj − lᵀl. */
  private append(j: number): boolean {
    const { factor, k, members } = this;
    if (!choleskyAppend(factor, k, members.length, this.entry(j, j), (a) => this.entry(members[a], j), this.dependentBelow)) return false;
    members.push(j);
    return true;
  }

  /** Deletes member j: drop its row and column, then fold that column into the rows below. */
  private remove(j: number): void {
    const { factor, k, members } = this;
    const m = members.length;
    const p = members.indexOf(j);
    choleskyDelete(factor, k, m, p, new Float64Array(m - 1 - p));
    members.splice(p, 1);
  }


  /** M⁻¹·b by the two triangular solves. */
  private solveFactored(b: Float64Array): Float64Array {
    return substituteCholesky(this.factor, this.k, b.length, b);
  }

  /** d = Σ zᵢ·(eᵢ − e_r) over all k candidates. */
  private expand(z: Float64Array): Float64Array {
    const d = new Float64Array(this.k);
    let total = 0;
    this.members.forEach((i, a) => { d[i] = z[a]; total += z[a]; });
    d[this.reference] = -total;
    return d;
  }

  /** (C·d) on the active set (d is zero elsewhere); entries off it are left 0. */
  private activeProduct(d: Float64Array): Float64Array {
    const { c, k, members, reference } = this;
    const out = new Float64Array(k);
    const rowOf = (i: number) => {
      let s = c[i * k + reference] * d[reference];
      for (const j of members) s += c[i * k + j] * d[j];
      out[i] = s;
    };
    rowOf(reference);
    for (const i of members) rowOf(i);
    return out;
  }

  /** rhs − M·z, with M·z = ((C·d)_i − (C·d)_r)_i for d = expand(z). */
  private residual(z: Float64Array, rhs: Float64Array): Float64Array {
    const cd = this.activeProduct(this.expand(z));
    const out = new Float64Array(rhs.length);
    this.members.forEach((i, a) => { out[a] = rhs[a] - (cd[i] - cd[this.reference]); });
    return out;
  }
}
