// `adapter-composer new`: the recipe it writes parses, passes `check` against the real library (so the
// schema's defaults and the library's base are right), names its paths relative to itself, picks the
// target kind from the file, and never overwrites an existing file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { main } from '../../server/src/cli/main';
import { schemaDefault } from '../../server/src/engine/recipe/template';
import { DEFAULT_RHO } from '../../server/src/engine/weights';
import { ADAPTERS, BASE, buildFixture, removeFixture, type Fixture } from '../lsp/fixture';

let fixture: Fixture;
before(async () => {
  fixture = await buildFixture('ac-new-');
});
after(() => removeFixture(fixture));

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t + '\n'; }, err: (t) => { err += t + '\n'; }, isTTY: false, cwd });
  return { code, out, err };
}

test('new writes a commented recipe with the library base and schema defaults, and it checks clean', async () => {
  const dir = path.join(fixture.root, 'recipes', 'made');
  fs.mkdirSync(dir, { recursive: true });
  const r = await cli(['new', 'made/first', '--library', '../library', '--target', '../data/target.proto.npy', '--json'], fixture.recipes);
  assert.equal(r.code, 0, r.err);
  const file = path.join(dir, 'first.compose.yaml');
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^# first: /);
  const recipe = parseYaml(text);
  // The most common base of the fixture library.
  const counts = new Map<string, number>();
  for (const a of Object.values(ADAPTERS)) counts.set(a.base, (counts.get(a.base) ?? 0) + 1);
  assert.equal(recipe.base, [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0]);
  assert.equal(recipe.base, BASE);
  assert.equal(path.resolve(dir, recipe.library), fixture.library);
  assert.deepEqual(Object.keys(recipe.target), ['prototype'], 'a 1-d .npy is a prototype');
  assert.equal(path.resolve(dir, recipe.target.prototype), path.join(fixture.root, 'data/target.proto.npy'));
  assert.equal(recipe.retrieve.k, schemaDefault(['retrieve', 'k']));
  assert.equal(recipe.weights.strategy, schemaDefault(['weights', 'strategy']));
  assert.equal(recipe.merge.method, schemaDefault(['merge', 'method']));
  assert.equal(recipe.merge.rank, undefined, 'no rank for the default cat merge (check would warn it is unused)');
  assert.match(text, new RegExp(`# rank: ${String(schemaDefault(['merge', 'rank']))}\\b`));
  // a library of classification adapters (PEFT modules_to_save heads) is refused until the recipe says
  // drop or average: the template shows where (new-user walkthrough: nothing in it hinted at the key)
  assert.ok(text.includes('\n  # modules_to_save: refuse   # refuse | drop | average\n'), text);
  assert.equal(recipe.merge.modules_to_save, undefined);
  const check = await cli(['check', file], fixture.root);
  assert.equal(check.code, 0, check.out + check.err);
  assert.ok(!/: warning:/.test(check.out + check.err), `a new recipe checks without warnings: ${check.out}${check.err}`);
  // Every comment says something true: no `undefined` default, and the sparse penalty as the engine applies it.
  assert.ok(!/undefined/.test(text), text);
  assert.match(text, new RegExp(`# rho: ${DEFAULT_RHO}\\b`));
  assert.ok(!/omitted: chosen from the library/.test(text), 'an omitted λ is ρ·λ* with the default ρ, not a leave-one-out choice');
});

test('new refuses to overwrite, and takes folders and globs as samples', async () => {
  const again = await cli(['new', 'made/first', '--library', '../library', '--target', '../data/target.proto.npy'], fixture.recipes);
  assert.notEqual(again.code, 0);
  assert.match(again.err, /already exists/);
  const globbed = await cli(['new', 'globbed', '--library', 'library', '--target', 'data/*.npy', '--strategy', 'convex', '--base', 'demo/llm'], fixture.root);
  assert.equal(globbed.code, 0, globbed.err);
  const recipe = parseYaml(fs.readFileSync(path.join(fixture.root, 'globbed.compose.yaml'), 'utf8'));
  assert.equal(recipe.target.samples, './data/*.npy');
  assert.equal(recipe.weights.strategy, 'convex');
  assert.equal(recipe.base, 'demo/llm');
  // the library holds one adapter of demo/llm: k is that, not the schema's 5 (which check would flag)
  assert.equal(recipe.retrieve.k, Object.values(ADAPTERS).filter((a) => a.base === 'demo/llm').length);
  const folder = await cli(['new', 'folder', '--library', 'library', '--target', 'data'], fixture.root);
  assert.equal(folder.code, 0, folder.err);
  assert.equal(parseYaml(fs.readFileSync(path.join(fixture.root, 'folder.compose.yaml'), 'utf8')).target.samples, './data/*');
  const bad = await cli(['new', 'x', '--library', 'library', '--target', 'data', '--strategy', 'magic'], fixture.root);
  assert.match(bad.err, /unknown strategy/);
});
