/**
 * A Cholesky factor of A_SS (A symmetric positive definite on the subsets used) kept across the
 * breakpoints of a λ-path: a breakpoint adds or drops one candidate, so the factor gains a row
 * (O(m²)) or loses one by a stable rank-one update (O(m²)) instead of being refactorised (O(m³)).
 * Each solve takes one step of iterative refinement against A itself and the factor is rebuilt every
 * REBUILD_AFTER changes, so rounding from the updates never accumulates. A pivot² below
 * DEPENDENT_PIVOT·scale (looser than choleskySolve's own threshold) answers null: the caller then
 * takes its exact dense route, so singular and near-singular systems are decided as before.
 */
import { choleskyAppend, choleskyDelete, substituteCholesky } from '../linalg/cholesky';

const REBUILD_AFTER = 32;
const DEPENDENT_PIVOT = 1e-10;

export class IncrementalCholesky {
  /** Candidates in factor order. */
  private members: number[] = [];
  private readonly position: Int32Array;
  /** Lower-triangular factor, row-major with row stride k. */
  private readonly factor: Float64Array;
  private changes = 0;
  private readonly dependentBelow: number;
  private readonly rhs: Float64Array;
  private readonly scratch: Float64Array;

  constructor(private readonly a: Float64Array, private readonly k: number, scale: number) {
    this.factor = new Float64Array(k * k);
    this.position = new Int32Array(k).fill(-1);
    this.dependentBelow = DEPENDENT_PIVOT * scale;
    this.rhs = new Float64Array(k);
    this.scratch = new Float64Array(k);
  }

  /** x with A_SS·x = b (x and b in `subset` order), or null when A_SS is (nearly) singular. */
  solve(subset: readonly number[], b: ArrayLike<number>): Float64Array | null {
    if (!this.follow(subset)) return null;
    const { members, position, a, k, rhs } = this;
    const m = members.length;
    for (let s = 0; s < m; s++) rhs[position[subset[s]]] = b[s];
    const x = substituteCholesky(this.factor, k, m, rhs);
    // One step of iterative refinement: r = b − A_SS·x.
    // Four rows per pass: four independent chains of subtractions, each in ascending q (the same bits).
    const r = this.scratch;
    let p = 0;
    for (; p + 3 < m; p += 4) {
      const r0 = members[p] * k, r1 = members[p + 1] * k, r2 = members[p + 2] * k, r3 = members[p + 3] * k;
      let s0 = rhs[p], s1 = rhs[p + 1], s2 = rhs[p + 2], s3 = rhs[p + 3];
      for (let q = 0; q < m; q++) {
        const column = members[q];
        const xq = x[q];
        s0 -= a[r0 + column] * xq;
        s1 -= a[r1 + column] * xq;
        s2 -= a[r2 + column] * xq;
        s3 -= a[r3 + column] * xq;
      }
      r[p] = s0;
      r[p + 1] = s1;
      r[p + 2] = s2;
      r[p + 3] = s3;
    }
    for (; p < m; p++) {
      const row = members[p] * k;
      let s = rhs[p];
      for (let q = 0; q < m; q++) s -= a[row + members[q]] * x[q];
      r[p] = s;
    }
    const correction = substituteCholesky(this.factor, k, m, r);
    const out = new Float64Array(subset.length);
    for (let s = 0; s < subset.length; s++) {
      const p = position[subset[s]];
      out[s] = x[p] + correction[p];
    }
    return out;
  }

  private follow(subset: readonly number[]): boolean {
    const { position, k } = this;
    if (this.changes >= REBUILD_AFTER) this.clear();
    const wanted = new Uint8Array(k);
    for (const i of subset) wanted[i] = 1;
    for (let p = this.members.length - 1; p >= 0; p--) {
      const i = this.members[p];
      if (!wanted[i]) { this.remove(p); this.changes++; }
    }
    for (const i of subset) {
      if (position[i] >= 0) continue;
      if (!this.append(i)) { this.clear(); return false; }
      this.changes++;
    }
    return true;
  }

  private clear(): void {
    for (const i of this.members) this.position[i] = -1;
    this.members = [];
    this.changes = 0;
  }

  /** New last row of L: L·l = A_{members, j}, pivot² = A_jj − lᵀl. */
  private append(j: number): boolean {
    const { factor, k, members, a } = this;
    if (!choleskyAppend(factor, k, members.length, a[j * k + j], (p) => a[members[p] * k + j], this.dependentBelow)) return false;
    this.position[j] = members.length;
    members.push(j);
    return true;
  }

  /** Deletes the member at position p: drop its row and column, then fold that column into the rows below. */
  private remove(p: number): void {
    const { factor, k, members, position } = this;
    choleskyDelete(factor, k, members.length, p, this.scratch);
    position[members[p]] = -1;
    members.splice(p, 1);
    for (let i = p; i < members.length; i++) position[members[i]] = i;
  }

}
