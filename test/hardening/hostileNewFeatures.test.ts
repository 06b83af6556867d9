/**
 * Third hostile-input round, on the features that landed after the second: `demo` reruns,
 * `library add-base`, `lock show` (a git textconv), `diff`, `check --format github`, the entry-wise
 * merge methods. Each test is an attack that destroyed, hung or lied before its fix (real CLI, real
 * LanceDB, real safetensors), and compares the files it must not touch byte for byte.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { cli, demoWorkspace, ensureBuilt, sameSnapshot, snapshot } from './workspace';

let demo: string;
const made: string[] = [];

before(() => {
  ensureBuilt();
  demo = demoWorkspace('ac-hostile-new-');
  made.push(demo);
});

after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function copyOfDemo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hostile-new-copy-'));
  made.push(dir);
  fs.cpSync(demo, dir, { recursive: true });
  return dir;
}

test('demo --out over a previous demo never removes what the user added or edited inside it', () => {
  const cases: [string, (ws: string) => void][] = [
    ['a recipe of their own in recipes/', (ws) => fs.writeFileSync(path.join(ws, 'recipes', 'mine.compose.yaml'), 'compose: 1\n# my work\n')],
    ['an edited demo recipe', (ws) => fs.appendFileSync(path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes'))[0]), '# tuned by hand\n')],
    ['an adapter folder of their own in adapters/', (ws) => {
      fs.mkdirSync(path.join(ws, 'adapters', 'my-adapter'));
      fs.writeFileSync(path.join(ws, 'adapters', 'my-adapter', 'notes.txt'), 'three days of training');
    }],
    ['a repository inside recipes/', (ws) => {
      fs.mkdirSync(path.join(ws, 'recipes', '.git'));
      fs.writeFileSync(path.join(ws, 'recipes', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    }],
    ['a symlink in data/', (ws) => fs.symlinkSync(path.join(ws, 'README.md'), path.join(ws, 'data', 'readme-link'))],
  ];
  for (const [what, change] of cases) {
    const ws = copyOfDemo();
    change(ws);
    const beforeRun = snapshot(ws);
    const r = cli(['demo', '--out', ws], { cwd: os.tmpdir() });
    assert.equal(r.status, 1, `${what}: ${r.stdout}`);
    assert.match(r.stderr, /previous demo but now also holds/, what);
    assert.ok(sameSnapshot(snapshot(ws), beforeRun), `${what}: the folder changed`);
  }
  // an untouched demo, with its composites and the demo recipes' locks, is still replaced
  const ws = copyOfDemo();
  const recipe = path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.yaml'))!);
  const composed = cli(['compose', recipe], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  assert.ok(fs.existsSync(recipe.replace(/\.yaml$/, '.lock')));
  const again = cli(['demo', '--out', ws], { cwd: os.tmpdir() });
  assert.equal(again.status, 0, again.stderr);
  assert.ok(!fs.existsSync(path.join(ws, 'out')));
  assert.ok(!fs.existsSync(recipe.replace(/\.yaml$/, '.lock')));
});
