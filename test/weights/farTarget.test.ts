/**
 * A target far from the origin (t·t > 16·max‖pᵢ‖²): the weights session derives C from the
 * prototypes' Gram (costMatrix.ts costAndGram) instead of a second k²·D pass. The argument for its
 * accuracy: the solvers that need C's precision read it through M_ij = C_ij − C_ir − C_rj + C_rr =
 * (pᵢ − p_r)·(pⱼ − p_r), where t·t and the b's cancel exactly, so the derived C's few ulps of t·t per
 * entry carry over, while the direct C's D-term sums round at up to D ulps. Checked here against an
 * exact reference (double-double sums of the exact differences, ≈ 2⁻¹⁰⁴ relative), and end to end:
 * lin's and convex's exact objectives (double-double) with the derived C are no worse than with the
 * direct one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeightsSession, costMatrix } from '../../server/src/engine/weights';
import { gaussian, seededRandom } from './reference';

/** a + b as a double-double (Knuth's TwoSum). */
function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const v = s - a;
  return [s, (a - (s - v)) + (b - v)];
}

/** a·b exactly as hi + lo (Dekker's split). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (x: number) => { const c = 134217729 * x; const hi = c - (c - x); return [hi, x - hi]; };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}

/** Double-double accumulator. */
class Exact {
  hi = 0;
  lo = 0;
  add(x: number): void {
    const [s, e] = twoSum(this.hi, x);
    const [h, l] = twoSum(s, e + this.lo);
    this.hi = h;
    this.lo = l;
  }
  /** (a₁ + a₂)·(b₁ + b₂), each difference exact as a double-double. */
  addProduct([a1, a2]: [number, number], [b1, b2]: [number, number]): void {
    for (const [x, y] of [[a1, b1], [a1, b2], [a2, b1], [a2, b2]]) {
      const [p, e] = twoProduct(x, y);
      this.add(p);
      this.add(e);
    }
  }
  value(): number { return this.hi + this.lo; }
}

/** (x − y)·(z − y) summed exactly enough (the differences exact as double-doubles). */
function exactDot(x: Float64Array, y: Float64Array, z: Float64Array): number {
  const acc = new Exact();
  for (let d = 0; d < x.length; d++) acc.addProduct(twoSum(x[d], -y[d]), twoSum(z[d], -y[d]));
  return acc.value();
}

/** ‖t − Σwᵢpᵢ‖² for Σw = 1, i.e. ‖Σwᵢ(t − pᵢ)‖², in double-double. */
function exactObjective(target: Float64Array, prototypes: Float64Array[], w: ArrayLike<number>): number {
  const total = new Exact();
  for (let d = 0; d < target.length; d++) {
    const r = new Exact();
    prototypes.forEach((p, i) => {
      if (w[i] === 0) return;
      const [a, b] = twoSum(target[d], -p[d]);
      for (const x of [a, b]) { const [h, l] = twoProduct(w[i], x); r.add(h); r.add(l); }
    });
    const v: [number, number] = [r.hi, r.lo];
    total.addProduct(v, v);
  }
  return total.value();
}

function farProblem(random: () => number, k: number, dim: number, distance: number) {
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random)));
  const direction = Float64Array.from({ length: dim }, () => gaussian(random));
  // The target: a mix of the prototypes plus a far offset (‖offset‖ = distance·‖p‖ roughly).
  const target = Float64Array.from({ length: dim }, (_, d) => distance * direction[d] + prototypes.reduce((s, p) => s + p[d] / k, 0));
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}

test('far target: C derived from the Gram reads M = (pᵢ − p_r)·(pⱼ − p_r) within a few ulps of t·t of exact, no worse than the direct C', () => {
  const random = seededRandom(1717);
  const u = 2 ** -53;
  let derivedWorst = 0;
  let directWorst = 0;
  for (const [k, dim, distance] of [[8, 768, 5], [16, 768, 40], [24, 40, 1000], [32, 768, 8], [12, 5, 1e4]] as const) {
    const p = farProblem(random, k, dim, distance);
    const session = new WeightsSession(p);
    const derived = session.c;
    const direct = costMatrix(p.target, p.prototypes);
    let tt = 0;
    for (const x of p.target) tt += x * x;
    let largest = 0;
    for (const q of p.prototypes) { let s = 0; for (const x of q) s += x * x; largest = Math.max(largest, s); }
    assert.ok(tt > 16 * largest, `k=${k}: the target is far`);
    assert.ok(derived.some((x, i) => !Object.is(x, direct[i])), `k=${k}: the session derived C (it differs from the direct one)`);
    // Exactly symmetric, like the direct C.
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) assert.ok(Object.is(derived[i * k + j], derived[j * k + i]));
    let derivedError = 0;
    let directError = 0;
    for (const r of [0, k >> 1, k - 1]) {
      for (let i = 0; i < k; i++) {
        for (let j = i; j < k; j++) {
          const exact = exactDot(p.prototypes[i], p.prototypes[r], p.prototypes[j]);
          const m = (c: Float64Array) => ((c[i * k + j] - c[i * k + r]) - c[r * k + j]) + c[r * k + r];
          derivedError = Math.max(derivedError, Math.abs(m(derived) - exact));
          directError = Math.max(directError, Math.abs(m(direct) - exact));
        }
      }
    }
    // Each derived entry: three roundings at ≤ 1.6·t·t, four entries and three subtractions in M, and
    // the Gram's own rounding (≤ D ulps of max‖p‖² per entry, four entries).
    const bound = 32 * u * tt + 4 * dim * u * largest;
    assert.ok(derivedError <= bound, `k=${k} D=${dim}: M error ${derivedError} > bound ${bound}`);
    assert.ok(derivedError <= directError, `k=${k} D=${dim}: derived M error ${derivedError} > direct ${directError}`);
    derivedWorst = Math.max(derivedWorst, derivedError / (u * tt));
    directWorst = Math.max(directWorst, directError / (u * tt));
  }
  console.log(`# far targets: M's worst error, derived C ${derivedWorst.toFixed(1)} ulps of t·t, direct C ${directWorst.toFixed(1)}`);
});

test('far target: lin and convex from the derived C are as optimal (exact objective, double-double) as from the direct C', async () => {
  const { linearWeights } = await import('../../server/src/engine/weights/linear');
  const { convexWeights } = await import('../../server/src/engine/weights/convex');
  const random = seededRandom(1718);
  for (const [k, dim, distance] of [[8, 768, 5], [16, 768, 40], [32, 768, 8], [12, 40, 1e3]] as const) {
    const p = farProblem(random, k, dim, distance);
    const session = new WeightsSession(p);
    const direct = costMatrix(p.target, p.prototypes);
    for (const [name, solve] of [['lin', linearWeights], ['convex', convexWeights]] as const) {
      const fromDerived = exactObjective(p.target, p.prototypes, solve(session.c, k));
      const fromDirect = exactObjective(p.target, p.prototypes, solve(direct, k));
      assert.ok(fromDerived <= fromDirect * (1 + 1e-9) + 1e-300, `${name} k=${k} D=${dim}: ${fromDerived} vs ${fromDirect}`);
    }
  }
});
