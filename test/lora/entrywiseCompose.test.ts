// compose with an entry-wise method through the CLI: the lock records method, density, seed and
// normalize, and composing again under --locked reproduces the same bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { writePeft } from '../lsp/fixture';
import { cli, ensureBuilt, sameSnapshot, snapshot } from '../hardening/workspace';

let ws = '';

function ok(args: string[]) {
  const r = cli(args, { cwd: ws, timeoutMs: 120_000 });
  assert.equal(r.status, 0, `${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

before(() => {
  ensureBuilt();
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-entrywise-compose-'));
  writePeft(path.join(ws, 'adapters', 'a'), 'toy', 2, 1);
  writePeft(path.join(ws, 'adapters', 'b'), 'toy', 2, 2);
  fs.writeFileSync(path.join(ws, 'p1.npy'), encodeNpy(Float32Array.of(1, 0, 0), [3]));
  fs.writeFileSync(path.join(ws, 'p2.npy'), encodeNpy(Float32Array.of(0, 1, 0), [3]));
  fs.writeFileSync(path.join(ws, 'target.npy'), encodeNpy(Float32Array.of(0.6, 0.4, 0), [3]));
  ok(['library', 'init', 'library', '--dim', '3']);
  ok(['library', 'add', 'library', 'adapters/a', '--name', 'a', '--prototype', 'p1.npy']);
  ok(['library', 'add', 'library', 'adapters/b', '--name', 'b', '--prototype', 'p2.npy']);
  fs.mkdirSync(path.join(ws, 'recipes'));
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

test('compose dare_ties: the lock records method, density, seed, normalize; --locked reproduces the bytes', () => {
  const file = path.join(ws, 'recipes', 'dt.compose.yaml');
  fs.writeFileSync(file, 'compose: 1\nname: dt\nbase: toy\nlibrary: ../library\ntarget:\n  prototype: ../target.npy\nretrieve:\n  adapters: [a, b]\nweights:\n  strategy: avg\nmerge: { method: dare_ties, density: 0.5, rank: 4, seed: 9 }\noutput: ../out/dt\n');
  ok(['compose', 'recipes/dt.compose.yaml']);
  const lock = JSON.parse(fs.readFileSync(path.join(ws, 'recipes', 'dt.compose.lock'), 'utf8'));
  assert.equal(lock.merge.method, 'dare_ties');
  assert.equal(lock.merge.density, 0.5);
  assert.equal(lock.merge.seed, 9);
  assert.equal(lock.merge.normalize, false);
  assert.equal(lock.merge.rank, 4);
  const composition = JSON.parse(fs.readFileSync(path.join(ws, 'out', 'dt', 'composition.json'), 'utf8'));
  assert.equal(composition.seed, 9);
  const before = snapshot(path.join(ws, 'out', 'dt'));
  const lockBytes = fs.readFileSync(path.join(ws, 'recipes', 'dt.compose.lock'));
  ok(['compose', 'recipes/dt.compose.yaml', '--locked']);
  assert.ok(sameSnapshot(before, snapshot(path.join(ws, 'out', 'dt'))), 'same bytes under --locked');
  assert.ok(lockBytes.equals(fs.readFileSync(path.join(ws, 'recipes', 'dt.compose.lock'))));
});
