/**
 * Looking inside the geometry from the CLI: the stored prototype (bit for bit), the plan's target norm
 * and candidates' pairwise distances, and eval's target × adapter distance matrix — each compared with
 * an independent float64 computation from what was added.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../server/src/cli/main';
import { buildDemoWorkspace } from '../../server/src/engine/demo/buildDemo';
import { initLibrary } from '../../server/src/engine/library/library';
import { writeNpy } from '../../server/src/engine/prototype/npy';
import { gaussian, seededRandom } from './reference';
import { DEFAULT_RHO } from '../../server/src/engine/weights';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-geometry-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const demo = path.join(root, 'demo');

async function cli(args: string[], cwd = demo): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; }, isTTY: false, cwd });
  return { code, out, err };
}

const squared = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return s; };

before(async () => {
  await buildDemoWorkspace(demo);
});

test('library show --prototype --json prints the prototype bit for bit as added; ls --json has no empty prototype', async () => {
  const dir = path.join(root, 'exact');
  const library = await initLibrary(dir, { dim: 6 });
  const random = seededRandom(1250);
  const given = Array.from({ length: 6 }, () => 1e6 + gaussian(random) / 3);
  given[2] = 0.1;
  given[3] = -Number.MIN_VALUE;
  await library.add({ name: 'x', base: 'b', rank: 4, alpha: 8, target_modules: ['q'], format: 'peft', path: '/a/x', sha256: 'ab'.repeat(32), prototype: given, description: '', tags: [], created_at: '2024-01-01T00:00:00.000Z' });
  library.close();
  const shown = await cli(['library', 'show', dir, 'x', '--prototype', '--json'], root);
  assert.equal(shown.code, 0, shown.err);
  const parsed = JSON.parse(shown.out);
  assert.deepEqual(Float64Array.from(parsed.prototype), Float64Array.from(given), 'bit for bit (float64 round trip)');
  assert.equal(parsed.prototype_precision, 'float64');
  const text = await cli(['library', 'show', dir, 'x', '--prototype'], root);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^prototype +\S+( \S+){5}$/m);
  const without = JSON.parse((await cli(['library', 'show', dir, 'x', '--json'], root)).out);
  assert.equal(without.prototype, undefined);
  const listed = JSON.parse((await cli(['library', 'ls', dir, '--json'], root)).out);
  assert.equal(listed.length, 1);
  assert.ok(!('prototype' in listed[0]), 'no "prototype": [] in ls --json');
});

test('plan --json carries the target norm and the candidates\' pairwise distances; eval --distances the target × adapter matrix', async () => {
  const recipe = path.join('recipes', 'grammar-01.compose.yaml');
  const planned = await cli(['plan', recipe, '--json']);
  assert.equal(planned.code, 0, planned.err);
  const plan = JSON.parse(planned.out);
  const listed = await cli(['library', 'show', 'library', plan.candidates[0].name, '--prototype', '--json']);
  const first = JSON.parse(listed.out).prototype as number[];
  const prototypes: number[][] = [first];
  for (const c of plan.candidates.slice(1)) prototypes.push(JSON.parse((await cli(['library', 'show', 'library', c.name, '--prototype', '--json'])).out).prototype);
  const k = plan.candidates.length;
  assert.equal(plan.candidate_distances.length, k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    assert.ok(Math.abs(plan.candidate_distances[i][j] - squared(prototypes[i], prototypes[j])) <= 1e-12 * (1 + plan.candidate_distances[i][j]));
    assert.equal(plan.candidate_distances[i][j], plan.candidate_distances[j][i]);
  }
  // The target norm: a recipe whose target is a float64 prototype file we wrote.
  const target = Float64Array.from(prototypes[0], (x, i) => x + 0.25 * Math.cos(i + 1));
  writeNpy(path.join(demo, 'recipes', 't.npy'), target);
  const text0 = fs.readFileSync(path.join(demo, recipe), 'utf8').replace(/target:\n {2}samples: .*\n/, 'target:\n  prototype: t.npy\n');
  fs.writeFileSync(path.join(demo, 'recipes', 'norm.compose.yaml'), text0);
  const normed = await cli(['plan', path.join('recipes', 'norm.compose.yaml'), '--json']);
  assert.equal(normed.code, 0, normed.err);
  const expectedNorm = Math.sqrt(target.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(JSON.parse(normed.out).target.norm - expectedNorm) <= 1e-14 * expectedNorm);
  const evaluated = await cli(['eval', 'library', '--strategies', 'sparse', '--distances', '--json']);
  assert.equal(evaluated.code, 0, evaluated.err);
  const { distances } = JSON.parse(evaluated.out);
  const proto = async (name: string) => JSON.parse((await cli(['library', 'show', 'library', name, '--prototype', '--json'])).out).prototype as number[];
  assert.equal(distances.targets.length, 14);
  for (const [r, t] of distances.targets.slice(0, 3).entries()) {
    const pt = await proto(t);
    for (const [c, n] of distances.names.entries()) {
      const expected = squared(pt, await proto(n));
      assert.ok(Math.abs(distances.squared_l2[r][c] - expected) <= 1e-12 * (1 + expected), `${t} × ${n}`);
    }
    assert.equal(distances.squared_l2[r][distances.names.indexOf(t)], 0);
  }
  const text = await cli(['eval', 'library', '--strategies', 'sparse', '--distances']);
  assert.match(text.out, /Squared prototype distances/);
});

test('plan --help names every top-level field of plan --json', async () => {
  const planned = await cli(['plan', path.join('recipes', 'grammar-01.compose.yaml'), '--json']);
  assert.equal(planned.code, 0, planned.err);
  const help = await cli(['plan', '--help']);
  assert.equal(help.code, 0, help.err);
  // the --json option's description, up to the next option
  const described = /--json\s+([\s\S]*?)\n {2}--/.exec(help.out)?.[1] ?? '';
  const named = new Set(described.match(/[a-z_]+/g) ?? []);
  assert.deepEqual(Object.keys(JSON.parse(planned.out)).filter((k) => !named.has(k)), [], described);
});

test('a recipe whose strategy is not sparse shows sparse with the parameters it was computed with (ρ, λ), and sim with τ', async () => {
  const text = fs.readFileSync(path.join(demo, 'recipes', 'grammar-02.compose.yaml'), 'utf8').replace('strategy: sparse', 'strategy: lin').replace(/\n {2}rho: .*\n/, '\n');
  fs.writeFileSync(path.join(demo, 'recipes', 'lin.compose.yaml'), text);
  const json = await cli(['plan', path.join('recipes', 'lin.compose.yaml'), '--json']);
  assert.equal(json.code, 0, json.err);
  const plan = JSON.parse(json.out);
  const sparse = plan.strategies.sparse;
  assert.equal(plan.strategy, 'lin');
  assert.equal(sparse.rho, DEFAULT_RHO);
  assert.ok(sparse.lambda_star > 0);
  assert.equal(sparse.lambda, DEFAULT_RHO * sparse.lambda_star);
  const table = await cli(['plan', path.join('recipes', 'lin.compose.yaml')]);
  assert.ok(table.out.includes(`sparse ρ=${DEFAULT_RHO} λ=`), table.out);
  assert.match(table.out, /sim τ=\S+/);
  assert.match(table.out, /lin \*/);
});

test('eval --rho evaluates sparse at λ = ρ·λ* of each problem; --form lasso the lasso form; a recipe\'s rho is used', async () => {
  const relative = JSON.parse((await cli(['eval', 'library', '--strategies', 'sparse', '--rho', '0.25', '--json'])).out);
  assert.equal(relative.rho, 0.25);
  for (const t of relative.targets) assert.equal(t.strategies.sparse.lambda, 0.25 * t.lambda_star);
  const lasso = JSON.parse((await cli(['eval', 'library', '--strategies', 'sparse', '--rho', '0.25', '--form', 'lasso', '--json'])).out);
  assert.equal(lasso.form, 'lasso');
  for (const t of lasso.targets) assert.ok(Math.abs(Object.values(t.strategies.sparse.weights as Record<string, number>).reduce((s, w) => s + w, 0) - 1) < 1e-12);
  assert.notDeepEqual(lasso.summary.sparse, relative.summary.sparse);
  const fromRecipe = JSON.parse((await cli(['eval', path.join('recipes', 'grammar-01.compose.yaml'), '--strategies', 'sparse', '--json'])).out);
  assert.equal(fromRecipe.rho, DEFAULT_RHO, 'the demo recipe says rho: 0.5');
  assert.equal((await cli(['eval', 'library', '--rho', '1', '--lambda', '2'])).code, 2);
});
