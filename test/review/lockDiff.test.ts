/**
 * `diff` and `lock show` through the CLI: evaluator metrics old → new from the real run history (two
 * composes with an evaluator, `diff a.lock b.lock --json`); `lock show` on a lock and on a damaged file.
 * diffLocks itself is tested in lockDiffUnit.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LockFile } from '../../server/src/engine/lock';
import { buildFixture, removeFixture, type Fixture } from '../lsp/fixture';
import { cli, ensureBuilt } from '../hardening/workspace';

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
