/**
 * Hostile inputs, sixth round (docs/reliability.md, "sixth round"): what the earlier rounds did not
 * attack — the Markdown `plan` and `eval` write for a pull-request comment, and the other attacks
 * listed there. Real CLI on a demo workspace (real LanceDB, real safetensors); each test failed before
 * its fix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli, demoWorkspace, ensureBuilt } from './workspace';

let demo: string;

before(() => {
  ensureBuilt();
  demo = demoWorkspace('ac-sixth-');
});

const made: string[] = [];
after(() => {
  for (const dir of [demo, ...made]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function workspaceCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-sixth-ws-'));
  made.push(dir);
  fs.cpSync(demo, dir, { recursive: true });
  return dir;
}

/**
 * A name as a pull request could commit it in a library row (`library add` takes it: it holds no
 * control character): an HTML comment that would hide the rest of the comment, an image that loads a
 * tracking pixel, a link, a cell break and an emphasis.
 */
const HOSTILE_NAME = 'grammar-02 <!-- | ![p](https://evil.example/p.png) [ok](https://evil.example) <img src=x> **x**';

/** The line with its backslash escapes removed: what is left is Markdown syntax. */
const unescaped = (line: string) => line.replace(/\\./g, '');

/** No raw HTML, image or inline link anywhere, and every table row has its header's cell count. */
function assertInert(md: string, what: string): void {
  let cells: number | undefined;
  for (const line of md.split('\n')) {
    const bare = unescaped(line);
    assert.doesNotMatch(bare, /[<>]/, `${what}: raw HTML in ${JSON.stringify(line)}`);
    assert.doesNotMatch(bare, /\]\(/, `${what}: a link or an image in ${JSON.stringify(line)}`);
    if (!line.startsWith('|')) {
      cells = undefined;
      continue;
    }
    const n = bare.split('|').length;
    cells ??= n;
    assert.equal(n, cells, `${what}: ${JSON.stringify(line)} has another number of cells than its header`);
  }
}

test('a library row named with HTML, an image, a link and a `|`: plan and eval --format markdown (the pull-request comment) keep it inert text', () => {
  const ws = workspaceCopy();
  fs.cpSync(path.join(ws, 'adapters', 'grammar-02'), path.join(ws, 'adapters', 'pr-row'), { recursive: true });
  // the target's own samples: the row is the nearest candidate, so the plan weights it
  const add = cli(['library', 'add', 'library', 'adapters/pr-row', '--name', HOSTILE_NAME, '--samples', 'data/grammar-01/*.npy'], { cwd: ws });
  assert.equal(add.status, 0, add.stderr);

  const plan = cli(['plan', 'recipes/grammar-01.compose.yaml', '--format', 'markdown'], { cwd: ws });
  assert.equal(plan.status, 0, plan.stderr);
  assert.ok(plan.stdout.includes('grammar-02 \\<!--'), plan.stdout);
  assertInert(plan.stdout, 'plan --format markdown');

  const evaluation = cli(['eval', 'library', '--leave-one-out', '--distances', '--format', 'markdown'], { cwd: ws });
  assert.equal(evaluation.status, 0, evaluation.stderr);
  assert.ok(evaluation.stdout.includes('grammar-02 \\<!--'), evaluation.stdout);
  assertInert(evaluation.stdout, 'eval --leave-one-out --format markdown');
});
