/**
 * Leave-one-out on the demo workspace: invariants of every strategy's weights, the held-out adapter
 * never among its candidates, ΔW errors computed from the factors equal a dense computation, the
 * λ-curve's ends equal lin and convex, the JSON the CLI prints, and λ = auto in the planner.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDemoWorkspace } from '../../server/src/engine/demo/buildDemo';
import { evaluateLibrary, type LibraryEvaluation } from '../../server/src/engine/eval/evaluateLibrary';
import { EVAL_STRATEGIES, LAMBDA_RATIOS, leaveOneOut } from '../../server/src/engine/eval/leaveOneOut';
import { chooseLambdaRatio, clearLambdaChoices } from '../../server/src/engine/eval/lambdaSelection';
import { openLibrary } from '../../server/src/engine/library/library';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { writeZeroAdapter } from '../../server/src/engine/lora/zeroAdapter';
import { createPlanner } from '../../server/src/engine/planner';
import type { AdapterRecord } from '../../server/src/engine/types';
import { main } from '../../server/src/cli/main';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-eval-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const demo = path.join(root, 'demo');
const libraryDir = path.join(demo, 'library');
let records: AdapterRecord[];
let js: LibraryEvaluation;

before(async () => {
  await buildDemoWorkspace(demo);
  const library = await openLibrary(libraryDir);
  try {
    records = await library.list();
  } finally {
    library.close();
  }
  js = await evaluateLibrary(libraryDir, { products: 'js', lambdaCurve: true });
});

/** Dense ΔW of every module of an adapter (scale included): the independent reference. */
function denseDeltas(adapterPath: string): Map<string, Float64Array> {
  const adapter = openAdapter(adapterPath);
  return new Map([...adapter.modules.keys()].map((m) => [m, deltaOf(adapter, m)]));
}

test('every adapter is held out once, composed from k others of its base, never from itself', () => {
  assert.equal(js.targets.length, records.length);
  assert.deepEqual(js.targets.map((t) => t.target).sort(), records.map((r) => r.name).sort());
  const byName = new Map(records.map((r) => [r.name, r]));
  for (const t of js.targets) {
    assert.equal(t.candidates.length, Math.min(5, records.length - 1));
    assert.ok(!t.candidates.some((c) => c.name === t.target), `${t.target} is among its own candidates`);
    for (const c of t.candidates) assert.equal(byName.get(c.name)!.base, byName.get(t.target)!.base);
    // nearest first, and nothing closer was left out
    const distances = t.candidates.map((c) => c.distance);
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
    const target = byName.get(t.target)!.prototype;
    const outside = records.filter((r) => r.name !== t.target && !t.candidates.some((c) => c.name === r.name));
    for (const r of outside) {
      const d = r.prototype.reduce((s, x, i) => s + (x - target[i]) ** 2, 0);
      assert.ok(d >= distances[distances.length - 1] - 1e-12, `${r.name} is closer to ${t.target} than a retrieved candidate`);
    }
    for (const s of EVAL_STRATEGIES) {
      const score = t.strategies[s]!;
      assert.deepEqual(Object.keys(score.weights), t.candidates.map((c) => c.name));
    }
  }
});

test('Σw = 1 for every strategy and target; nonzero counts the weights', () => {
  for (const t of js.targets) {
    for (const s of EVAL_STRATEGIES) {
      const score = t.strategies[s];
      assert.ok(score, `${t.target}: no ${s}`);
      const w = Object.values(score.weights);
      const sum = w.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `${t.target} ${s}: Σw = ${sum}`);
      assert.equal(score.nonzero, w.filter((x) => Math.abs(x) > 1e-12).length);
      if (s === 'convex' || s === 'avg' || s === 'sim' || s === 'nearest') assert.ok(w.every((x) => x >= -1e-12), `${t.target} ${s} has a negative weight`);
      if (s === 'nearest') assert.equal(score.nonzero, 1);
      assert.ok(score.delta_cosine <= 1 + 1e-12 && score.delta_cosine >= -1 - 1e-12);
    }
    // lin minimises the prototype residual over Σw = 1
    for (const s of EVAL_STRATEGIES) assert.ok(t.strategies.lin!.residual <= t.strategies[s]!.residual + 1e-9, `${t.target}: ${s} residual below lin's`);
  }
});

test('ΔW error and cosine from the factors equal a dense computation (1e-9 relative)', () => {
  const byName = new Map(records.map((r) => [r.name, r]));
  const dense = new Map(records.map((r) => [r.name, denseDeltas(r.path)]));
  let checked = 0;
  for (const t of js.targets) {
    const reference = dense.get(t.target)!;
    for (const s of EVAL_STRATEGIES) {
      const score = t.strategies[s]!;
      let diff = 0, yy = 0, xx = 0, xy = 0;
      for (const [module, y] of reference) {
        const x = new Float64Array(y.length);
        for (const [name, w] of Object.entries(score.weights)) {
          const d = dense.get(name)!.get(module);
          if (d) for (let i = 0; i < x.length; i++) x[i] += w * d[i];
        }
        for (let i = 0; i < y.length; i++) {
          diff += (x[i] - y[i]) ** 2;
          yy += y[i] * y[i];
          xx += x[i] * x[i];
          xy += x[i] * y[i];
        }
      }
      const rel = Math.sqrt(diff / yy);
      const cos = xy / Math.sqrt(xx * yy);
      assert.ok(Math.abs(score.delta_rel_error - rel) <= 1e-9 * rel, `${t.target} ${s}: ${score.delta_rel_error} vs dense ${rel}`);
      assert.ok(Math.abs(score.delta_cosine - cos) <= 1e-9 * Math.abs(cos), `${t.target} ${s}: cosine ${score.delta_cosine} vs dense ${cos}`);
      checked++;
    }
    assert.ok(byName.has(t.target));
  }
  assert.equal(checked, records.length * EVAL_STRATEGIES.length);
});

test('each factor tensor is read once; ONNX Runtime products agree with JS', async () => {
  const tensors = records.reduce((s, r) => s + openAdapter(r.path).modules.size * 2, 0);
  assert.equal(js.stats.tensor_reads, tensors);
  const ort = await evaluateLibrary(libraryDir, { products: 'onnx' });
  for (let i = 0; i < js.targets.length; i++) {
    for (const s of EVAL_STRATEGIES) {
      const a = js.targets[i].strategies[s]!.delta_rel_error;
      const b = ort.targets[i].strategies[s]!.delta_rel_error;
      assert.ok(Math.abs(a - b) <= 1e-10 * a, `${js.targets[i].target} ${s}: js ${a} vs ${ort.stats.products} ${b}`);
    }
  }
});

test('summary: means, medians and wins follow from the per-target rows', () => {
  let wins = 0;
  for (const s of EVAL_STRATEGIES) {
    const errors = js.targets.map((t) => t.strategies[s]!.delta_rel_error);
    const summary = js.summary[s]!;
    assert.ok(Math.abs(summary.mean_delta_rel_error - errors.reduce((a, b) => a + b, 0) / errors.length) < 1e-12);
    const below = errors.filter((e) => e < summary.median_delta_rel_error).length;
    assert.ok(below <= errors.length / 2 && errors.filter((e) => e > summary.median_delta_rel_error).length <= errors.length / 2);
    wins += summary.wins;
  }
  assert.ok(wins >= js.targets.length, 'every target has at least one winner');
});

test('λ-curve: ρ = 0 is lin, ρ = 1 is convex; the best point is the minimum', () => {
  const curve = js.lambda_curve!;
  assert.equal(curve.points.length, LAMBDA_RATIOS.length);
  const meanOf = (s: 'lin' | 'convex') => js.targets.reduce((a, t) => a + t.strategies[s]!.delta_rel_error, 0) / js.targets.length;
  assert.ok(Math.abs(curve.points[0].mean_delta_rel_error - meanOf('lin')) < 1e-9);
  assert.ok(Math.abs(curve.points[curve.points.length - 1].mean_delta_rel_error - meanOf('convex')) < 1e-9);
  const min = Math.min(...curve.points.map((p) => p.mean_delta_rel_error));
  assert.equal(curve.best_mean_delta_rel_error, min);
  assert.equal(curve.points.find((p) => p.ratio === curve.best_ratio)!.mean_delta_rel_error, min);
});

test('λ = auto in eval: each target\'s λ is ρ·λ* with ρ on the grid', async () => {
  const auto = await leaveOneOut(records, { lambda: 'auto', strategies: ['sparse'] });
  for (const t of auto.targets) {
    const lambda = t.strategies.sparse!.lambda!;
    if (t.lambda_star === 0) assert.equal(lambda, 0);
    else assert.ok(LAMBDA_RATIOS.some((r) => Math.abs(lambda - r * t.lambda_star) <= 1e-12 * t.lambda_star), `${t.target}: λ ${lambda} is not on the grid of λ* ${t.lambda_star}`);
  }
});

test('weights.lambda: auto in the planner: λ = ρ·λ*, ρ from the cached leave-one-out', async () => {
  clearLambdaChoices();
  const recipeFile = path.join(demo, 'recipes', 'code-14.compose.yaml');
  const text = fs.readFileSync(recipeFile, 'utf8').replace('rho: 0.5', 'lambda: auto');
  const planner = createPlanner();
  try {
    const outcome = await planner.plan(text, recipeFile, { provider: 'cpu' });
    assert.ok(outcome.plan, JSON.stringify(outcome.problems));
    const sparse = outcome.plan.strategies.sparse!;
    const version = outcome.plan.library!.version;
    const key = { libraryUri: libraryDir, version, base: records[0].base, k: 5 };
    const first = chooseLambdaRatio(records, key);
    assert.equal(chooseLambdaRatio(records, key), first, 'the choice is cached by (library, version, base, k)');
    const choice = await first;
    assert.equal(choice.ratio, js.lambda_curve!.best_ratio);
    assert.ok(Math.abs(sparse.lambda! - choice.ratio * sparse.lambda_star!) <= 1e-12 * sparse.lambda_star!);
    const note = outcome.problems.find((p) => p.code === 'lambda-auto');
    assert.ok(note && note.severity === 'information' && /leave-one-out/.test(note.message), note?.message);
  } finally {
    await planner.dispose();
  }
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; }, isTTY: false, cwd: demo });
  return { code, out, err };
}

test('CLI: eval --json prints targets and summary; markdown prints the tables', async () => {
  const json = await cli(['eval', 'library', '--leave-one-out', '--strategies', 'avg,sparse,convex', '--k', '4', '--json']);
  assert.equal(json.code, 0, json.err);
  const parsed = JSON.parse(json.out);
  assert.ok(Array.isArray(parsed.targets) && parsed.targets.length === records.length);
  for (const t of parsed.targets) {
    assert.equal(typeof t.target, 'string');
    assert.deepEqual(Object.keys(t.strategies).sort(), ['avg', 'convex', 'sparse']);
    for (const s of Object.values<Record<string, unknown>>(t.strategies)) {
      for (const key of ['residual', 'nonzero', 'delta_rel_error', 'delta_cosine']) assert.equal(typeof s[key], 'number', key);
      assert.equal(typeof s.weights, 'object');
      assert.equal(Object.keys(s.weights as object).length, 4);
    }
  }
  assert.deepEqual(Object.keys(parsed.summary).sort(), ['avg', 'convex', 'sparse']);
  for (const key of ['mean_delta_rel_error', 'median_delta_rel_error', 'wins']) assert.equal(typeof parsed.summary.avg[key], 'number');

  const md = await cli(['eval', 'library', '--format', 'markdown', '--lambda-curve']);
  assert.equal(md.code, 0, md.err);
  assert.match(md.out, /\| held-out adapter \| avg \| sim \| lin \| sparse \| convex \| nearest \|/);
  assert.match(md.out, /\| strategy \| mean ΔW err \|/);
  assert.match(md.out, /\| λ\/λ\* \|/);

  const bad = await cli(['eval', 'library', '--strategies', 'manual']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown strategy 'manual'/);
});

test('λ = auto with an unreadable library adapter: a warning, and λ*/2', async () => {
  clearLambdaChoices();
  const moved = records.find((r) => r.name === 'grammar-01')!.path;
  fs.renameSync(moved, `${moved}.away`);
  const recipeFile = path.join(demo, 'recipes', 'code-14.compose.yaml');
  const text = fs.readFileSync(recipeFile, 'utf8').replace('rho: 0.5', 'lambda: auto');
  const planner = createPlanner();
  try {
    const outcome = await planner.plan(text, recipeFile, { provider: 'cpu' });
    assert.ok(outcome.plan, JSON.stringify(outcome.problems));
    const warning = outcome.problems.find((p) => p.code === 'lambda-auto-failed');
    assert.ok(warning && warning.severity === 'warning' && /grammar-01/.test(warning.message), warning?.message);
    const sparse = outcome.plan.strategies.sparse!;
    assert.ok(Math.abs(sparse.lambda! - 0.5 * sparse.lambda_star!) <= 1e-12 * sparse.lambda_star!);
  } finally {
    fs.renameSync(`${moved}.away`, moved);
    clearLambdaChoices();
    await planner.dispose();
  }
});

test('a zero adapter (the base model as a candidate) is a candidate but never a scored target: its relative ΔW error is undefined', async () => {
  const zeroDir = path.join(root, 'zero-base');
  writeZeroAdapter(records[0].path, zeroDir, records[0].base);
  const dim = records[0].prototype.length;
  const centre = Array.from({ length: dim }, (_, j) => records.reduce((a, r) => a + r.prototype[j], 0) / records.length);
  const zero: AdapterRecord = { ...records[0], name: 'zz-base-model', path: zeroDir, tags: ['base'], prototype: centre };
  const result = await leaveOneOut([...records, zero], { strategies: ['avg', 'sparse'], lambdaCurve: true });
  assert.ok(!result.targets.some((t) => t.target === zero.name), 'the zero adapter is not scored as a target');
  const skip = result.skipped.find((s) => s.target === zero.name);
  assert.ok(skip && /ΔW is zero/.test(skip.reason), JSON.stringify(result.skipped));
  assert.ok(result.targets.some((t) => t.candidates.some((c) => c.name === zero.name)), 'it still serves as a candidate');
  assert.equal(result.targets.length, records.length);
  for (const t of result.targets) assert.ok(t.strategies.avg!.delta_rel_error < 5, `${t.target}: ${t.strategies.avg!.delta_rel_error}`);
  assert.equal(result.lambda_curve!.targets, records.length);
});
