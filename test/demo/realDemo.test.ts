/**
 * `demo --real` on a few domains: the layout others check figures from; every strategy of the
 * weights module is scored, sparse in both forms at the default ρ and along the first seed's ρ sweep; each kept composite is exactly Σ wᵢΔWᵢ of the adapters it names; the
 * report's accuracy/NLL equal the built-in evaluator run independently on the files on disk; a
 * recipe composes with its built-in evaluator without --allow-exec and the metrics reach the run
 * history; `eval --with-evaluator` reproduces the table; the same seed gives the same bytes.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compose } from '../../server/src/engine/compose';
import { buildRealDemoWorkspace, BASE_CANDIDATE, RHO_SWEEP, sparseKey, sweepKey, type Metric, type RealDemoReport } from '../../server/src/engine/demo/real/buildRealDemo';
import { evaluateClassification, readClassifier, readLabels } from '../../server/src/engine/eval/classification';
import { evaluateRecipes } from '../../server/src/engine/eval/recipeLeaveOneOut';
import { readRecipeHistory } from '../../server/src/engine/history/runHistory';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { readNpy } from '../../server/src/engine/prototype/npy';
import { SPARSE_FORMS, STRATEGIES } from '../../server/src/engine/types';
import { DEFAULT_SPARSE_FORM } from '../../server/src/engine/weights/forms';
import { DEFAULT_RHO } from '../../server/src/engine/weights/sparse';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-real-demo-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const DOMAINS = ['rot15', 'rot30', 'rot45', 'thick'];
const dir = path.join(root, 'ws');
let report: RealDemoReport;

before(async () => {
  report = await buildRealDemoWorkspace(dir, { seeds: 1, domains: DOMAINS });
});

test('layout: model, data, PEFT adapters, recipes and every scored composite', () => {
  for (const f of ['model.safetensors', 'config.json', 'model.onnx', 'encoder.onnx']) assert.ok(fs.existsSync(path.join(dir, 'model', f)), f);
  const layers = readClassifier(path.join(dir, 'model'));
  assert.deepEqual(layers.map((l) => [l.name, l.activation, l.inFeatures, l.outFeatures]), [['fc1', 'relu', 196, 64], ['fc2', 'relu', 64, 32], ['fc3', 'none', 32, 10]]);
  for (const d of DOMAINS) {
    const x = readNpy(path.join(dir, 'data', d, 'test_x.npy'));
    assert.equal(x.shape[1], 196);
    assert.equal(readLabels(path.join(dir, 'data', d, 'test_y.npy')).length, x.shape[0]);
    assert.equal(readNpy(path.join(dir, 'data', d, 'train_x.npy')).shape[0], readLabels(path.join(dir, 'data', d, 'train_y.npy')).length);
    const adapter = openAdapter(path.join(dir, 'adapters', d));
    assert.equal(adapter.format, 'peft');
    assert.deepEqual([...adapter.modules.keys()].sort(), ['fc1', 'fc2', 'fc3']);
    assert.ok(fs.existsSync(path.join(dir, 'recipes', `${d}.compose.yaml`)));
    assert.ok(fs.existsSync(path.join(dir, 'out', d, 'sft', 'adapter_model.safetensors')));
  }
});

test('every strategy but manual is scored (both sparse forms at the default ρ, and lambda: auto), with and without the base candidate', () => {
  const expected = [...STRATEGIES.filter((s) => s !== 'manual'), ...SPARSE_FORMS.map(sparseKey).filter((k) => k !== 'sparse')].sort();
  for (const t of report.targets) {
    assert.deepEqual(Object.keys(t.strategies).sort(), [...expected, 'sparse@auto'].sort(), t.target);
    assert.deepEqual(Object.keys(t.with_base_candidate).sort(), expected, t.target);
    for (const s of expected) assert.ok(fs.existsSync(path.join(dir, 'out', t.target, s, 'adapter_model.safetensors')), `${t.target}/${s}`);
    assert.ok(!(BASE_CANDIDATE in t.strategies.avg.weights), 'the base candidate is excluded by default');
    // the product's own defaults: ρ = DEFAULT_RHO in each form, λ = ρ·λ* of that form
    for (const form of SPARSE_FORMS) {
      const m = t.strategies[sparseKey(form)];
      assert.equal(m.form, form);
      assert.equal(m.rho, DEFAULT_RHO);
      assert.ok(Math.abs(m.lambda! - DEFAULT_RHO * m.lambda_star!) <= 1e-12 * Math.max(1, m.lambda_star!), `${t.target} ${form}`);
    }
  }
  assert.deepEqual(Object.keys(report.summary).sort(), ['base', 'sft', 'sparse@auto', ...expected, ...expected.map((s) => `${s}+base`)].sort());
  // one seed: the per-domain view is that seed's figure, std 0
  assert.deepEqual(Object.keys(report.by_domain), DOMAINS);
  for (const t of report.targets) {
    assert.equal(report.by_domain[t.target]['convex+base'].accuracy_mean, t.with_base_candidate.convex.accuracy);
    assert.equal(report.by_domain[t.target].sft.accuracy_std, 0);
  }
});

test('each composite is exactly Σ wᵢΔWᵢ and its metrics equal an independent evaluation from the files', async () => {
  for (const t of report.targets) {
    const scored: [string, Metric, string][] = [
      ...Object.entries(t.strategies).map(([s, m]): [string, Metric, string] => [s, m, path.join(dir, 'out', t.target, s)]),
      ...Object.entries(t.rho_sweep ?? {}).map(([s, m]): [string, Metric, string] => [s, m, path.join(dir, 'out', t.target, 'sweep', s)]),
    ];
    assert.ok(scored.length > Object.keys(t.strategies).length, 'the ρ sweep is scored on the first seed');
    for (const [strategy, m, out] of scored) {
      const composite = openAdapter(out);
      for (const module of ['fc1', 'fc2', 'fc3']) {
        const got = deltaOf(composite, module);
        const want = new Float64Array(got.length);
        for (const [name, w] of Object.entries(m.weights)) {
          const d = deltaOf(openAdapter(path.join(dir, 'adapters', name)), module);
          for (let i = 0; i < d.length; i++) want[i] += w * d[i];
        }
        const err = Math.sqrt(got.reduce((s, v, i) => s + (v - want[i]) ** 2, 0));
        const norm = Math.sqrt(want.reduce((s, v) => s + v * v, 0));
        assert.ok(err <= 1e-5 * Math.max(norm, 1e-3), `${t.target}/${strategy}/${module}: ‖ΔW − Σ wᵢΔWᵢ‖ = ${err} (‖·‖ ${norm})`);
      }
      const files = { model: path.join(dir, 'model'), data: path.join(dir, 'data', t.target, 'test_x.npy'), labels: path.join(dir, 'data', t.target, 'test_y.npy') };
      const again = await evaluateClassification({ ...files, adapter: out });
      assert.equal(again.accuracy, m.accuracy, `${t.target}/${strategy}`);
      assert.ok(Math.abs(again.nll - m.nll) < 1e-9);
    }
    const base = await evaluateClassification({ model: path.join(dir, 'model'), data: path.join(dir, 'data', t.target, 'test_x.npy'), labels: path.join(dir, 'data', t.target, 'test_y.npy') });
    assert.equal(base.accuracy, t.base.accuracy);
  }
});

test('compose runs the built-in evaluator without --allow-exec and records its metrics', async () => {
  const recipe = path.join(dir, 'recipes', 'rot30.compose.yaml');
  const result = await compose(recipe, { provider: 'cpu' });
  assert.equal(result.evaluation?.status, 'ok');
  const target = report.targets.find((t) => t.target === 'rot30')!;
  const recipeSparse = target.strategies[sparseKey(DEFAULT_SPARSE_FORM)];
  assert.equal(result.evaluation.metrics.accuracy, recipeSparse.accuracy);
  const history = await readRecipeHistory(recipe);
  assert.equal(history.at(-1)?.metrics.accuracy, recipeSparse.accuracy);
  // the recipe on disk states the product's default ρ, no absolute λ
  const text = fs.readFileSync(recipe, 'utf8');
  assert.match(text, new RegExp(`^  rho: ${DEFAULT_RHO}$`, 'm'));
  assert.doesNotMatch(text, /^\s*lambda:/m);
});

test('eval --with-evaluator reproduces the per-strategy table from the recipes', async () => {
  const files = DOMAINS.map((d) => path.join(dir, 'recipes', `${d}.compose.yaml`));
  const result = await evaluateRecipes(files);
  for (const [i, t] of result.targets.entries()) {
    const mine = report.targets[i];
    assert.equal(t.base?.accuracy, mine.base.accuracy);
    assert.equal(t.held_out_metrics?.accuracy, mine.sft.accuracy);
    for (const [s, r] of Object.entries(t.strategies)) assert.equal(r.metrics.accuracy, mine.strategies[s === 'sparse' ? sparseKey(DEFAULT_SPARSE_FORM) : s].accuracy, `${t.name} ${s}`);
  }
});

test('eval --with-evaluator reads the held-out adapter only inside the workspace (unless allowed)', async () => {
  // a copy of the workspace whose held-out adapter is a symlink to a folder outside it
  const ws = path.join(root, 'ws-held-out');
  fs.cpSync(dir, ws, { recursive: true });
  const outside = path.join(root, 'outside', DOMAINS[0]);
  fs.mkdirSync(path.dirname(outside), { recursive: true });
  fs.renameSync(path.join(ws, 'adapters', DOMAINS[0]), outside);
  fs.symlinkSync(outside, path.join(ws, 'adapters', DOMAINS[0]));
  const file = path.join(ws, 'recipes', `${DOMAINS[0]}.compose.yaml`);
  await assert.rejects(evaluateRecipes([file], { workspaceRoot: ws, strategies: ['avg'] }), (e: Error & { location?: { line?: number } }) => {
    assert.match(e.message, new RegExp(`adapter \`${DOMAINS[0]}\` is read from ${outside} .*outside the workspace ${ws}`));
    return true;
  });
  const allowed = await evaluateRecipes([file], { workspaceRoot: ws, strategies: ['avg'], allowOutsideWorkspace: true });
  assert.equal(allowed.targets[0].held_out, DOMAINS[0]);
  assert.ok(allowed.targets[0].held_out_metrics !== undefined);
});

test('compose: the built-in evaluator reads its model outside the workspace with --allow-outside-workspace, or from a read root; never silently', async () => {
  // a copy of the workspace whose model lives outside it
  const ws = path.join(root, 'ws-model-outside');
  fs.cpSync(dir, ws, { recursive: true });
  const shared = path.join(root, 'shared-models');
  fs.mkdirSync(shared, { recursive: true });
  fs.renameSync(path.join(ws, 'model'), path.join(shared, 'model'));
  const recipe = path.join(ws, 'recipes', 'rot30.compose.yaml');
  fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace('  model: ../model\n', `  model: ${path.join(shared, 'model')}\n`));
  const confined = await compose(recipe, { provider: 'cpu', workspaceRoot: ws });
  assert.equal(confined.evaluation?.status, 'failed');
  assert.match(confined.evaluation?.message ?? '', /evaluate\.model .* is outside the workspace/);
  const allowed = await compose(recipe, { provider: 'cpu', workspaceRoot: ws, allowOutsideWorkspace: true });
  assert.equal(allowed.evaluation?.status, 'ok', allowed.evaluation?.message);
  const readRoot = await compose(recipe, { provider: 'cpu', workspaceRoot: ws, readRoots: [shared] });
  assert.equal(readRoot.evaluation?.status, 'ok', readRoot.evaluation?.message);
  assert.equal(readRoot.evaluation.metrics.accuracy, allowed.evaluation.metrics.accuracy);
});

test('the ρ sweep: both forms at every ρ, consistent with the default-ρ entries, lin at ρ = 0, and its summary is the mean', () => {
  assert.deepEqual(report.rho_sweep.rhos, [...RHO_SWEEP]);
  const close = (a: Record<string, number>, b: Record<string, number>, what: string, tol = 1e-9) => {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) assert.ok(Math.abs((a[k] ?? 0) - (b[k] ?? 0)) < tol, `${what}: ${k} ${a[k]} vs ${b[k]}`);
  };
  for (const t of report.targets) {
    assert.deepEqual(Object.keys(t.rho_sweep!).sort(), SPARSE_FORMS.flatMap((f) => RHO_SWEEP.map((r) => sweepKey(f, r))).sort());
    for (const form of SPARSE_FORMS) {
      const atDefault = t.rho_sweep![sweepKey(form, DEFAULT_RHO)];
      close(atDefault.weights, t.strategies[sparseKey(form)].weights, `${t.target} ${form} ρ=${DEFAULT_RHO}`);
      assert.equal(atDefault.accuracy, t.strategies[sparseKey(form)].accuracy);
    }
    close(t.rho_sweep![sweepKey('constrained', 0)].weights, t.strategies.lin.weights, `${t.target} constrained ρ=0 is lin`, 1e-6);
    close(t.rho_sweep![sweepKey('constrained', 1)].weights, t.strategies.convex.weights, `${t.target} constrained ρ=1 is convex`, 1e-6);
  }
  for (const form of SPARSE_FORMS) {
    for (const rho of RHO_SWEEP) {
      const accs = report.targets.map((t) => t.rho_sweep![sweepKey(form, rho)].accuracy);
      const want = accs.reduce((a, b) => a + b, 0) / accs.length;
      assert.ok(Math.abs(report.rho_sweep.forms[form][String(rho)].all.accuracy - want) < 1e-12);
    }
  }
});

test('the same seed gives the same bytes (model, data, adapters, composites)', async () => {
  const other = path.join(root, 'again');
  await buildRealDemoWorkspace(other, { seeds: 1, domains: DOMAINS.slice(0, 2) });
  const hash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const check = ['model/model.safetensors', 'model/model.onnx', 'data/rot15/train_x.npy', 'data/rot30/test_y.npy', 'adapters/rot15/adapter_model.safetensors', 'adapters/rot30/adapter_model.safetensors'];
  for (const f of check) assert.equal(hash(path.join(other, f)), hash(path.join(dir, f)), f);
});

test('library add-base: a zero adapter shaped like another, tagged base, retrievable', async () => {
  const { main } = await import('../../server/src/cli/main');
  let out = '', err = '';
  const io = { out: (t: string) => { out += t + '\n'; }, err: (t: string) => { err += t + '\n'; }, isTTY: false, cwd: dir };
  const code = await main(['library', 'add-base', 'library', 'adapters/base-2', '--like', 'adapters/rot15', '--name', 'base-2', '--samples', 'data/source/train_x.npy', '--json'], io);
  assert.equal(code, 0, err);
  const row = JSON.parse(out);
  assert.deepEqual(row.tags, ['base']);
  const zero = openAdapter(path.join(dir, 'adapters', 'base-2'));
  assert.deepEqual([...zero.modules.keys()].sort(), ['fc1', 'fc2', 'fc3']);
  for (const m of zero.modules.keys()) assert.ok(deltaOf(zero, m).every((v) => v === 0));
  // the same prototype as the demo's own base candidate (same samples, same encoder)
  out = '';
  assert.equal(await main(['library', 'show', 'library', 'base-2', '--json'], io), 0);
  const shown = JSON.parse(out);
  out = '';
  assert.equal(await main(['library', 'show', 'library', BASE_CANDIDATE, '--json'], io), 0);
  assert.deepEqual(shown.prototype, JSON.parse(out).prototype);
  // a failed add leaves no folder behind
  out = '';
  assert.equal(await main(['library', 'add-base', 'library', 'adapters/base-3', '--like', 'adapters/rot15', '--name', 'base-3', '--samples', 'data/nowhere/*.npy'], io), 1);
  assert.ok(!fs.existsSync(path.join(dir, 'adapters', 'base-3')));
});
