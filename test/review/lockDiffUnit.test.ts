/**
 * diffLocks, the pure function behind `diff`, Compare with HEAD and the lock lens: against independent
 * expectations on synthetic locks (added/removed, every weight old → new and its order, the changed
 * fields by path, metrics). Apart from the CLI half (lockDiff.test.ts) so that mutation testing, which
 * runs the files that reach a mutant once per mutant, pays well under a second per lockDiff.ts mutant.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LockFile } from '../../server/src/engine/lock';
import { byCodepoint, diffLocks, flattenLock } from '../../server/src/engine/lockDiff';
import { seededRandom } from '../../server/src/engine/random';

const H = (c: string) => c.repeat(64);

function lock(weights: Record<string, number>, extra: Partial<LockFile> = {}): LockFile {
  return {
    format: 1,
    tool_version: '0.1.0',
    recipe: { path: 'r.compose.yaml', sha256: H('a') },
    library: { uri: '../library', version: 3, size: 10 },
    encoder: { sha256: null, dim: 4 },
    target: { source: 'prototype', sha256: H('b'), count: 1, dim: 4 },
    provider: null,
    candidates: Object.keys(weights).map((name, i) => ({ name, distance: i + 0.5, sha256: H(String(i % 10)), path: `../adapters/${name}` })),
    strategy: 'sparse',
    parameters: { k: Object.keys(weights).length, lambda: 0.05 },
    weights,
    merge: { method: 'svd', rank: 4, dtype: 'auto', modules_to_save: 'refuse' },
    output: { path: '../out/r', files: [{ path: 'adapter_model.safetensors', sha256: H('c') }] },
    ...extra,
  };
}

describe('diffLocks', () => {
  it('a lock against itself is the same: every Δ 0, nothing added, removed or changed', () => {
    const a = lock({ x: 0.5, y: 0.5 });
    const d = diffLocks(a, structuredClone(a));
    assert.equal(d.same, true);
    assert.deepEqual([d.added, d.removed, d.changed], [[], [], []]);
    assert.ok(d.weights.every((w) => w.delta === 0 && w.old === w.new));
  });

  it('random locks: weights, added/removed and the sort order match an independent computation', () => {
    const rand = seededRandom(7);
    const pool = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (let trial = 0; trial < 200; trial++) {
      const pick = () => Object.fromEntries(pool.filter(() => rand() < 0.6).map((n) => [n, Math.round((rand() * 2 - 0.5) * 1e4) / 1e4]));
      const wa = pick();
      const wb = pick();
      const d = diffLocks(lock(wa), lock(wb));
      const names = [...new Set([...Object.keys(wa), ...Object.keys(wb)])];
      assert.deepEqual(d.added, Object.keys(wb).filter((n) => !(n in wa)).sort());
      assert.deepEqual(d.removed, Object.keys(wa).filter((n) => !(n in wb)).sort());
      assert.equal(d.weights.length, names.length);
      for (const w of d.weights) {
        assert.equal(w.old, w.adapter in wa ? wa[w.adapter] : null);
        assert.equal(w.new, w.adapter in wb ? wb[w.adapter] : null);
        assert.ok(Math.abs(w.delta - ((wb[w.adapter] ?? 0) - (wa[w.adapter] ?? 0))) < 1e-12);
      }
      for (let i = 1; i < d.weights.length; i++) {
        const [p, q] = [d.weights[i - 1], d.weights[i]];
        assert.ok(Math.abs(p.delta) > Math.abs(q.delta) || (Math.abs(p.delta) === Math.abs(q.delta) && p.adapter < q.adapter), `order at ${i}`);
      }
      // Reversed: old and new swap, Δ changes sign, same adapters.
      const r = diffLocks(lock(wb), lock(wa));
      assert.deepEqual([r.added, r.removed], [d.removed, d.added]);
    }
  });

  it('changed fields: exactly the ones edited, named by path, with null where a side lacks the field', () => {
    const a = lock({ x: 0.6, y: 0.4 });
    const b = structuredClone(a);
    b.strategy = 'convex';
    delete b.parameters.lambda;
    b.parameters.k = 5;
    b.merge.rank = 8;
    b.candidates[1].sha256 = H('d');
    b.output.files[0].sha256 = H('e');
    b.library.version = 4;
    const d = diffLocks(a, b);
    assert.deepEqual(d.changed, [
      { field: 'strategy', old: 'sparse', new: 'convex' },
      { field: 'parameters.k', old: 2, new: 5 },
      { field: 'parameters.lambda', old: 0.05, new: null },
      { field: 'merge.rank', old: 4, new: 8 },
      { field: 'candidates[y].sha256', old: H('1'), new: H('d') },
      { field: 'library.version', old: 3, new: 4 },
      { field: 'output.files[adapter_model.safetensors].sha256', old: H('c'), new: H('e') },
    ]);
    assert.equal(d.same, false);
    // A candidate only one side has is told by added/removed, not as field changes.
    const c = diffLocks(a, lock({ x: 0.6, y: 0.3, z: 0.1 }));
    assert.deepEqual(c.added, ['z']);
    assert.ok(!c.changed.some((f) => f.field.startsWith('candidates[z]')));
  });

  it('adapters named like Object.prototype members (constructor, toString) are ordinary adapters', () => {
    const a = lock({ constructor: 0.5, x: 0.5 });
    a.weights = { x: 1 }; // `constructor` is a candidate without a recorded weight
    const b = lock({ toString: 0.25, x: 0.75 });
    const d = diffLocks(a, b);
    assert.deepEqual(d.weights.map((w) => [w.adapter, w.old, w.new]), [['toString', null, 0.25], ['x', 1, 0.75], ['constructor', 0, null]]);
  });

  it('metrics old → new, null where a side has none', () => {
    const a = lock({ x: 1 });
    const d = diffLocks(a, a, { old: { acc: 0.8, loss: 1 }, new: { acc: 0.9, f1: 0.5 } });
    assert.deepEqual(d.metrics, [
      { metric: 'acc', old: 0.8, new: 0.9 },
      { metric: 'f1', old: null, new: 0.5 },
      { metric: 'loss', old: 1, new: null },
    ]);
    assert.equal(d.same, false);
  });

  it('names in codepoint order whatever the insertion order (not locale order): added, removed, ties', () => {
    assert.deepEqual(['b', 'Zeta', 'é', 'alpha', 'B', 'a'].sort(byCodepoint), ['B', 'Zeta', 'a', 'alpha', 'b', 'é']);
    assert.equal(byCodepoint('x', 'x'), 0);
    assert.ok(byCodepoint('a', 'b') < 0 && byCodepoint('b', 'a') > 0);
    // inserted out of order on both sides; every Δ of the same size, so the tie-break decides the order
    const d = diffLocks(lock({ zulu: 0.25, 'Mike': 0.25, kilo: 0.25, alpha: 0.25 }), lock({ yankee: 0.25, Bravo: 0.25, kilo: 0.25, 'échelle': 0.25 }));
    assert.deepEqual(d.added, ['Bravo', 'yankee', 'échelle']);
    assert.deepEqual(d.removed, ['Mike', 'alpha', 'zulu']);
    assert.deepEqual(d.weights.map((w) => w.adapter), ['Bravo', 'Mike', 'alpha', 'yankee', 'zulu', 'échelle', 'kilo']);
  });

  it('every top-level field in review order, unknown fields last; booleans, lists and nested values as values', () => {
    const a = lock({ x: 0.5, y: 0.5 });
    const b = structuredClone(a);
    b.format = 2;
    b.tool_version = '0.2.0';
    b.provider = 'cuda';
    b.recipe.sha256 = H('f');
    b.target.count = 3;
    b.encoder.sha256 = H('9');
    b.output.path = '../out/s';
    b.merge.normalize = true;
    b.parameters.layers = [1, 2];
    b.parameters.nested = { list: [{ deep: 1 }] };
    (b as unknown as Record<string, unknown>).Extra = 'later';
    (b as unknown as Record<string, unknown>).zz_unknown = 1;
    (b as unknown as Record<string, unknown>).Xformat = 1; // not `format`: the whole name decides
    const d = diffLocks(a, b);
    assert.deepEqual(d.changed, [
      { field: 'parameters.layers', old: null, new: [1, 2] },
      { field: 'parameters.nested.list', old: null, new: ['{"deep":1}'] },
      { field: 'merge.normalize', old: null, new: true },
      { field: 'encoder.sha256', old: null, new: H('9') },
      { field: 'target.count', old: 1, new: 3 },
      { field: 'recipe.sha256', old: H('a'), new: H('f') },
      { field: 'output.path', old: '../out/r', new: '../out/s' },
      { field: 'provider', old: null, new: 'cuda' },
      { field: 'tool_version', old: '0.1.0', new: '0.2.0' },
      { field: 'format', old: 1, new: 2 },
      { field: 'Extra', old: null, new: 'later' },
      { field: 'Xformat', old: null, new: 1 },
      { field: 'zz_unknown', old: null, new: 1 },
    ]);
  });

  it('lists: keyed by name (path kept as a field) or by path; other lists, empty ones and mixed ones are values', () => {
    const a = lock({ alpha: 0.5, bravo: 0.5 });
    const f = flattenLock(a);
    assert.equal(f.get('candidates[bravo].path'), '../adapters/bravo');
    assert.equal(f.get('candidates[bravo].sha256'), H('1'));
    assert.ok(!f.has('candidates[bravo].name') && !f.has('candidates[bravo].distance'), 'the key and the distance are not fields');
    assert.equal(f.get('output.files[adapter_model.safetensors].sha256'), H('c'));
    assert.ok(!f.has('output.files[adapter_model.safetensors].path'));
    const b = structuredClone(a);
    b.candidates[1].path = '../moved/bravo';
    b.candidates[1].distance = 9; // follows from the target: told by the weights, not as a field
    b.parameters.empty = [];
    b.parameters.mixed = [{ name: 'n' }, 3];
    b.parameters.anonymous = [{ value: 1 }];
    b.parameters.holes = [{ name: 'n' }, null];
    b.parameters.grid = [[1, 2], [3]];
    b.parameters.runs = [{ name: 'r1', distance: 2 }]; // only candidates' distances are left out
    const d = diffLocks(a, b);
    assert.deepEqual(d.changed, [
      { field: 'parameters.anonymous', old: null, new: ['{"value":1}'] },
      { field: 'parameters.empty', old: null, new: [] },
      { field: 'parameters.grid', old: null, new: [[1, 2], [3]] },
      { field: 'parameters.holes', old: null, new: ['{"name":"n"}', null] },
      { field: 'parameters.mixed', old: null, new: ['{"name":"n"}', 3] },
      { field: 'parameters.runs[r1].distance', old: null, new: 2 },
      { field: 'candidates[bravo].path', old: '../adapters/bravo', new: '../moved/bravo' },
    ]);
    // an undefined value reads as null, and null → null is no change
    const c = structuredClone(a);
    c.parameters.lambda = undefined;
    assert.deepEqual(diffLocks(a, c).changed, [{ field: 'parameters.lambda', old: 0.05, new: null }]);
    const n = structuredClone(a);
    n.parameters.none = null;
    assert.deepEqual(diffLocks(n, lock({ alpha: 0.5, bravo: 0.5 }, { parameters: { ...a.parameters, none: undefined } })).changed, []);
  });

  it('an added or removed candidate with a long name contributes no field changes', () => {
    const a = lock({ alpha: 0.5, bravo: 0.5 });
    const b = lock({ alpha: 0.5, bravo: 0.25, 'charlie-long-name': 0.25 });
    const d = diffLocks(a, b);
    assert.deepEqual(d.added, ['charlie-long-name']);
    assert.ok(!d.changed.some((c) => c.field.includes('charlie')), JSON.stringify(d.changed));
    assert.deepEqual(diffLocks(b, a).removed, ['charlie-long-name']);
    assert.ok(!diffLocks(b, a).changed.some((c) => c.field.includes('charlie')));
    // only the lock's own candidates list is told by added/removed: a list of that name elsewhere is a field
    const p = structuredClone(b);
    p.parameters.candidates = [{ name: 'charlie-long-name', v: 1 }];
    assert.deepEqual(diffLocks(a, p).changed.filter((c) => c.field.includes('charlie')), [{ field: 'parameters.candidates[charlie-long-name].v', old: null, new: 1 }]);
  });

  it('round-off below 1e-12 is no change; anything above it is', () => {
    const a = lock({ x: 0.5, y: 0.5 });
    const tiny = diffLocks(a, lock({ x: 0.5 + 4e-13, y: 0.5 - 4e-13 }));
    assert.ok(tiny.weights.every((w) => w.delta === 0));
    assert.equal(tiny.same, true);
    const small = diffLocks(a, lock({ x: 0.5 + 4e-12, y: 0.5 - 4e-12 }));
    assert.ok(small.weights.every((w) => w.delta !== 0));
    assert.equal(small.same, false);
    // exactly 1e-12 (0 → 1e-12 is exact in binary64) is a change
    assert.equal(diffLocks(lock({ x: 0 }), lock({ x: 1e-12 })).weights[0].delta, 1e-12);
  });

  it('same: false for each single kind of difference, true only when nothing differs', () => {
    const a = lock({ x: 0.5, y: 0.5 });
    const equalMetrics = { old: { acc: 0.9 }, new: { acc: 0.9 } };
    assert.equal(diffLocks(a, structuredClone(a), equalMetrics).same, true);
    assert.equal(diffLocks(a, structuredClone(a), { new: { acc: 0.9 } }).same, false);
    assert.deepEqual(diffLocks(a, a, { new: { acc: 0.9 } }).metrics, [{ metric: 'acc', old: null, new: 0.9 }]);
    assert.deepEqual(diffLocks(a, a, { old: { acc: 0.9 } }).metrics, [{ metric: 'acc', old: 0.9, new: null }]);
    // only an adapter added (weight 0, no field of its own changes)
    const added = structuredClone(a);
    added.candidates.push({ name: 'z', distance: 3, sha256: H('4'), path: '../adapters/z' });
    added.parameters.k = 2;
    const onlyAdded = diffLocks(a, added);
    assert.deepEqual([onlyAdded.added, onlyAdded.removed, onlyAdded.changed], [['z'], [], []]);
    assert.equal(onlyAdded.same, false);
    const onlyRemoved = diffLocks(added, a);
    assert.deepEqual([onlyRemoved.added, onlyRemoved.removed, onlyRemoved.changed], [[], ['z'], []]);
    assert.equal(onlyRemoved.same, false);
    // only a weight moved
    const moved = diffLocks(a, lock({ x: 0.25, y: 0.75 }));
    assert.deepEqual([moved.added, moved.removed, moved.changed], [[], [], []]);
    assert.equal(moved.same, false);
    const oneMoved = diffLocks(lock({ x: 0.5, y: 0.5, z: 0 }), lock({ x: 0.5, y: 0.25, z: 0.25 }));
    assert.deepEqual(oneMoved.weights.map((w) => w.delta), [-0.25, 0.25, 0]);
    assert.equal(oneMoved.same, false);
  });
});

