/**
 * Hostile inputs, fifth round: "never destroy, never escape, never hang" for what a committed library
 * steers (its own files, the adapter paths of its rows) and for an output swapped for a symbolic link
 * after compose's checks (see docs/reliability.md, "fifth round"). Real CLI on a demo workspace; every
 * attack compares the files it targets byte for byte before and after.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli, demoWorkspace, ensureBuilt, sameSnapshot, snapshot } from './workspace';

let demo: string;

before(() => {
  ensureBuilt();
  demo = demoWorkspace('ac-fifth-');
});

const made: string[] = [];
after(() => {
  for (const dir of [demo, ...made]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function workspaceCopy(): string {
  const dir = tempDir('ac-fifth-ws-');
  fs.cpSync(demo, dir, { recursive: true });
  return dir;
}

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

/** A data fragment of the library's adapters table. */
function aFragment(ws: string): string {
  const data = path.join(ws, 'library', 'adapters.lance', 'data');
  return path.join(data, fs.readdirSync(data).sort()[0]);
}

test('a library data fragment that is a FIFO: library ls, check and plan end with an error naming it (they hung)', () => {
  const ws = workspaceCopy();
  const fragment = aFragment(ws);
  fs.rmSync(fragment);
  mkfifo(fragment);
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  for (const args of [['library', 'ls', 'library'], ['check', recipe], ['plan', recipe]]) {
    const r = cli(args, { cwd: ws, timeoutMs: 20_000 });
    assert.equal(r.signal, null, `${args.join(' ')} hung`);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, new RegExp(`${path.basename(fragment)} is a FIFO \\(named pipe\\), not a regular file`), args.join(' '));
  }
});

test('a library whose data folder is a symbolic link out of it: library add, rm and index write nothing there (add wrote a fragment through it)', () => {
  const ws = workspaceCopy();
  const elsewhere = tempDir('ac-fifth-elsewhere-');
  const data = path.join(ws, 'library', 'adapters.lance', 'data');
  fs.cpSync(data, elsewhere, { recursive: true });
  fs.rmSync(data, { recursive: true });
  fs.symlinkSync(elsewhere, data);
  const before = snapshot(elsewhere);
  for (const args of [
    ['library', 'add', 'library', 'adapters/code-14', '--name', 'code-14b', '--samples', 'data/code-14/*.npy'],
    ['library', 'rm', 'library', 'code-14'],
    ['library', 'index', 'library', '--force'],
  ]) {
    const r = cli(args, { cwd: ws, timeoutMs: 30_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`adapters\\.lance/data is a symbolic link out of .*library`), args.join(' '));
    assert.ok(sameSnapshot(before, snapshot(elsewhere)), `${args.join(' ')}: nothing written outside the library`);
  }
});

test('a run history whose runs table links out of the library: compose writes no run there (it did) and history reads none, each naming the link', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const first = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(first.status, 0, first.stderr);
  const runsData = path.join(ws, 'library', 'runs.lance', 'data');
  assert.ok(fs.existsSync(runsData), 'compose recorded its run in the library');
  const elsewhere = tempDir('ac-fifth-runs-');
  fs.cpSync(runsData, elsewhere, { recursive: true });
  fs.rmSync(runsData, { recursive: true });
  fs.symlinkSync(elsewhere, runsData);
  const before = snapshot(elsewhere);
  const again = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(again.status, 1, again.stderr);
  assert.match(again.stderr, /grammar-01\.compose\.yaml:\d+:\d+: .*runs\.lance\/data is a symbolic link out of/);
  assert.ok(sameSnapshot(before, snapshot(elsewhere)), 'no run written outside the library');
  const history = cli(['history', recipe], { cwd: ws });
  assert.equal(history.status, 1, history.stdout + history.stderr);
  assert.match(history.stderr, /runs\.lance\/data is a symbolic link out of/);
});
