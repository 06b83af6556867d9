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
    // out/ is the composites' folder, but only what compose wrote there (and left unchanged) is the demo's
    ['notes of their own in out/', (ws) => {
      fs.mkdirSync(path.join(ws, 'out'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'out', 'results.md'), 'what I found comparing the strategies');
    }],
    ['a folder of their own in out/', (ws) => {
      fs.mkdirSync(path.join(ws, 'out', 'my-finetune'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'out', 'my-finetune', 'adapter_model.safetensors'), 'weights trained for a day');
    }],
    ['a composite they edited in out/', (ws) => {
      const recipe = path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.yaml'))!);
      const composed = cli(['compose', recipe], { cwd: ws });
      assert.equal(composed.status, 0, composed.stderr);
      const folder = path.join(ws, 'out', fs.readdirSync(path.join(ws, 'out'))[0]);
      fs.appendFileSync(path.join(folder, 'adapter_config.json'), ' ');
    }],
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

test('library add-base that fails never removes a folder the user had (nor leaves its zero adapter behind)', () => {
  const ws = copyOfDemo();
  const like = path.join(ws, 'adapters', fs.readdirSync(path.join(ws, 'adapters'))[0]);
  const libraryBefore = snapshot(path.join(ws, 'library'));
  // an empty folder of the user's (a mount point, a folder made for it): the add fails after the zero adapter is written
  const mine = path.join(ws, 'mine');
  fs.mkdirSync(mine);
  const failed = cli(['library', 'add-base', 'library', mine, '--like', like, '--samples', 'data/nothing/*.npy'], { cwd: ws });
  assert.equal(failed.status, 1, failed.stdout);
  assert.match(failed.stderr, /no sample files match/);
  assert.ok(fs.statSync(mine).isDirectory(), 'the user\'s folder was removed');
  assert.deepEqual(fs.readdirSync(mine), []);
  // a name the library already has: refused after writing, the zero adapter is taken back
  const taken = fs.readdirSync(path.join(ws, 'adapters'))[1];
  const fresh = path.join(ws, 'zero');
  const dup = cli(['library', 'add-base', 'library', fresh, '--like', like, '--name', taken, '--samples', `data/${taken}/*.npy`], { cwd: ws });
  assert.equal(dup.status, 1, dup.stdout);
  assert.ok(!fs.existsSync(fresh), 'the zero adapter of a refused add stays behind');
  assert.ok(sameSnapshot(snapshot(path.join(ws, 'library')), libraryBefore));
  // and a folder that did not exist is made and kept when the add succeeds
  const ok = cli(['library', 'add-base', 'library', fresh, '--like', like, '--samples', `data/${taken}/*.npy`], { cwd: ws });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(fs.readdirSync(fresh).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
});

test('eval --with-evaluator reads nothing compose would refuse: paths outside the workspace, FIFOs', () => {
  const ws = copyOfDemo();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hostile-new-outside-'));
  made.push(outside);
  const recipeOf = (evaluateModel: string, library = '../library') => {
    const base = fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.compose.yaml'))!;
    const text = fs.readFileSync(path.join(ws, 'recipes', base), 'utf8').replace(/^library: .*$/m, `library: ${library}`).replace(/^output: .*$/m, 'output: ../out/ev');
    const task = /^ {2}samples: \.\.\/data\/([^/]+)\//m.exec(text)![1];
    const file = path.join(ws, 'recipes', `ev-${made.length}-${Math.random().toString(36).slice(2, 8)}.compose.yaml`);
    fs.writeFileSync(file, `${text}evaluate:\n  builtin: classification\n  model: ${evaluateModel}\n  data: ../data/${task}/samples.npy\n  labels: ../data/${task}/samples.npy\n`);
    return file;
  };
  // a model folder outside the workspace whose config.json is a FIFO: read (and hung) before
  fs.mkdirSync(path.join(outside, 'model'));
  spawnSync('mkfifo', [path.join(outside, 'model', 'config.json')]);
  fs.writeFileSync(path.join(outside, 'model', 'model.safetensors'), '');
  const out = cli(['eval', '--leave-one-out', '--with-evaluator', recipeOf(path.join(outside, 'model'))], { cwd: ws, timeoutMs: 30_000 });
  assert.equal(out.signal, null, 'eval hung on a FIFO outside the workspace');
  assert.equal(out.status, 1, out.stdout);
  assert.match(out.stderr, /evaluate\.model .* is outside the workspace/);
  // the same FIFO inside the workspace: refused as not a regular file, never read
  fs.mkdirSync(path.join(ws, 'model'));
  spawnSync('mkfifo', [path.join(ws, 'model', 'config.json')]);
  fs.writeFileSync(path.join(ws, 'model', 'model.safetensors'), '');
  const fifo = cli(['eval', '--leave-one-out', '--with-evaluator', recipeOf('../model')], { cwd: ws, timeoutMs: 30_000 });
  assert.equal(fifo.signal, null, 'eval hung on a FIFO config.json');
  assert.equal(fifo.status, 1, fifo.stdout);
  assert.match(fifo.stderr, /FIFO|not a regular file/);
  // a library outside the workspace: compose refuses it, so does eval
  fs.cpSync(path.join(ws, 'library'), path.join(outside, 'library'), { recursive: true });
  const lib = cli(['eval', '--leave-one-out', '--with-evaluator', recipeOf('../model', path.join(outside, 'library'))], { cwd: ws, timeoutMs: 30_000 });
  assert.equal(lib.status, 1, lib.stdout);
  assert.match(lib.stderr, /outside the workspace/);
});

test('lock show and diff refuse a lock that is a FIFO or a link to /dev/zero instead of hanging', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hostile-new-locks-'));
  made.push(dir);
  const zero = path.join(dir, 'zero.compose.lock');
  const fifo = path.join(dir, 'fifo.compose.lock');
  fs.symlinkSync('/dev/zero', zero);
  spawnSync('mkfifo', [fifo]);
  for (const args of [['lock', 'show', zero], ['lock', 'show', fifo], ['lock', 'show', '--json', fifo], ['diff', zero, fifo], ['diff', fifo, zero]]) {
    const r = cli(args, { cwd: dir, timeoutMs: 20_000 });
    assert.equal(r.signal, null, `${args.join(' ')} hung`);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout.slice(0, 200)}`);
    assert.match(r.stderr, /character device|FIFO/, args.join(' '));
  }
});

test('a hostile lock cannot inject terminal escapes, lines or Markdown into lock show, diff and the pull-request comment', () => {
  const ws = copyOfDemo();
  const recipe = path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.compose.yaml'))!);
  const composed = cli(['compose', recipe], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  const victim = lock.candidates[0].name as string;
  // OSC 52 (clipboard write), erase line, a workflow command on a line of its own, a forged table row, HTML
  const hostile = `${victim}\u001b[2K\u001b]52;c;ZXZpbA==\u0007\n::error::pwned\r\n| approved | 1 | 1 | 0 |\`<img src=x>\u2028`;
  lock.candidates[0].name = hostile;
  lock.weights[hostile] = lock.weights[victim];
  delete lock.weights[victim];
  lock.recipe.path = `${lock.recipe.path}\u001b[31m\n::warning::forged`;
  const forged = path.join(ws, 'forged.compose.lock');
  fs.writeFileSync(forged, JSON.stringify(lock, null, 2));
  const runs = {
    show: cli(['lock', 'show', forged], { cwd: ws }),
    text: cli(['diff', lockFile, forged], { cwd: ws }),
    markdown: cli(['diff', lockFile, forged, '--format', 'markdown'], { cwd: ws }),
  };
  for (const [what, r] of Object.entries(runs)) {
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/, `${what}: a control character reached the output`);
    for (const line of r.stdout.split('\n')) {
      assert.ok(!/^\s*::/.test(line), `${what}: a workflow command line: ${line}`);
      assert.ok(!line.startsWith('| approved'), `${what}: a forged row: ${line}`);
    }
    assert.match(r.stdout, /\\u001b/, `${what}: the escape is shown, not dropped`);
  }
  // the lock show lines are one per fact: the forged name is one weight row
  assert.equal(runs.show.stdout.split('\n').filter((l) => l.includes('pwned')).length, 1);
  // Markdown: the forged name stays in its cell (the row has the table's 4 cells), no raw HTML
  const row = runs.markdown.stdout.split('\n').find((l) => l.includes('pwned') && l.startsWith('| '))!;
  assert.equal(row.split(/(?<!\\)\|/).length - 2, 4, row);
  for (const l of runs.markdown.stdout.split('\n').filter((x) => x.startsWith('|'))) assert.doesNotMatch(l, /(?<!\\)<img/, l);
  // the added name is one code span that its own backtick cannot close
  assert.match(runs.markdown.stdout, /\*\*added\*\* ``legal[^\n]*`<img src=x>[^\n]*`` ·/);
});

test('a recipe cannot inject lines (workflow commands) or terminal escapes into check and compose text output', () => {
  const ws = copyOfDemo();
  const base = path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.compose.yaml'))!);
  const file = path.join(ws, 'recipes', 'inject.compose.yaml');
  fs.writeFileSync(file, `${fs.readFileSync(base, 'utf8').replace(/^ {2}exclude: \[(.*)\]$/m, '  exclude: ["$1\\n::warning::forged\\u001b]52;c;ZXZpbA==\\u0007"]')}"x\\n::add-mask::secret\\r::error file=a.ts::pwned\\u001b[2K": 1\n`);
  for (const args of [['check', file], ['compose', file], ['plan', file]]) {
    const r = cli(args, { cwd: ws });
    assert.equal(r.status, 1, `${args[0]}: ${r.stdout}`);
    const all = `${r.stdout}\n${r.stderr}`;
    assert.match(all, /unknown key/, args[0]);
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(all, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/, `${args[0]}: a control character reached the output`);
    for (const line of all.split('\n')) assert.ok(!/^\s*::/.test(line), `${args[0]}: a workflow command line: ${line}`);
    assert.match(all, /x\\n::add-mask::secret\\r::error/, `${args[0]}: the key is shown escaped`);
  }
});

test('merge.seed beyond 2^53 − 1: check gives the located error compose gives (it passed check, then compose refused it unlocated)', () => {
  const ws = copyOfDemo();
  const base = path.join(ws, 'recipes', fs.readdirSync(path.join(ws, 'recipes')).find((f) => f.endsWith('.compose.yaml'))!);
  for (const seed of ['9007199254740993', '1e300', String(2 ** 53)]) {
    const file = path.join(ws, 'recipes', `seed-${seed.replace(/\W/g, '')}.compose.yaml`);
    const text = fs.readFileSync(base, 'utf8').replace(/^ {2}method: \w+$/m, `  method: dare_linear\n  density: 0.5\n  seed: ${seed}`).replace(/^ {2}rank: .*$/m, '');
    fs.writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.startsWith('  seed:')) + 1;
    const check = cli(['check', file], { cwd: ws });
    const compose = cli(['compose', file], { cwd: ws });
    assert.equal(check.status, 1, `seed ${seed}: check passed: ${check.stdout}`);
    assert.equal(compose.status, 1, `seed ${seed}: ${compose.stderr}`);
    for (const r of [check.stdout, compose.stderr]) assert.match(r, new RegExp(`:${line}:\\d+: (error: )?\`merge\\.seed\``), `seed ${seed}: ${r}`);
  }
});

test('a reader that closes the pipe early (| head) ends the output without a crash', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('./workspace');
  for (const args of [['library', 'ls', path.join(demo, 'library')], ['--help']]) {
    // the read end is closed before the CLI writes: every write fails with EPIPE
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.doesNotMatch(stderr, /Unhandled 'error' event|EPIPE|internal error/, `${args.join(' ')}: ${stderr}`);
    assert.equal(status, 0, `${args.join(' ')}: ${stderr}`);
  }
});
