/**
 * External evaluators and the run history: metrics parsed from stdout and stored per compose; a
 * timeout kills the whole process group; refused without --allow-exec; recipe strings reach the
 * program literally (no shell); failures are reported without undoing the compose.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDemoWorkspace } from '../../server/src/engine/demo/buildDemo';
import { compose } from '../../server/src/engine/compose';
import { ComposerError } from '../../server/src/engine/errors';
import { evaluatorArgv, metricsFromStdout, runEvaluator } from '../../server/src/engine/eval/evaluator';
import { historyStore, readHistory, readRecipeHistory, recordRun } from '../../server/src/engine/history/runHistory';
import { createHash } from 'node:crypto';
import { main } from '../../server/src/cli/main';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-evaluator-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const scripts = path.join(root, 'scripts');
const demo = path.join(root, 'demo');

function script(name: string, body: string): string {
  fs.mkdirSync(scripts, { recursive: true });
  const file = path.join(scripts, name);
  fs.writeFileSync(file, body);
  return file;
}

const metricsScript = script('metrics.js', `
console.log('loading the composite…');
console.log('{"not": "the last object"}');
console.log(JSON.stringify({ accuracy: 0.8, nested: { loss: 1.5 }, label: 'text is not a metric' }));
`);
const argvScript = script('argv.js', `
require('fs').writeFileSync(process.env.ARGV_FILE, JSON.stringify(process.argv.slice(2)));
console.log(JSON.stringify({ argc: process.argv.length - 2 }));
`);
const failingScript = script('fail.js', `console.error('CUDA out of memory'); process.exit(3);`);
const garbageScript = script('garbage.js', `console.log('accuracy: 0.8');`);
// Starts a grandchild in its process group, records both pids, then never finishes.
const sleeperScript = script('sleeper.js', `
const { spawn } = require('child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('fs').writeFileSync(process.env.PIDS_FILE, JSON.stringify([process.pid, child.pid]));
setInterval(() => {}, 1000);
`);

function context(cwd = scripts) {
  return { output: path.join(root, 'out dir'), name: 'my-composite', recipe: path.join(root, 'r.compose.yaml'), lock: path.join(root, 'r.compose.lock'), cwd };
}

/** Alive and not a zombie (an orphan's zombie may wait for a reaper that a container lacks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return true;
  }
}

test('metrics: the last JSON object line of stdout, numbers only, nested keys flattened', async () => {
  const outcome = await runEvaluator({ command: [process.execPath, metricsScript], timeout: 30 }, context());
  assert.equal(outcome.status, 'ok', outcome.message);
  assert.deepEqual(outcome.metrics, { accuracy: 0.8, 'nested.loss': 1.5 });
  assert.equal(outcome.exit_code, 0);
  assert.deepEqual(metricsFromStdout('{\n  "bleu": 31.2,\n  "ok": true\n}\n'), { metrics: { bleu: 31.2 } });
  assert.ok('error' in metricsFromStdout(''));
});

test('recipe strings with shell metacharacters are passed literally (no shell)', async () => {
  const argvFile = path.join(root, 'argv.json');
  process.env.ARGV_FILE = argvFile;
  const tricky = ['$(touch PWNED)', '; touch PWNED2', '`touch PWNED3`', '*', '"quoted" \'single\'', 'a|b>c', '--out={output}', '{name}{lock}', '{unknown}', '~'];
  const outcome = await runEvaluator({ command: [process.execPath, argvScript, ...tricky], timeout: 30 }, context());
  assert.equal(outcome.status, 'ok', outcome.message);
  const c = context();
  const expected = tricky.map((a) => a.replace('{output}', c.output).replace('{name}', c.name).replace('{lock}', c.lock));
  assert.deepEqual(JSON.parse(fs.readFileSync(argvFile, 'utf8')), expected);
  assert.deepEqual(outcome.command.slice(2), expected);
  for (const f of ['PWNED', 'PWNED2', 'PWNED3']) assert.ok(!fs.existsSync(path.join(scripts, f)), `${f} was created: a shell ran`);
  // a substituted value is not scanned again for placeholders
  assert.deepEqual(evaluatorArgv(['{output}'], { ...c, output: '/x/{name}' }), ['/x/{name}']);
});

test('a timeout stops the evaluator and the children it started (process group)', async () => {
  const pidsFile = path.join(root, 'pids.json');
  process.env.PIDS_FILE = pidsFile;
  const started = Date.now();
  const outcome = await runEvaluator({ command: [process.execPath, sleeperScript], timeout: 1 }, context(), { killGraceMs: 300 });
  assert.equal(outcome.status, 'timeout');
  assert.match(outcome.message!, /did not finish within 1 s/);
  assert.ok(Date.now() - started < 8000);
  const pids = JSON.parse(fs.readFileSync(pidsFile, 'utf8')) as number[];
  const deadline = Date.now() + 3000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) assert.ok(!alive(pid), `process ${pid} survived the timeout`);
});

test('failures are outcomes with clear messages: exit code, invalid output, missing program', async () => {
  const failed = await runEvaluator({ command: [process.execPath, failingScript], timeout: 30 }, context());
  assert.equal(failed.status, 'failed');
  assert.equal(failed.exit_code, 3);
  assert.match(failed.message!, /code 3.*CUDA out of memory/);
  const garbage = await runEvaluator({ command: [process.execPath, garbageScript], timeout: 30 }, context());
  assert.equal(garbage.status, 'invalid-output');
  assert.match(garbage.message!, /no JSON object on stdout \(last line: "accuracy: 0.8"\)/);
  const missing = await runEvaluator({ command: ['definitely-not-a-program-xyz', '{output}'], timeout: 30 }, context());
  assert.equal(missing.status, 'failed');
  assert.match(missing.message!, /no such program/);
});

test('history: a remote library keeps its runs in the workspace; entries round-trip', async () => {
  const workspace = path.join(root, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  const place = { library: 's3://bucket/library', workspaceRoot: workspace };
  const store = historyStore(place);
  assert.equal(store.kind, 'workspace');
  assert.equal(store.database, path.join(workspace, '.adapter-composer', 'history'));
  assert.deepEqual(await readHistory(place), []);
  const recipeFile = path.join(workspace, 'recipes', 'a.compose.yaml');
  const base = { name: 'a', recipeSha256: 'r'.repeat(64), lockSha256: 'l'.repeat(64), libraryVersion: 3, strategy: 'sparse', parameters: { k: 5, lambda: 0.1 }, weights: { x: 0.7, y: 0.3 }, output: path.join(workspace, 'out', 'a'), toolVersion: 't' };
  await recordRun(place, { ...base, recipeFile, time: '2026-01-01T00:00:02.000Z' });
  await recordRun(place, { ...base, recipeFile, time: '2026-01-01T00:00:01.000Z', evaluation: { status: 'ok', command: ['x'], metrics: { acc: 0.5 }, exit_code: 0, duration_ms: 1 } });
  await recordRun(place, { ...base, recipeFile: path.join(workspace, 'recipes', 'b.compose.yaml') });
  const runs = await readHistory(place, { recipe: recipeFile });
  assert.equal(runs.length, 2);
  assert.deepEqual(runs.map((r) => r.time), ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']);
  assert.equal(runs[0].recipe, 'recipes/a.compose.yaml');
  assert.equal(runs[0].output, 'out/a');
  assert.deepEqual(runs[0].metrics, { acc: 0.5 });
  assert.deepEqual(runs[1].metrics, {});
  assert.deepEqual(runs[0].weights, base.weights);
  assert.deepEqual(runs[0].parameters, base.parameters);
  assert.equal((await readHistory(workspace)).length, 3, 'a workspace folder reads its own history');
});

test('history: a workspace history folder that is a symlink out of the workspace (a committed one) is neither written nor read', async () => {
  const workspace = path.join(root, 'ws-linked-history');
  const outside = path.join(root, 'elsewhere-history');
  fs.mkdirSync(path.join(workspace, '.adapter-composer'), { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  fs.symlinkSync(outside, path.join(workspace, '.adapter-composer', 'history'));
  const place = { library: 's3://bucket/library', workspaceRoot: workspace };
  const recipeFile = path.join(workspace, 'recipes', 'a.compose.yaml');
  const run = { name: 'a', recipeSha256: 'r'.repeat(64), lockSha256: 'l'.repeat(64), libraryVersion: 3, strategy: 'sparse', parameters: {}, weights: { x: 1 }, output: path.join(workspace, 'out', 'a'), toolVersion: 't', recipeFile };
  await assert.rejects(recordRun(place, run), (e: unknown) => e instanceof ComposerError && new RegExp(`history .*resolves to ${outside}, outside the workspace`).test(e.message));
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside the workspace');
  // a runs table planted there is not read either
  fs.rmSync(path.join(workspace, '.adapter-composer', 'history'));
  await recordRun(place, run);
  fs.renameSync(path.join(workspace, '.adapter-composer', 'history'), path.join(outside, 'planted'));
  fs.symlinkSync(path.join(outside, 'planted'), path.join(workspace, '.adapter-composer', 'history'));
  await assert.rejects(readHistory(place), (e: unknown) => e instanceof ComposerError && /outside the workspace/.test(e.message));
});

describeCompose();

function describeCompose(): void {
  let recipesDir: string;
  const recipe = (name: string, command: string[] | undefined) => {
    const text = fs.readFileSync(path.join(recipesDir, 'code-14.compose.yaml'), 'utf8').replace('output: ../out/code-14', `output: ../out/${name}`);
    const file = path.join(recipesDir, `${name}.compose.yaml`);
    fs.writeFileSync(file, command ? `${text}evaluate:\n  command: ${JSON.stringify(command)}\n  timeout: 30\n` : text);
    return file;
  };

  before(async () => {
    await buildDemoWorkspace(demo);
    recipesDir = path.join(demo, 'recipes');
  });

  test('compose refuses an evaluator unless allowed, before writing anything', async () => {
    const file = recipe('refused', ['node', metricsScript, '{output}']);
    await assert.rejects(compose(file, { workspaceRoot: demo }), (e: unknown) => {
      assert.ok(e instanceof ComposerError);
      assert.match(e.message, /runs an external command after composing/);
      assert.match(e.hint!, /--allow-exec/);
      assert.equal(e.location?.file, file);
      assert.ok(e.location?.line, 'located at the evaluate key');
      return true;
    });
    assert.ok(!fs.existsSync(path.join(demo, 'out', 'refused')));
    assert.ok(!fs.existsSync(path.join(recipesDir, 'refused.compose.lock')));
  });

  test('compose --allow-exec runs the evaluator; its metrics are kept in the library\'s history', async () => {
    const file = recipe('evaluated', ['node', metricsScript, '{output}']);
    const result = await compose(file, { workspaceRoot: demo, allowExec: true });
    assert.equal(result.evaluation?.status, 'ok', result.evaluation?.message);
    assert.deepEqual(result.evaluation.metrics, { accuracy: 0.8, 'nested.loss': 1.5 });
    assert.equal(result.history?.kind, 'library');
    const runs = await readRecipeHistory(file, { workspaceRoot: demo });
    assert.equal(runs.length, 1);
    const run = runs[0];
    assert.deepEqual(run.metrics, { accuracy: 0.8, 'nested.loss': 1.5 });
    assert.equal(run.recipe, '../recipes/evaluated.compose.yaml');
    assert.equal(run.lock_sha256, createHash('sha256').update(fs.readFileSync(path.join(recipesDir, 'evaluated.compose.lock'))).digest('hex'));
    assert.deepEqual(run.weights, result.weights);
    assert.equal(run.strategy, 'sparse');
    assert.equal(run.parameters.k, 5);
    assert.equal(run.id, result.history.id);
  });

  test('a failing evaluator leaves the composite and lock, and is recorded without metrics', async () => {
    const file = recipe('failing', ['node', failingScript]);
    const result = await compose(file, { workspaceRoot: demo, allowExec: true });
    assert.equal(result.evaluation?.status, 'failed');
    assert.ok(fs.existsSync(path.join(demo, 'out', 'failing', 'adapter_model.safetensors')));
    assert.ok(fs.existsSync(path.join(recipesDir, 'failing.compose.lock')));
    const runs = await readRecipeHistory(file);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].evaluation?.status, 'failed');
    assert.deepEqual(runs[0].metrics, {});
  });

  test('CLI: refused without --allow-exec (exit 1, clear message); with it, metrics in --json', async () => {
    const file = recipe('cli', ['node', metricsScript]);
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const code = await main(args, { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; }, isTTY: false, cwd: demo });
      return { code, out, err };
    };
    const refused = await run(['compose', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /not allowed here/);
    assert.match(refused.err, /--allow-exec/);
    const allowed = await run(['compose', file, '--allow-exec', '--json']);
    assert.equal(allowed.code, 0, allowed.err);
    assert.deepEqual(JSON.parse(allowed.out).evaluation.metrics, { accuracy: 0.8, 'nested.loss': 1.5 });
    const skipped = await run(['compose', file, '--skip-evaluate', '--json']);
    assert.equal(skipped.code, 0, skipped.err);
    assert.equal(JSON.parse(skipped.out).evaluation, undefined);
    const failing = recipe('cli-failing', ['node', failingScript]);
    const failed = await run(['compose', failing, '--allow-exec']);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /the evaluator failed: the evaluator exited with code 3/);
    const history = await run(['history', file, '--json']);
    assert.equal(history.code, 0, history.err);
    const runs = JSON.parse(history.out);
    assert.equal(runs.length, 2, 'one entry per compose: the allowed and the skipped one');
    assert.deepEqual(runs.map((r: { metrics: object }) => Object.keys(r.metrics).length), [2, 0]);
  });
}
