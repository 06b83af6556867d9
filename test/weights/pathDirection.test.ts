/**
 * The constrained λ-path's direction system on its own: through a walk of active-set changes (joins,
 * leaves, the reference leaving, more changes than the rebuild interval) the kept factor answers
 * every affinely independent set itself (never null), with the direction of the dense KKT system
 *   2·C_AA·d − dν·1 = −s_A,  1ᵀd = 0
 * solved independently (Gaussian elimination on the bordered system), and refuses a set that holds a
 * duplicate prototype. Inside the path its mistakes would be hidden: the refinement step corrects a
 * slightly wrong factor and a refused set goes to the exact pseudo-inverse, so only speed would show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathDirectionSystem } from '../../server/src/engine/weights/pathDirection';
import { costMatrix } from '../../server/src/engine/weights';
import { gaussSolve, gaussian, seededRandom } from './reference';

const k = 12;
const dim = 20;

function denseDirection(c: Float64Array, active: number[], sign: Int32Array): number[] {
  const matrix = active.map((i) => [...active.map((j) => 2 * c[i * k + j]), -1]);
  const rhs = active.map((i) => -sign[i]);
  matrix.push([...active.map(() => 1), 0]);
  rhs.push(0);
  const x = gaussSolve(matrix, rhs);
  assert.ok(x, 'the dense system is nonsingular');
  const d = new Array<number>(k).fill(0);
  active.forEach((i, a) => { d[i] = x[a]; });
  return d;
}

test('the kept factor follows joins and leaves (the reference too, past a rebuild) and gives the dense KKT direction', () => {
  const random = seededRandom(1234);
  const target = Float64Array.from({ length: dim }, () => gaussian(random));
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random)));
  const c = costMatrix(target, prototypes);
  const system = new PathDirectionSystem(c, k);
  const inSet = new Set([0, 3, 5]);
  const sign = new Int32Array(k);
  const w = new Float64Array(k);
  let worst = 0;
  for (let step = 0; step < 60; step++) {
    // Signs and weights of the members: the reference is the largest |w|, so letting it leave is tested.
    for (let i = 0; i < k; i++) {
      sign[i] = inSet.has(i) ? (random() < 0.5 ? -1 : 1) : 0;
      w[i] = inSet.has(i) ? sign[i] * (0.1 + random()) : 0;
    }
    const active = [...inSet].sort((a, b) => a - b);
    const direction = system.solve(Int32Array.from(active), active.length, sign, w);
    assert.ok(direction, `step ${step}: {${active}} is affinely independent, the factor answers`);
    const expected = denseDirection(c, active, sign);
    // All signs equal: d = 0 exactly; otherwise relative to the largest entry.
    let scale = 1e-12;
    for (const x of expected) scale = Math.max(scale, Math.abs(x));
    for (let i = 0; i < k; i++) {
      const error = Math.abs(direction[i] - expected[i]);
      worst = Math.max(worst, error / scale);
      assert.ok(error <= 1e-12 * scale, `step ${step}, candidate ${i}: ${direction[i]} vs ${expected[i]}`);
    }
    // Next set: mostly one change (as at a breakpoint), sometimes two at once; size 2 … k.
    const changes = random() < 0.8 ? 1 : 2;
    for (let n = 0; n < changes; n++) {
      const outside = [...Array(k).keys()].filter((i) => !inSet.has(i));
      const leave = inSet.size > 2 && (outside.length === 0 || random() < 0.45);
      if (leave) {
        // Half of the leaves take the current largest weight (the factor's reference).
        const members = [...inSet];
        const largest = members.reduce((a, b) => (Math.abs(w[b]) > Math.abs(w[a]) ? b : a));
        inSet.delete(random() < 0.5 ? largest : members[Math.floor(random() * members.length)]);
      } else {
        inSet.add(outside[Math.floor(random() * outside.length)]);
      }
    }
  }
  console.log(`# direction system: worst relative difference from the dense KKT solve ${worst.toExponential(2)}`);
});

test('a set with a duplicate prototype is refused (null), and the next independent set is answered again', () => {
  const random = seededRandom(1235);
  const target = Float64Array.from({ length: dim }, () => gaussian(random));
  const prototypes = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => gaussian(random)));
  prototypes[7] = Float64Array.from(prototypes[2]);
  const c = costMatrix(target, prototypes);
  const system = new PathDirectionSystem(c, k);
  const sign = new Int32Array(k);
  const w = new Float64Array(k);
  const ask = (active: number[]) => {
    sign.fill(0);
    w.fill(0);
    for (const i of active) { sign[i] = 1; w[i] = 1 + i / 10; }
    return system.solve(Int32Array.from(active), active.length, sign, w);
  };
  assert.ok(ask([1, 2, 4]));
  assert.equal(ask([1, 2, 4, 7]), null, '2 and 7 are the same prototype');
  const again = ask([1, 2, 4]);
  assert.ok(again);
  const expected = denseDirection(c, [1, 2, 4], sign);
  for (let i = 0; i < k; i++) assert.ok(Math.abs(again[i] - expected[i]) <= 1e-12 * Math.max(...expected.map(Math.abs)));
});
