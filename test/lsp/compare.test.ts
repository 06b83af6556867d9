/**
 * "Compare with HEAD" over real LSP traffic: the `adapterCompose/compareWithRevision` request returns
 * the diff between the recipe's lock in the working tree and at HEAD, checked against the two locks
 * read here; and a located, actionable failure when the recipe has no lock at HEAD.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CompareRequest, type CompareResult } from '../../server/src/protocol';
import { cli, ensureBuilt } from '../hardening/workspace';
import { buildFixture, removeFixture, type Fixture } from './fixture';
import { ServerClient } from './lspClient';

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

type Lock = { weights: Record<string, number>; candidates: { name: string }[]; strategy: string };

describe('adapterCompose/compareWithRevision (Compare with HEAD)', () => {
  let fixture: Fixture | undefined;
  let client: ServerClient | undefined;
  let headLock: Lock;
  let workLock: Lock;

  before(async () => {
    ensureBuilt();
    fixture = await buildFixture('ac-lsp-compare-');
    const root = fixture.root;
    const compose = () => assert.equal(cli(['compose', fixture!.goodRecipe], { cwd: root }).status, 0);
    git(root, 'init', '-q', '-b', 'main');
    compose();
    git(root, 'add', 'recipes');
    git(root, 'commit', '-q', '-m', 'sparse');
    fs.writeFileSync(fixture.goodRecipe, fs.readFileSync(fixture.goodRecipe, 'utf8').replace('  strategy: sparse\n  lambda: 0.05\n', '  strategy: convex\n').replace('  k: 4\n', '  k: 5\n'));
    compose();
    const lockFile = fixture.goodRecipe.replace(/\.compose\.yaml$/, '.compose.lock');
    headLock = JSON.parse(git(root, 'show', 'HEAD:recipes/prostate-e.compose.lock')) as Lock;
    workLock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as Lock;
    client = new ServerClient({ workspace: root });
    await client.initialize();
  });
  after(async () => {
    await client?.stop();
    removeFixture(fixture);
  });

  it('returns every weight old → new with Δ, sorted by |Δ| then name, and the changed strategy', async () => {
    const result = await client!.request<CompareResult>(CompareRequest, { uri: pathToFileURL(fixture!.goodRecipe).toString() });
    assert.equal(result.old, 'HEAD:recipes/prostate-e.compose.lock');
    assert.equal(result.new, 'recipes/prostate-e.compose.lock');
    const names = (l: Lock) => new Set([...l.candidates.map((c) => c.name), ...Object.keys(l.weights)]);
    const [a, b] = [names(headLock), names(workLock)];
    const expected = [...new Set([...a, ...b])]
      .map((n) => ({ adapter: n, old: a.has(n) ? headLock.weights[n] ?? 0 : null, new: b.has(n) ? workLock.weights[n] ?? 0 : null }))
      .map((w) => ({ ...w, delta: (w.new ?? 0) - (w.old ?? 0) }))
      .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || (x.adapter < y.adapter ? -1 : 1));
    assert.deepEqual(result.weights.map((w) => [w.adapter, w.old, w.new]), expected.map((w) => [w.adapter, w.old, w.new]));
    for (const [i, w] of result.weights.entries()) assert.ok(Math.abs(w.delta - expected[i].delta) < 1e-12);
    assert.deepEqual(result.added, [...b].filter((n) => !a.has(n)).sort());
    assert.deepEqual(result.changed.find((c) => c.field === 'strategy'), { field: 'strategy', old: headLock.strategy, new: workLock.strategy });
    assert.equal(result.same, false);
  });

  it('fails with what to do when the lock is not at HEAD, and the server keeps answering', async () => {
    const copy = path.join(fixture!.recipes, 'copy.compose.yaml');
    fs.copyFileSync(fixture!.goodRecipe, copy);
    const noLock = await client!.request(CompareRequest, { uri: pathToFileURL(copy).toString() }).then(() => undefined, (e: Error) => e);
    assert.match(String(noLock?.message), /no lock file .*copy\.compose\.lock[\s\S]*compose the recipe first/);
    assert.equal(cli(['compose', copy], { cwd: fixture!.root }).status, 0);
    const notAtHead = await client!.request(CompareRequest, { uri: pathToFileURL(copy).toString() }).then(() => undefined, (e: Error) => e);
    assert.match(String(notAtHead?.message), /recipes\/copy\.compose\.lock does not exist at HEAD/);
    const again = await client!.request<CompareResult>(CompareRequest, { uri: pathToFileURL(fixture!.goodRecipe).toString() });
    assert.equal(again.same, false);
  });
});
