/**
 * The λ-paths' kernels that do a breakpoint's bookkeeping in the WebAssembly module (linalg/simdKernels.ts
 * over wasm/): row sums whose group list the module builds from a workspace index list, a kept factor's
 * new row in one call (appendRow, both the direction system's form and the plain Gram form), and the
 * constrained path's event search (pathEvents), and the affine-hull solves' pivoted Cholesky in one call
 * (choleskySolve). Each must give its JavaScript twin's bits
 * (scalarKernels.ts), which in turn must be the loops the paths ran before: dense.ts addRows, cholesky.ts
 * appendBesideTranspose on the column written out here, and the event formulas written out here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scalarKernels, simdKernels } from '../../server/src/engine/linalg/simdDot';
import { addRows } from '../../server/src/engine/linalg/dense';
import { appendBesideTranspose, choleskySolve } from '../../server/src/engine/linalg/cholesky';
import { seededRandom, gaussian, randomFactor } from '../weights/reference';

function symmetric(random: () => number, k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) { const x = gaussian(random) * (j % 3 === 0 ? 1e3 : 1); m[i * k + j] = x; m[j * k + i] = x; }
  return m;
}

/** A positive definite k×k matrix (Gram of random rows plus a ridge), so appends mostly succeed. */
function positiveDefinite(random: () => number, k: number): Float64Array {
  const rows = Array.from({ length: k }, () => Float64Array.from({ length: k + 3 }, () => gaussian(random)));
  const a = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) { let s = 0; for (let d = 0; d < k + 3; d++) s += rows[i][d] * rows[j][d]; a[i * k + j] = s + (i === j ? 0.1 : 0); }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) a[i * k + j] = a[j * k + i];
  return a;
}

test('row sums from a workspace list and vector (the group list built in the module) = dense.ts addRows bit for bit', () => {
  const random = seededRandom(2201);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 65]) {
    const m = symmetric(random, k);
    for (let trial = 0; trial < 8; trial++) {
      const rows = Array.from({ length: k }, (_, i) => i).filter(() => random() < 0.7);
      const values = Float64Array.from({ length: k }, () => (random() < 0.2 ? (random() < 0.5 ? 0 : -0) : gaussian(random)));
      const start = Float64Array.from({ length: k }, () => (random() < 0.1 ? -0 : gaussian(random)));
      for (const scale of [1, -1, 2]) {
        const space = simd.rowSums(m, k, 2, 0, 1);
        const [out, v] = space.vectors;
        const [list] = space.lists;
        assert.equal(list.length, k);
        list.set(rows);
        v.set(values);
        out.set(start);
        space.addRows(out, list, rows.length, v, scale);
        const expected = Float64Array.from(start);
        addRows(expected, m, k, rows, rows.length, values, scale);
        for (let i = 0; i < k; i++) assert.ok(Object.is(out[i], expected[i]), `k=${k} scale ${scale} entry ${i}: ${out[i]} vs ${expected[i]}`);
      }
    }
  }
});

/** The column the paths append, written out: M_{members, j} (with a reference) or A_{members, j}. */
function columnOf(a: Float64Array, k: number, members: ArrayLike<number>, m: number, r: number, j: number): { column: Float64Array; diagonal: number } {
  const column = new Float64Array(k);
  for (let p = 0; p < m; p++) {
    const i = members[p];
    column[p] = r >= 0 ? a[j * k + i] - a[r * k + i] - a[r * k + j] + a[r * k + r] : a[j * k + i];
  }
  return { column, diagonal: r >= 0 ? a[j * k + j] - 2 * a[r * k + j] + a[r * k + r] : a[j * k + j] };
}

test('appendRow (the direction system\'s M and the plain Gram) = the scalar twin = appendBesideTranspose on the column, bit for bit; a dependent row is refused with the factor untouched', () => {
  const random = seededRandom(2202);
  const simd = simdKernels()!;
  for (const k of [2, 3, 5, 8, 9, 33, 64]) {
    for (const withReference of [true, false]) {
      const a = positiveDefinite(random, k);
      // A duplicate of candidate 1 as the last candidate: appending it after 1 is dependent.
      for (let i = 0; i < k; i++) { a[(k - 1) * k + i] = a[k + i]; a[i * k + k - 1] = a[i * k + 1]; }
      a[(k - 1) * k + k - 1] = a[k + 1];
      const r = withReference ? 0 : -1;
      const order = Array.from({ length: k }, (_, i) => i).filter((i) => i !== r);
      const space = simd.rowSums(a, k, 1, 3, 1);
      const [factor, transposed, system] = space.matrices;
      const [l] = space.vectors;
      const [members] = space.lists;
      const scalar = scalarKernels.rowSums(a, k, 1, 3, 1);
      const [sFactor, sTransposed, sSystem] = scalar.matrices;
      const [sMembers] = scalar.lists;
      const refFactor = new Float64Array(k * k);
      const refTransposed = new Float64Array(k * k);
      for (const matrix of [factor, transposed, system, sFactor, sTransposed, sSystem]) matrix.fill(0);
      const dependentBelow = 1e-10 * Math.max(...Array.from({ length: k }, (_, i) => a[i * k + i]));
      let m = 0;
      let refused = 0;
      for (const j of order) {
        const { column, diagonal } = columnOf(a, k, members, m, r, j);
        const refL = Float64Array.from(column);
        const expected = appendBesideTranspose(refFactor, refTransposed, k, m, refL, diagonal, dependentBelow, (y, size) => scalar.forward(refTransposed, size, y));
        const fast = space.appendRow(members, m, r, j, factor, transposed, withReference ? system : null, l, dependentBelow);
        const slow = scalar.appendRow(sMembers, m, r, j, sFactor, sTransposed, withReference ? sSystem : null, new Float64Array(k), dependentBelow);
        assert.equal(fast, expected, `k=${k} append ${j}`);
        assert.equal(slow, expected, `k=${k} append ${j} (scalar)`);
        for (let i = 0; i < k * k; i++) {
          assert.ok(Object.is(factor[i], refFactor[i]) && Object.is(sFactor[i], refFactor[i]), `k=${k} r=${r} after ${j}: factor entry ${i}`);
          assert.ok(Object.is(transposed[i], refTransposed[i]) && Object.is(sTransposed[i], refTransposed[i]), `k=${k} r=${r} after ${j}: transposed entry ${i}`);
        }
        if (!expected) {
          assert.equal(j, k - 1, 'only the duplicate is dependent');
          refused++;
          continue;
        }
        if (withReference) {
          // M's new row and column, and its diagonal, in the system (both kernels).
          for (let p = 0; p < m; p++) {
            assert.ok(Object.is(system[m * k + p], column[p]) && Object.is(system[p * k + m], column[p]), `k=${k} system row ${m}, column ${p}`);
            assert.ok(Object.is(sSystem[m * k + p], column[p]) && Object.is(sSystem[p * k + m], column[p]));
          }
          assert.ok(Object.is(system[m * k + m], diagonal) && Object.is(sSystem[m * k + m], diagonal));
        }
        members[m] = j;
        sMembers[m] = j;
        m++;
      }
      if (k >= 3) assert.equal(refused, 1, `k=${k} r=${r}: the duplicate of candidate 1 is refused`);
    }
  }
});

/** The event search written out (lambdaPath.ts followDown's loops before they moved into the kernels). */
function eventsByHand(k: number, e: { active: Int32Array; count: number; inactive: Int32Array; sign: Int32Array; justLeft: Int32Array; w: Float64Array; direction: Float64Array; g: Float64Array; gDirection: Float64Array; nu: number; lambda: number; tolerance: number }) {
  const leaveAt = new Float64Array(k);
  const joinAt = new Float64Array(k);
  const joinSign = new Int32Array(k);
  let delta = e.lambda;
  let dNu = 0;
  for (let a = 0; a < e.count; a++) {
    const i = e.active[a];
    dNu += e.gDirection[i] + e.sign[i];
    const d = e.w[i] / e.direction[i];
    leaveAt[i] = e.w[i] !== 0 && e.direction[i] !== 0 && d > 0 ? d : Infinity;
    delta = Math.min(delta, leaveAt[i]);
  }
  dNu /= e.count;
  for (let n = k - 1; n >= e.count; n--) {
    const j = e.inactive[n];
    const r = e.nu - e.g[j];
    const rho = dNu - e.gDirection[j];
    const near = e.justLeft[j] !== 0;
    let at = Infinity;
    let sign = 0;
    if (1 - rho > 0 && !(near && e.lambda - r <= e.tolerance)) {
      const d = Math.max(0, e.lambda - r) / (1 - rho);
      if (d < at) { at = d; sign = 1; }
    }
    if (1 + rho > 0 && !(near && e.lambda + r <= e.tolerance)) {
      const d = Math.max(0, e.lambda + r) / (1 + rho);
      if (d < at) { at = d; sign = -1; }
    }
    joinAt[j] = at;
    joinSign[j] = sign;
    delta = Math.min(delta, at);
  }
  return { delta, dNu, leaveAt, joinAt, joinSign };
}

test('pathEvents (the constrained path\'s next event) and pathUpdate (the step to it) = the scalar twins = the loops written out, bit for bit, with zeros, signed zeros, ties and candidates that just left', () => {
  const random = seededRandom(2203);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 5, 8, 17, 64]) {
    for (let trial = 0; trial < 40; trial++) {
      const pick = <T>(options: T[]) => options[Math.floor(random() * options.length)];
      const space = simd.rowSums(new Float64Array(k * k), k, 7, 0, 6);
      const scalar = scalarKernels.rowSums(new Float64Array(k * k), k, 7, 0, 6);
      const count = 1 + Math.floor(random() * k);
      const order = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5);
      const lambda = 0.5 + random();
      const nu = gaussian(random);
      const values = {
        sign: Int32Array.from({ length: k }, (_, i) => (order.indexOf(i) < count ? pick([1, -1]) : 0)),
        justLeft: Int32Array.from({ length: k }, () => (random() < 0.3 ? 1 : 0)),
        w: Float64Array.from({ length: k }, () => pick([0, -0, gaussian(random), gaussian(random)])),
        direction: Float64Array.from({ length: k }, () => pick([0, -0, gaussian(random), gaussian(random), 1e-300])),
        // Some candidates right at the boundary (|ν − g| = λ), some within the tolerance.
        g: Float64Array.from({ length: k }, () => pick([nu - lambda, nu + lambda, nu - lambda + 1e-12, gaussian(random)])),
        gDirection: Float64Array.from({ length: k }, () => pick([0, 1, -1, gaussian(random), gaussian(random)])),
      };
      const active = Int32Array.from(order.slice(0, count).sort((x, y) => x - y));
      // The inactive ones from the end, ascending from k − 1 down (as activeAndInactive lists them).
      const inactive = new Int32Array(k);
      order.slice(count).sort((x, y) => x - y).forEach((j, n) => { inactive[k - 1 - n] = j; });
      const expected = eventsByHand(k, { active, count, inactive, ...values, nu, lambda, tolerance: 1e-10 });
      for (const sums of [space, scalar]) {
        const [w, direction, g, gDirection, leaveAt, joinAt, dNu] = sums.vectors;
        const [activeList, inactiveList, sign, justLeft, joinSign, joined] = sums.lists;
        activeList.set(active);
        inactiveList.set(inactive);
        sign.set(values.sign);
        justLeft.set(values.justLeft);
        w.set(values.w);
        direction.set(values.direction);
        g.set(values.g);
        gDirection.set(values.gDirection);
        joinSign.fill(0);
        const input = { active: activeList, count, inactive: inactiveList, sign, justLeft, joined, w, direction, g, gDirection, leaveAt, joinAt, joinSign, dNu, nu, lambda, tolerance: 1e-10 };
        const delta = sums.pathEvents(input);
        const which = sums === space ? 'SIMD' : 'scalar';
        assert.ok(Object.is(delta, expected.delta), `${which} k=${k} trial ${trial}: δ ${delta} vs ${expected.delta}`);
        assert.ok(Object.is(dNu[0], expected.dNu), `${which} k=${k} trial ${trial}: dν`);
        for (const i of active) assert.ok(Object.is(leaveAt[i], expected.leaveAt[i]), `${which} k=${k} trial ${trial}: leaveAt[${i}]`);
        for (let n = count; n < k; n++) {
          const j = inactive[n];
          assert.ok(Object.is(joinAt[j], expected.joinAt[j]), `${which} k=${k} trial ${trial}: joinAt[${j}] ${joinAt[j]} vs ${expected.joinAt[j]}`);
          assert.equal(joinSign[j], expected.joinSign[j], `${which} k=${k} trial ${trial}: joinSign[${j}]`);
        }
        // Then the step to the next breakpoint (pathUpdate), against the loops written out.
        const moved = delta * (random() < 0.5 ? 1 : 0.5);
        const tie = delta + 1e-11;
        const wAfter = Float64Array.from(w);
        const signAfter = Int32Array.from(sign);
        const leftAfter = new Int32Array(k);
        const joinedAfter = new Int32Array(k);
        for (const i of active) {
          wAfter[i] -= moved * direction[i];
          if (leaveAt[i] <= tie || wAfter[i] * signAfter[i] <= 0) { wAfter[i] = 0; signAfter[i] = 0; leftAfter[i] = 1; }
        }
        for (let n = k - 1; n >= count; n--) {
          const j = inactive[n];
          if (joinAt[j] <= tie) { signAfter[j] = joinSign[j]; joinedAfter[j] = 1; }
        }
        joined.fill(1);
        sums.pathUpdate(input, moved, tie);
        for (let i = 0; i < k; i++) assert.ok(Object.is(w[i], wAfter[i]), `${which} k=${k} trial ${trial}: w[${i}] after the step`);
        assert.deepEqual(Array.from(sign), Array.from(signAfter), `${which} k=${k} trial ${trial}: signs after the step`);
        assert.deepEqual(Array.from(justLeft), Array.from(leftAfter), `${which} k=${k} trial ${trial}: just left`);
        assert.deepEqual(Array.from(joined), Array.from(joinedAfter), `${which} k=${k} trial ${trial}: joined`);
      }
    }
  }
});


/** A random well-conditioned Cholesky factor (entries of unit scale, unlike reference.ts's randomFactor) of order m in l (row-major lower) and u = lᵀ, k×k, zero elsewhere. */
function unitFactor(random: () => number, l: Float64Array, u: Float64Array, k: number, m: number): void {
  l.fill(0);
  u.fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      const value = i === j ? 0.5 + 3 * random() : gaussian(random);
      l[i * k + j] = value;
      u[j * k + i] = value;
    }
  }
}
test('refinedSolve = substitute, residual, substitute and the sum (the calls it replaces) = the scalar twin, bit for bit, for every leading size', () => {
  const random = seededRandom(2204);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 8, 9, 33, 64]) {
    const space = simd.rowSums(new Float64Array(k * k), k, 6, 3);
    const [l, u, a] = space.matrices;
    const [z, rhs, correction, z2, correction2] = space.vectors;
    const scalar = scalarKernels.rowSums(new Float64Array(k * k), k, 0, 0);
    for (let m = 0; m <= k; m++) {
      randomFactor(random, l, u, a, k, m);
      const b = Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : gaussian(random)));
      rhs.set(b);
      z.set(b);
      space.refinedSolve(l, u, a, m, z, rhs, correction);
      z2.set(b);
      space.substitute(l, u, m, z2);
      space.residual(a, m, z2, rhs, correction2);
      space.substitute(l, u, m, correction2);
      for (let p = 0; p < m; p++) z2[p] += correction2[p];
      const zs = Float64Array.from(b);
      scalar.refinedSolve(Float64Array.from(l), Float64Array.from(u), Float64Array.from(a), m, zs, Float64Array.from(b), new Float64Array(k));
      for (let p = 0; p < k; p++) {
        assert.ok(Object.is(z[p], z2[p]), `k=${k} m=${m} entry ${p}: ${z[p]} vs ${z2[p]}`);
        assert.ok(Object.is(zs[p], z2[p]), `k=${k} m=${m} entry ${p} (scalar): ${zs[p]} vs ${z2[p]}`);
      }
    }
  }
});

test('gramRefinedSolve = substitute, the members\' row sums and substitute (the calls it replaces) = the scalar twin, bit for bit', () => {
  const random = seededRandom(2205);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 8, 9, 33, 64]) {
    const a = symmetric(random, k);
    const space = simd.rowSums(a, k, 10, 3, 1);
    const [l, u] = space.matrices;
    const [rhs, x, byCandidate, full, r, x2, byCandidate2, full2, r2] = space.vectors;
    const [members] = space.lists;
    const scalar = scalarKernels.rowSums(a, k, 0, 0);
    for (let m = 0; m <= k; m++) {
      unitFactor(random, l, u, k, m);
      // m distinct candidates in a shuffled factor order.
      const order = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5).slice(0, m);
      members.set(order);
      rhs.set(Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : gaussian(random))));
      for (const v of [x, byCandidate, full, r, x2, byCandidate2, full2, r2]) v.fill(random());
      space.gramRefinedSolve(l, u, members, m, rhs, x, byCandidate, full, r);
      for (let p = 0; p < m; p++) x2[p] = rhs[p];
      space.substitute(l, u, m, x2);
      for (let q = 0; q < m; q++) { byCandidate2[order[q]] = x2[q]; full2[order[q]] = rhs[q]; }
      space.addRows(full2, members, m, byCandidate2, -1);
      for (let p = 0; p < m; p++) r2[p] = full2[order[p]];
      space.substitute(l, u, m, r2);
      const xs = Float64Array.from(rhs);
      const rs = new Float64Array(k);
      scalar.gramRefinedSolve(Float64Array.from(l), Float64Array.from(u), Int32Array.from(order), m, Float64Array.from(rhs), xs, new Float64Array(k), new Float64Array(k), rs);
      for (let p = 0; p < m; p++) {
        assert.ok(Object.is(x[p], x2[p]) && Object.is(xs[p], x2[p]), `k=${k} m=${m} x[${p}]`);
        assert.ok(Object.is(r[p], r2[p]) && Object.is(rs[p], r2[p]), `k=${k} m=${m} r[${p}]: ${r[p]} ${rs[p]} vs ${r2[p]}`);
      }
    }
  }
});

test('gramRefinedSolvePair = gramRefinedSolve on each right-hand side (the SIMD kernel with the columns in lanes, and the scalar twin), bit for bit', () => {
  const random = seededRandom(2207);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 4, 5, 8, 9, 17, 33, 64, 65]) {
    const a = symmetric(random, k);
    const space = simd.rowSums(a, k, 13, 3, 1);
    const [l, u, pair] = space.matrices;
    const [rhs, rhs2, x, x2, byCandidate, byCandidate2, full, full2, r, r2, xOne, rOne, rhsOne] = space.vectors;
    const [members] = space.lists;
    const scalar = scalarKernels.rowSums(a, k, 0, 0);
    for (let m = 0; m <= k; m++) {
      unitFactor(random, l, u, k, m);
      const order = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5).slice(0, m);
      members.set(order);
      // Signed zeros, ones (the lasso's direction) and random entries; NaN in the second column at times.
      rhs.set(Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : random() < 0.3 ? 1 : gaussian(random))));
      rhs2.set(Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : random() < 0.02 ? NaN : 1e3 * gaussian(random))));
      for (const v of [x, x2, byCandidate, byCandidate2, full, full2, r, r2, xOne, rOne]) v.fill(random());
      pair.fill(random());
      space.gramRefinedSolvePair(l, u, members, m, rhs, rhs2, x, x2, byCandidate, byCandidate2, full, full2, r, r2, pair);
      const got = [Float64Array.from(x), Float64Array.from(r), Float64Array.from(x2), Float64Array.from(r2)];
      // Each column alone by the one-column kernel, and by the scalar twin (one and two columns).
      const scalarPair = [Float64Array.from(rhs), new Float64Array(k), Float64Array.from(rhs2), new Float64Array(k)];
      scalar.gramRefinedSolvePair(Float64Array.from(l), Float64Array.from(u), Int32Array.from(order), m, Float64Array.from(rhs), Float64Array.from(rhs2), scalarPair[0], scalarPair[2], new Float64Array(k), new Float64Array(k), new Float64Array(k), new Float64Array(k), scalarPair[1], scalarPair[3], new Float64Array(2 * k));
      for (const [column, source] of [[0, rhs], [1, rhs2]] as const) {
        rhsOne.set(source);
        space.gramRefinedSolve(l, u, members, m, rhsOne, xOne, byCandidate, full, rOne);
        for (let p = 0; p < m; p++) {
          assert.ok(Object.is(got[2 * column][p], xOne[p]) && Object.is(scalarPair[2 * column][p], xOne[p]), `k=${k} m=${m} column ${column} x[${p}]: ${got[2 * column][p]} vs ${xOne[p]}`);
          assert.ok(Object.is(got[2 * column + 1][p], rOne[p]) && Object.is(scalarPair[2 * column + 1][p], rOne[p]), `k=${k} m=${m} column ${column} r[${p}]: ${got[2 * column + 1][p]} vs ${rOne[p]}`);
        }
      }
    }
  }
});

test('pathBoundary (ν and the candidates on the boundary) = the scalar twin = the loops written out, bit for bit', () => {
  const random = seededRandom(2206);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 5, 8, 17, 64]) {
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + Math.floor(random() * k);
      const order = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5);
      const active = Int32Array.from(order.slice(0, count).sort((x, y) => x - y));
      const inactive = new Int32Array(k);
      order.slice(count).sort((x, y) => x - y).forEach((j, n) => { inactive[k - 1 - n] = j; });
      const lambda = 0.5 + random();
      const base = 1e-10 * (1 + random());
      const slope = 1e-13 * (1 + random());
      const signs = Int32Array.from({ length: k }, (_, i) => (order.indexOf(i) < count ? (random() < 0.5 ? 1 : -1) : 0));
      const justLeftValues = Int32Array.from({ length: k }, () => (random() < 0.3 ? 1 : 0));
      const wValues = Float64Array.from({ length: k }, () => (random() < 0.2 ? -0 : gaussian(random)));
      const gValues = Float64Array.from({ length: k }, () => gaussian(random));
      // ν by hand, then some inactive candidates placed exactly at (or just inside) the boundary.
      let nu = 0;
      let l1 = 0;
      for (const i of active) { nu += gValues[i] + lambda * signs[i]; l1 += Math.abs(wValues[i]); }
      nu /= count;
      const tolerance = base + slope * l1;
      for (let n = count; n < k; n++) if (random() < 0.4) gValues[inactive[n]] = nu + (random() < 0.5 ? lambda : -lambda) * (1 - (random() < 0.5 ? 0 : 1e-12));
      const expectedSign = Int32Array.from(signs);
      const expectedJoined = new Int32Array(k);
      let expectedListed = true;
      for (let n = k - 1; n >= count; n--) {
        const j = inactive[n];
        if (justLeftValues[j]) continue;
        const r = nu - gValues[j];
        if (Math.abs(r) >= lambda - tolerance) { expectedSign[j] = r > 0 ? 1 : -1; expectedJoined[j] = 1; expectedListed = false; }
      }
      for (const sums of [simd.rowSums(new Float64Array(k * k), k, 4, 0, 5), scalarKernels.rowSums(new Float64Array(k * k), k, 4, 0, 5)]) {
        const [w, g, out, toleranceOut] = sums.vectors;
        const [activeList, inactiveList, sign, justLeft, joined] = sums.lists;
        activeList.set(active);
        inactiveList.set(inactive);
        sign.set(signs);
        justLeft.set(justLeftValues);
        joined.fill(0);
        w.set(wValues);
        g.set(gValues);
        const listed = sums.pathBoundary({ active: activeList, count, inactive: inactiveList, sign, justLeft, joined, w, g, out, toleranceOut, lambda, base, slope });
        assert.equal(listed, expectedListed, `k=${k} trial ${trial}: listed`);
        assert.ok(Object.is(out[0], nu) && Object.is(toleranceOut[0], tolerance), `k=${k} trial ${trial}: ν, tolerance`);
        assert.deepEqual(Array.from(sign), Array.from(expectedSign), `k=${k} trial ${trial}: signs`);
        assert.deepEqual(Array.from(joined), Array.from(expectedJoined), `k=${k} trial ${trial}: joined`);
      }
    }
  }
});

test('choleskySolve (the pivoted Cholesky and both substitutions in one module call) = cholesky.ts choleskySolve, its twin, bit for bit: pivot ties, signed zeros, NaN, singular matrices, every size around the eight-entry passes, over stale memory', () => {
  const random = seededRandom(1217);
  const simd = simdKernels()!;
  let compared = 0;
  let refused = 0;
  const check = (a: Float64Array, n: number, b: Float64Array, label: string, reference = 0, tolerance?: number) => {
    const expected = choleskySolve(a, n, b, reference, tolerance);
    const fast = simd.choleskySolve(a, n, b, reference, tolerance);
    assert.equal(fast === null, expected === null, `${label}: singular on both or neither`);
    const twin = scalarKernels.choleskySolve(a, n, b, reference, tolerance);
    assert.equal(twin === null, expected === null, `${label}: the scalar twin is cholesky.ts's`);
    if (!expected || !fast || !twin) { refused++; return; }
    assert.equal(fast.length, n);
    for (let i = 0; i < n; i++) assert.ok(Object.is(fast[i], expected[i]) && Object.is(twin[i], expected[i]), `${label} entry ${i}: ${fast[i]} vs ${expected[i]}`);
    compared++;
  };
  const gram = (rows: number[][]) => {
    const n = rows.length;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let d = 0; d < rows[i].length; d++) s += rows[i][d] * rows[j][d]; a[i * n + j] = s; }
    return a;
  };
  // Sizes up past the eight-entry passes (every remainder of the column runs), then down again.
  const sizes = [...Array.from({ length: 21 }, (_, n) => n), 31, 32, 33, 63, 64, 65, 70, 40, 17, 8, 3];
  for (const n of sizes) {
    // Mixed magnitudes (a changed order shows in the last bits), full rank and rank-deficient.
    for (const rank of [n + 3, Math.max(1, n - 2)]) {
      const rows = Array.from({ length: n }, () => Array.from({ length: rank }, (_, d) => gaussian(random) * (d % 3 === 0 ? 1e3 : 1)));
      const b = Float64Array.from({ length: n }, () => gaussian(random));
      check(gram(rows), n, b, `n=${n} rank ${rank}`);
      check(gram(rows), n, b, `n=${n} rank ${rank}, reference scale`, 1e6, 1e-9);
    }
    if (n === 0) continue;
    // Ties: rows of ±1 with the same number of nonzeros (every diagonal equal), some duplicated (equal
    // Schur diagonals later on, and a dependent column), so the first largest pivot must win each time.
    const pattern = (seed: number) => Array.from({ length: n + 2 }, (_, d) => ((d + seed) % 3 === 0 ? (random() < 0.5 ? 1 : -1) : 0));
    const tied = Array.from({ length: n }, (_, i) => pattern(i));
    check(gram(tied), n, Float64Array.from({ length: n }, (_, i) => i - n / 2), `n=${n} ties`);
    if (n > 2) tied[n - 1] = tied[1].slice();
    check(gram(tied), n, Float64Array.from({ length: n }, (_, i) => (i % 2 ? -0 : i)), `n=${n} ties, a duplicate row`);
    // Signed zeros: a diagonal matrix with −0 off the diagonal and ±0 in b.
    const diagonal = new Float64Array(n * n).fill(-0);
    for (let i = 0; i < n; i++) diagonal[i * n + i] = 1 + (i % 4);
    check(diagonal, n, Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : -i)), `n=${n} signed zeros`);
    // A NaN off the diagonal (both answer NaN where it reaches).
    if (n > 1) {
      const spoiled = gram(Array.from({ length: n }, () => Array.from({ length: n + 1 }, () => gaussian(random))));
      spoiled[n - 1] = NaN;
      spoiled[(n - 1) * n] = NaN;
      check(spoiled, n, Float64Array.from({ length: n }, () => gaussian(random)), `n=${n} NaN`);
    }
  }
  assert.ok(compared > 100 && refused > 10, `both outcomes exercised (${compared} solved, ${refused} refused)`);
});

/**
 * The lasso path's loop after its direction as lassoPath.ts wrote it before lassoStep (free and
 * boundary lists, support and boundary marks, the moving and outside lists, G·d, the leave steps over
 * the free ones, then the join steps over the outside ones, the step, the support after it).
 */
function lassoStepByHand(m: Float64Array, k: number, v: { w: Float64Array; d: Float64Array; correlation: Float64Array; b: Float64Array; lambda: number; boundaryLevel: number; slack: number }) {
  const w = Float64Array.from(v.w);
  const { d, correlation, lambda, slack } = v;
  const free: number[] = [];
  const boundary: number[] = [];
  for (let i = 0; i < k; i++) {
    if (w[i] > 0) free.push(i);
    else if (correlation[i] >= v.boundaryLevel) boundary.push(i);
  }
  const support = new Uint8Array(k);
  const inBoundary = new Uint8Array(k);
  for (const i of free) support[i] = 1;
  for (const j of boundary) { inBoundary[j] = 1; if (d[j] > 0) support[j] = 1; }
  const moving: number[] = [];
  const outside: number[] = [];
  for (let i = 0; i < k; i++) {
    if (d[i] !== 0) moving.push(i);
    if (!(support[i] | inBoundary[i])) outside.push(i);
  }
  const gd = new Float64Array(k);
  addRows(gd, m, k, moving, moving.length, d);
  let delta = lambda;
  const leaveAt = new Float64Array(k).fill(Infinity);
  for (const i of free) if (d[i] < 0) { leaveAt[i] = w[i] / -d[i]; delta = Math.min(delta, leaveAt[i]); }
  for (const j of outside) {
    const denominator = 1 - gd[j];
    if (!(denominator > 0)) continue;
    delta = Math.min(delta, Math.max(0, lambda - correlation[j]) / denominator);
  }
  const tie = delta + slack;
  const next = lambda - delta <= slack ? 0 : lambda - delta;
  const moved = lambda - next;
  const now: number[] = [];
  for (let i = 0; i < k; i++) {
    if (support[i]) w[i] += moved * d[i];
    if (leaveAt[i] <= tie || w[i] < 0) w[i] = 0;
    if (w[i] > 0) now.push(i);
  }
  return { w, gd, leaveAt, marks: Array.from({ length: k }, (_, i) => support[i] | (inBoundary[i] << 1)), moving, now, rhs: now.map((i) => v.b[i] - next), next };
}

test('lassoStep (the lasso path\'s breakpoint after its direction) = the scalar twin = the loops written out, bit for bit, with zeros, signed zeros, boundary ties and weights that leave', () => {
  const random = seededRandom(2207);
  const simd = simdKernels()!;
  for (const k of [1, 2, 3, 5, 8, 17, 64, 65]) {
    const m = symmetric(random, k);
    for (let trial = 0; trial < 40; trial++) {
      const pick = <T>(options: T[]) => options[Math.floor(random() * options.length)];
      const lambda = pick([0.5 + random(), 1e-12, 1]);
      const boundaryLevel = lambda - 1e-10;
      const values = {
        // The lasso's weights are ≥ 0 (−0 never arises there, but the kernels must agree on it too).
        w: Float64Array.from({ length: k }, () => pick([0, 0, -0, random(), 1e-300])),
        d: Float64Array.from({ length: k }, () => pick([0, -0, gaussian(random), gaussian(random), -1e-300])),
        // Some correlations exactly at λ, at the boundary level, just under it, above λ.
        correlation: Float64Array.from({ length: k }, () => pick([lambda, boundaryLevel, boundaryLevel - 1e-16, lambda + 1, gaussian(random)])),
        b: Float64Array.from({ length: k }, () => gaussian(random)),
        lambda,
        boundaryLevel,
        slack: pick([1e-11, 0, 0.3]),
      };
      const expected = lassoStepByHand(m, k, values);
      for (const [which, sums] of [['SIMD', simd.rowSums(m, k, 8, 0, 3)], ['scalar', scalarKernels.rowSums(m, k, 8, 0, 3)]] as const) {
        const [w, direction, correlation, gd, leaveAt, rhs, b, out] = sums.vectors;
        const [marks, moving, now] = sums.lists;
        w.set(values.w);
        direction.set(values.d);
        correlation.set(values.correlation);
        b.set(values.b);
        gd.fill(NaN);
        const count = sums.lassoStep({ w, direction, correlation, gd, leaveAt, marks, moving, now, rhs, b, out, lambda, boundaryLevel, slack: values.slack });
        const at = `${which} k=${k} trial ${trial}`;
        assert.ok(Object.is(out[0], expected.next), `${at}: next λ ${out[0]} vs ${expected.next}`);
        assert.equal(count, expected.now.length, `${at}: support size`);
        assert.deepEqual(Array.from(now.subarray(0, count)), expected.now, `${at}: support`);
        assert.deepEqual(Array.from(marks), expected.marks, `${at}: marks`);
        assert.deepEqual(Array.from(moving.subarray(0, expected.moving.length)), expected.moving, `${at}: moving`);
        for (let i = 0; i < k; i++) {
          assert.ok(Object.is(w[i], expected.w[i]), `${at}: w[${i}] ${w[i]} vs ${expected.w[i]}`);
          assert.ok(Object.is(gd[i], expected.gd[i]), `${at}: gd[${i}]`);
          assert.ok(Object.is(leaveAt[i], expected.leaveAt[i]), `${at}: leaveAt[${i}]`);
        }
        for (let a = 0; a < count; a++) assert.ok(Object.is(rhs[a], expected.rhs[a]), `${at}: rhs[${a}]`);
      }
    }
  }
});
