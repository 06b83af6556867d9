/**
 * diffLocks (pure): against independent expectations on synthetic locks; evaluator metrics old → new
 * from the real run history (two composes with an evaluator, `diff a.lock b.lock --json`); `lock show`
 * on a lock and on a damaged file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LockFile } from '../../server/src/engine/lock';
import { diffLocks } from '../../server/src/engine/lockDiff';
import { seededRandom } from '../../server/src/engine/random';
import { buildFixture, removeFixture, type Fixture } from '../lsp/fixture';
import { cli, ensureBuilt } from '../hardening/workspace';

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
});

describe('diff with the run history, and lock show (CLI)', () => {
  let fixture: Fixture | undefined;
  before(async () => {
    ensureBuilt();
    fixture = await buildFixture('ac-lockdiff-');
  });
  after(() => removeFixture(fixture));

  it('diff of two locks shows the evaluator metrics that the history recorded for each', () => {
    const root = fixture!.root;
    // An evaluator whose metric we can compute here: the size of the composite's tensor file.
    fs.writeFileSync(path.join(fixture!.recipes, 'score.js'), "const fs = require('fs'); console.log(JSON.stringify({ bytes: fs.statSync(process.argv[2] + '/adapter_model.safetensors').size }));\n");
    const recipe = fixture!.goodRecipe;
    const withEval = (text: string) => `${text}evaluate: { command: [${JSON.stringify(process.execPath)}, score.js, "{output}"], timeout: 60 }\n`;
    fs.writeFileSync(recipe, withEval(fs.readFileSync(recipe, 'utf8')));
    const lockFile = recipe.replace(/\.compose\.yaml$/, '.compose.lock');
    const compose = () => {
      const r = cli(['compose', recipe, '--allow-exec'], { cwd: root });
      assert.equal(r.status, 0, r.stderr);
      return fs.statSync(path.join(root, 'out/prostate-e/adapter_model.safetensors')).size;
    };
    const before = compose();
    const oldLock = path.join(root, 'old.compose.lock');
    fs.copyFileSync(lockFile, oldLock);
    fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace('rank: 4', 'rank: 2'));
    const now = compose();
    assert.notEqual(before, now);
    const r = cli(['diff', oldLock, lockFile, '--json'], { cwd: root });
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { metrics: unknown; changed: { field: string }[] };
    assert.deepEqual(json.metrics, [{ metric: 'bytes', old: before, new: now }]);
    assert.ok(json.changed.some((c) => c.field === 'merge.rank'));
    const text = cli(['diff', oldLock, lockFile], { cwd: root }).stdout;
    const delta = now - before;
    assert.match(text, new RegExp(`^bytes +${before} +${now} +${delta > 0 ? '\\+' : '−'}${Math.abs(delta)}$`, 'm'));
  });

  it('lock show: a summary with every weight; a damaged file is shown as it is (exit 0, for git)', () => {
    const root = fixture!.root;
    const lockFile = fixture!.goodRecipe.replace(/\.compose\.yaml$/, '.compose.lock');
    if (!fs.existsSync(lockFile)) assert.equal(cli(['compose', fixture!.goodRecipe, '--skip-evaluate'], { cwd: root }).status, 0);
    const parsed = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as LockFile;
    const r = cli(['lock', 'show', lockFile], { cwd: root });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^strategy  ${parsed.strategy}\\b`, 'm'));
    const order = [...r.stdout.matchAll(/^ {2}(prostate-\w+) +(\S+)/gm)].map((m) => m[1]);
    const expected = Object.entries(parsed.weights).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([n]) => n);
    assert.deepEqual(order, expected);
    const damaged = path.join(root, 'damaged.compose.lock');
    fs.writeFileSync(damaged, '<<<<<<< HEAD\n{}\n');
    const d = cli(['lock', 'show', damaged], { cwd: root });
    assert.equal(d.status, 0);
    assert.match(d.stdout, /^# not a readable lock/);
    assert.match(d.stdout, /<<<<<<< HEAD/);
    assert.equal(cli(['lock', 'show', path.join(root, 'none.compose.lock')], { cwd: root }).status, 1);
    // Hostile nesting (JSON.parse takes it; recursive readers would overflow): refused as damaged.
    const deep = path.join(root, 'deep.compose.lock');
    fs.writeFileSync(deep, JSON.stringify({ ...parsed, parameters: { ...parsed.parameters, deep: 0 } }).replace('"deep":0', `"deep":${'['.repeat(50000)}${']'.repeat(50000)}`));
    const shown = cli(['lock', 'show', deep], { cwd: root });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^# not a readable lock .*nested deeper than/);
    const diffed = cli(['diff', deep, lockFile], { cwd: root });
    assert.equal(diffed.status, 1);
    assert.match(diffed.stderr, /cannot read the lock file: values nested deeper than/);
  });
});
