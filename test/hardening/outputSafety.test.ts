/**
 * Never destroy: recipes whose `output:` names a folder compose must not replace (`..`, `.`, the
 * library, an input adapter, a folder of the user's), `compose --locked` that would fail, `file://`
 * libraries that leave the workspace, leftovers of other outputs, a user's `<output>.composing`, and
 * `demo --out` over a folder that grew a repository. Each must fail with a located message and leave
 * every file as it was; `check` reports the same outputs as errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compose } from '../../server/src/engine/compose';
import { createPlanner } from '../../server/src/engine/planner';
import { isComposerError } from '../../server/src/engine/errors';
import { localPath, isRemoteUri } from '../../server/src/engine/location';
import { cli, demoWorkspace, ensureBuilt, sameSnapshot, snapshot } from './workspace';

let demo: string;

before(() => {
  ensureBuilt();
  demo = demoWorkspace('ac-hardening-output-');
});

/**
 * A fresh copy of the demo workspace (attacks that, unfixed, delete the folder get their own). Its
 * library still names the original demo's adapters (read, never written, by these tests).
 */
function workspaceCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-output-ws-'));
  fs.cpSync(demo, dir, { recursive: true });
  return dir;
}

function recipe(ws: string, name: string, changes: Record<string, string>): string {
  let text = fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8');
  for (const [key, value] of Object.entries(changes)) {
    const re = new RegExp(`^${key}:.*(?:\\n[ \\t]+.*)*`, 'm');
    text = re.test(text) ? text.replace(re, `${key}: ${value}`) : `${text}\n${key}: ${value}\n`;
  }
  const file = path.join(ws, 'recipes', `${name}.compose.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

function lineOf(file: string, key: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith(`${key}:`)) + 1;
}

/** compose must refuse with a message located at the recipe's `output:` line. */
async function refusedAtOutput(file: string, ws: string, pattern: RegExp, options: Parameters<typeof compose>[1] = {}): Promise<void> {
  try {
    await compose(file, { workspaceRoot: ws, ...options });
  } catch (e) {
    assert.ok(isComposerError(e), `not a ComposerError: ${(e as Error)?.stack}`);
    assert.match(e.message, pattern);
    assert.equal(e.location?.file, file);
    assert.equal(e.location?.line, lineOf(file, 'output'), `located at output: ${JSON.stringify(e.location)} ${e.message}`);
    return;
  }
  assert.fail(`compose of ${path.basename(file)} should have been refused`);
}

async function outputProblems(file: string, ws: string): Promise<{ code: string; severity: string; line: number }[]> {
  const planner = createPlanner();
  try {
    const outcome = await planner.plan(fs.readFileSync(file, 'utf8'), file, { workspaceRoot: ws });
    return outcome.problems.filter((p) => p.path?.[0] === 'output').map((p) => ({ code: p.code, severity: p.severity, line: p.range.start.line + 1 }));
  } finally {
    await planner.dispose();
  }
}

test('`output: ..` and `output: .` never delete the folder: check reports an error, compose refuses, nothing changes (even with --force)', async () => {
  const ws = workspaceCopy();
  fs.mkdirSync(path.join(ws, '.git'));
  fs.writeFileSync(path.join(ws, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  fs.writeFileSync(path.join(ws, 'stray.safetensors'), 'a top-level *.safetensors made the old check think this was an adapter');
  fs.writeFileSync(path.join(ws, 'recipes', 'weights.safetensors'), 'same for the recipes folder');
  const before = snapshot(ws);
  for (const [name, output] of [['dotdot', '..'], ['dot', '.'], ['dot-slash', './'], ['recipes-by-name', '../recipes']] as const) {
    const file = recipe(ws, `out-${name}`, { output });
    const withRecipe = snapshot(ws);
    const check = cli(['check', file], { cwd: ws });
    assert.equal(check.status, 1, `check ${output}: ${check.stdout}${check.stderr}`);
    assert.match(check.stdout, new RegExp(`out-${name}\\.compose\\.yaml:${lineOf(file, 'output')}:\\d+: error: output .*(contains the recipe|the recipe's own folder|contains the workspace)`));
    await refusedAtOutput(file, ws, /recipe|workspace/);
    await refusedAtOutput(file, ws, /recipe|workspace/, { force: true, allowOutsideWorkspace: true });
    const run = cli(['compose', file, '--force'], { cwd: ws });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`out-${name}\\.compose\\.yaml:${lineOf(file, 'output')}:\\d+: .*output`));
    assert.doesNotMatch(run.stderr, /internal error/);
    assert.ok(sameSnapshot(snapshot(ws), withRecipe), `${output}: the workspace is unchanged`);
    fs.rmSync(file);
  }
  assert.ok(sameSnapshot(snapshot(ws), before));
  // the workspace root itself, a .git folder, the home folder: protected whatever the recipe's place
  for (const [name, output, pattern] of [
    ['git', '../.git', /\.git/],
    ['inside-git', '../.git/objects/x', /\.git/],
    ['home', os.homedir(), /home folder|outside the workspace/],
  ] as const) {
    const file = recipe(ws, `out-${name}`, { output });
    await refusedAtOutput(file, ws, pattern, { force: true, allowOutsideWorkspace: name !== 'home' ? true : undefined });
    fs.rmSync(file);
  }
  assert.ok(sameSnapshot(snapshot(ws), before));
  fs.rmSync(ws, { recursive: true, force: true });
});

test('an output that is, contains or lies inside an input adapter or the library is an error in check and compose', async () => {
  const ws = demoWorkspace('ac-output-adapters-'); // its own (a copy's library would point at the original's adapters)
  const planner = createPlanner();
  const probe = recipe(ws, 'probe', {});
  const outcome = await planner.plan(fs.readFileSync(probe, 'utf8'), probe, { workspaceRoot: ws });
  await planner.dispose();
  const candidate = outcome.candidates![0];
  const candidateRel = path.relative(path.join(ws, 'recipes'), candidate.path);
  fs.symlinkSync(candidate.path, path.join(ws, 'link-to-adapter'));
  const inputs = () => [snapshot(path.join(ws, 'adapters')), snapshot(path.join(ws, 'library'))];
  const before = inputs();
  const cases: [string, string, string][] = [
    ['is-adapter', candidateRel, 'output-overlaps-adapter'],
    ['inside-adapter', `${candidateRel}/composite`, 'output-overlaps-adapter'],
    ['contains-adapters', '../adapters', 'output-overlaps-adapter'],
    ['symlinked-adapter', '../link-to-adapter', 'output-overlaps-adapter'],
    ['is-library', '../library', 'output-in-library'],
    ['inside-library', '../library/composed', 'output-in-library'],
  ];
  for (const [name, output, code] of cases) {
    const file = recipe(ws, `adapter-${name}`, { output });
    const problems = await outputProblems(file, ws);
    const hit = problems.find((p) => p.code === code);
    assert.ok(hit, `${name}: ${JSON.stringify(problems)}`);
    assert.equal(hit.severity, 'error');
    assert.equal(hit.line, lineOf(file, 'output'));
    await refusedAtOutput(file, ws, /overlaps|library|adapter/, { force: true });
    fs.rmSync(file);
  }
  const now = inputs();
  assert.ok(sameSnapshot(now[0], before[0]) && sameSnapshot(now[1], before[1]), 'no input adapter or library file changed');
  fs.rmSync(ws, { recursive: true, force: true });
});

test('a non-empty folder compose did not write is replaced only with --force; its own outputs (marker or lock record) are replaced freely', async () => {
  const ws = workspaceCopy();
  const notes = path.join(ws, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'thesis.txt'), 'years of work');
  const file = recipe(ws, 'notes', { output: '../notes' });
  const problems = await outputProblems(file, ws);
  assert.deepEqual(problems.map((p) => [p.code, p.severity]), [['output-not-composed', 'error']]);
  const check = cli(['check', file], { cwd: ws });
  assert.equal(check.status, 1);
  assert.match(check.stdout, /notes\.compose\.yaml:\d+:\d+: error: output .* non-empty folder that compose did not write .*--force/);
  await refusedAtOutput(file, ws, /did not write/);
  assert.equal(fs.readFileSync(path.join(notes, 'thesis.txt'), 'utf8'), 'years of work');
  // --force never replaces a folder with a repository anywhere inside it
  fs.mkdirSync(path.join(notes, 'chapters', 'drafts', '.git'), { recursive: true });
  fs.writeFileSync(path.join(notes, 'chapters', 'drafts', '.git', 'HEAD'), 'ref: refs/heads/main\n');
  const withRepo = snapshot(notes);
  const refusedRepo = cli(['compose', file, '--force'], { cwd: ws });
  assert.equal(refusedRepo.status, 1, refusedRepo.stdout);
  assert.match(refusedRepo.stderr, /\.git folder further down/);
  assert.ok(sameSnapshot(snapshot(notes), withRepo));
  fs.rmSync(path.join(notes, 'chapters'), { recursive: true });
  // the user says so: replaced
  const forced = cli(['compose', file, '--force'], { cwd: ws });
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(!fs.existsSync(path.join(notes, 'thesis.txt')) && fs.existsSync(path.join(notes, 'composition.json')));
  // compose's own output (composition.json): replaced without --force, check is clean
  assert.deepEqual(await outputProblems(file, ws), []);
  const again = await compose(file, { workspaceRoot: ws });
  assert.equal(again.output, notes);
  // an older composite without the marker that the lock records with matching hashes: still ours
  fs.rmSync(path.join(notes, 'composition.json'));
  const lock = JSON.parse(fs.readFileSync(again.lock, 'utf8'));
  lock.output.files = lock.output.files.filter((f: { path: string }) => f.path !== 'composition.json');
  fs.writeFileSync(again.lock, JSON.stringify(lock));
  await compose(file, { workspaceRoot: ws });
  // ...but not when a recorded file no longer matches (someone else's bytes now)
  fs.rmSync(path.join(notes, 'composition.json'));
  const lock2 = JSON.parse(fs.readFileSync(again.lock, 'utf8'));
  lock2.output.files = lock2.output.files.filter((f: { path: string }) => f.path !== 'composition.json');
  fs.writeFileSync(again.lock, JSON.stringify(lock2));
  fs.appendFileSync(path.join(notes, 'adapter_config.json'), ' ');
  await refusedAtOutput(file, ws, /did not write/);
  fs.rmSync(ws, { recursive: true, force: true });
});

test('compose --locked verifies before it writes: a drifted output fails and the previous output stays', async () => {
  const ws = workspaceCopy();
  const file = recipe(ws, 'locked', { output: '../out/locked' });
  const first = await compose(file, { workspaceRoot: ws });
  // (a note of the user's inside the output would make it a folder compose did not write alone: refused
  // before the drift is known, see fourthRound.test.ts)
  const lock = JSON.parse(fs.readFileSync(first.lock, 'utf8'));
  const weights = lock.output.files.find((f: { path: string }) => f.path.endsWith('.safetensors'));
  weights.sha256 = '0'.repeat(64); // the locked composite differs from what compose now produces
  fs.writeFileSync(first.lock, JSON.stringify(lock, null, 2));
  const outputBefore = snapshot(first.output);
  const lockBefore = fs.readFileSync(first.lock);
  await assert.rejects(compose(file, { workspaceRoot: ws, locked: true }), (e: unknown) => isComposerError(e) && /drifted/.test(e.message));
  assert.ok(sameSnapshot(snapshot(first.output), outputBefore), 'the output was not replaced');
  assert.deepEqual(fs.readFileSync(first.lock), lockBefore, 'nor the lock');
  assert.deepEqual(fs.readdirSync(path.dirname(first.output)).filter((e) => e.startsWith('.')), [], 'no staging folder left');
  fs.rmSync(ws, { recursive: true, force: true });
});

test('composition.json records input paths relative to the composite, not absolute', async () => {
  const ws = workspaceCopy();
  const file = recipe(ws, 'relative', { output: '../out/relative' });
  const result = await compose(file, { workspaceRoot: ws });
  const text = fs.readFileSync(path.join(result.output, 'composition.json'), 'utf8');
  assert.ok(!text.includes(ws) && !text.includes(os.tmpdir()), text);
  const composition = JSON.parse(text) as { inputs: { name: string; path: string }[] };
  const planner = createPlanner();
  const outcome = await planner.plan(fs.readFileSync(file, 'utf8'), file, { workspaceRoot: ws });
  await planner.dispose();
  const byName = new Map(outcome.candidates!.map((c) => [c.name, c.path]));
  assert.ok(composition.inputs.length > 0);
  for (const input of composition.inputs) {
    assert.ok(!path.isAbsolute(input.path), input.path);
    assert.equal(path.resolve(result.output, input.path), byName.get(input.name));
  }
  fs.rmSync(ws, { recursive: true, force: true });
});

test('file:// libraries: one parser; file:///elsewhere is confined like any absolute path, relative ones resolve from the recipe', async () => {
  // the parser itself
  assert.equal(localPath('file:///a/b%20c', '/base'), path.resolve('/a/b c'));
  assert.equal(localPath('file://localhost/a/b', '/base'), path.resolve('/a/b'));
  assert.equal(localPath('file://../lib', '/base/recipes'), path.resolve('/base/lib'));
  assert.equal(localPath('file://lib', '/base'), path.resolve('/base/lib'));
  assert.equal(localPath('../lib', '/base/recipes'), path.resolve('/base/lib'));
  assert.equal(localPath('s3://bucket/lib', '/base'), undefined);
  assert.ok(isRemoteUri('gs://b/x') && !isRemoteUri('file:///x') && !isRemoteUri('C:\\lib') && !isRemoteUri('lib'));

  const ws = workspaceCopy();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-output-outside-'));
  fs.cpSync(path.join(ws, 'library'), path.join(outside, 'library'), { recursive: true });
  const escape = recipe(ws, 'file-uri-escape', { library: `file://${path.join(outside, 'library')}` });
  try {
    await compose(escape, { workspaceRoot: ws });
    assert.fail('a file:// library outside the workspace was used');
  } catch (e) {
    assert.ok(isComposerError(e), String(e));
    assert.match(e.message, /library .* outside the workspace/);
    assert.equal(e.location?.line, lineOf(escape, 'library'));
  }
  const viaCli = cli(['compose', escape], { cwd: ws });
  assert.equal(viaCli.status, 1);
  assert.match(viaCli.stderr, /library .* outside the workspace/);
  // relative file:// resolves against the recipe's folder, whatever the current folder (here: the repo)
  const relative = recipe(ws, 'file-uri-relative', { library: 'file://../library', output: '../out/file-uri' });
  assert.notEqual(process.cwd(), path.join(ws, 'recipes'));
  const planner = createPlanner();
  const outcome = await planner.plan(fs.readFileSync(relative, 'utf8'), relative, { workspaceRoot: ws });
  await planner.dispose();
  assert.deepEqual(outcome.problems.filter((p) => p.severity === 'error'), []);
  assert.equal(outcome.plan?.library?.uri, path.join(ws, 'library'));
  fs.rmSync(ws, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

test("publish leftovers: another output's backups and the user's <output>.composing file are never touched", async () => {
  const ws = workspaceCopy();
  const out = path.join(ws, 'out');
  fs.mkdirSync(out, { recursive: true });
  // `.grammar-01.v2.old-<dead pid>-…` belongs to the output `grammar-01.v2`, not to `grammar-01`
  const sibling = path.join(out, '.grammar-01.v2.old-2147483646-abc');
  fs.mkdirSync(sibling);
  fs.writeFileSync(path.join(sibling, 'composition.json'), JSON.stringify({ tool: 'adapter-composer', inputs: [] }));
  const file = recipe(ws, 'leftovers', { output: '../out/grammar-01' });
  const result = await compose(file, { workspaceRoot: ws });
  assert.ok(fs.existsSync(path.join(sibling, 'composition.json')), 'the sibling backup is still there');
  const composition = JSON.parse(fs.readFileSync(path.join(result.output, 'composition.json'), 'utf8'));
  assert.ok(composition.inputs.length > 0, 'the output is the new composite, not the sibling backup');
  // a file of the user's named like the output's lock file is not "a lock left by a dead process"
  const user = `${result.output}.composing`;
  fs.writeFileSync(user, 'my notes about this composite');
  await assert.rejects(compose(file, { workspaceRoot: ws }), (e: unknown) => isComposerError(e) && /not a compose lock|composing/.test(e.message));
  assert.equal(fs.readFileSync(user, 'utf8'), 'my notes about this composite');
  fs.rmSync(ws, { recursive: true, force: true });
});

test('demo --out: a non-empty folder that is not a previous demo, or a demo that grew a repository or files of its own, is never removed', () => {
  const ws = workspaceCopy();
  const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-output-plain-'));
  fs.writeFileSync(path.join(plain, 'mine.txt'), 'mine');
  const refusedPlain = cli(['demo', '--out', plain], { cwd: plain });
  assert.equal(refusedPlain.status, 1, refusedPlain.stdout);
  assert.equal(fs.readFileSync(path.join(plain, 'mine.txt'), 'utf8'), 'mine');
  fs.mkdirSync(path.join(ws, '.git'));
  fs.writeFileSync(path.join(ws, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  fs.writeFileSync(path.join(ws, 'my-experiment.py'), 'print(1)\n');
  const before = snapshot(ws);
  const r = cli(['demo', '--out', ws], { cwd: os.tmpdir() });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /\.git|my-experiment\.py/);
  assert.ok(sameSnapshot(snapshot(ws), before));
  // a plain previous demo (with its composites and locks) is still replaced
  const fresh = workspaceCopy();
  fs.mkdirSync(path.join(fresh, 'out', 'x'), { recursive: true });
  const again = cli(['demo', '--out', fresh], { cwd: os.tmpdir() });
  assert.equal(again.status, 0, again.stderr);
  assert.ok(!fs.existsSync(path.join(fresh, 'out')));
  for (const d of [ws, plain, fresh]) fs.rmSync(d, { recursive: true, force: true });
});

test('library init never overwrites a different encoder.onnx already in the folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-output-init-'));
  fs.writeFileSync(path.join(dir, 'encoder.onnx'), 'the user’s own model');
  const r = cli(['library', 'init', dir, '--encoder', path.join(demo, 'encoder.onnx')], { cwd: dir });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /encoder\.onnx exists and is a different file/);
  assert.equal(fs.readFileSync(path.join(dir, 'encoder.onnx'), 'utf8'), 'the user’s own model');
  fs.rmSync(dir, { recursive: true, force: true });
});
