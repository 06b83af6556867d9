/**
 * `retrieve.where` as an attack surface (issue 10, items 3 and 4): a filter that closes its
 * parenthesis to escape the base filter and the exclusions, and a long flat filter that crashed
 * LanceDB natively (SIGSEGV, ~650 OR terms). The filter is parsed and rebuilt (whereFilter.ts); these
 * tests drive the real CLI, planner and LanceDB.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPlanner } from '../../server/src/engine/planner';
import { openLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { canonicalWhere, parseWhere, WHERE_LIMITS, WhereError } from '../../server/src/engine/library/whereFilter';
import { cli, demoWorkspace, ensureBuilt } from './workspace';

let ws: string;
const OTHER_BASE = 'other/base-model';

before(async () => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-where-');
  // An adapter of another base model, nearest to everything, that a base escape would retrieve.
  const src = path.join(ws, 'adapters', 'grammar-02');
  const dst = path.join(ws, 'adapters', 'other-base');
  fs.cpSync(src, dst, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dst, 'adapter_config.json'), 'utf8'));
  config.base_model_name_or_path = OTHER_BASE;
  fs.writeFileSync(path.join(dst, 'adapter_config.json'), JSON.stringify(config));
  const library = await openLibrary(path.join(ws, 'library'));
  const twin = (await library.get('grammar-01'))!;
  await library.add(await adapterRecord(library, { adapterPath: dst, name: 'other-base', source: { vector: Float64Array.from(twin.prototype) } }));
  library.close();
});

function recipe(where: string): string {
  const text = fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8');
  return text.replace(/retrieve:\n(?:[ \t]+.*\n)*/, `retrieve:\n  k: 5\n  exclude: [grammar-01]\n  where: ${where}\n`);
}

test('a `where` that closes its parenthesis cannot escape the base filter or the exclusions', async () => {
  const attacks = [
    `"name='x') OR (name='other-base'"`,
    `"rank > 0) OR (base = '${OTHER_BASE}'"`,
    `"name <> 'x') OR (name = 'grammar-01'"`,
    `"name = 'x' ) OR ( 1 = 1"`,
  ];
  const planner = createPlanner();
  try {
    for (const where of attacks) {
      const file = path.join(ws, 'recipes', 'escape.compose.yaml');
      const text = recipe(where);
      fs.writeFileSync(file, text);
      const outcome = await planner.plan(text, file, { workspaceRoot: ws });
      const errors = outcome.problems.filter((p) => p.severity === 'error');
      assert.ok(errors.length > 0, `${where} was accepted: candidates ${outcome.candidates?.map((c) => c.name).join(',')}`);
      assert.ok(errors.every((p) => p.code === 'where'), JSON.stringify(errors));
      // Located inside the where string, at the `)` that closes nothing.
      const line = text.split('\n').findIndex((l) => l.includes('where:'));
      assert.equal(errors[0].range.start.line, line);
      const col = errors[0].range.start.character;
      assert.equal(text.split('\n')[line][col], ')', `points at the stray parenthesis: ${JSON.stringify(errors[0])}`);
      assert.ok(!outcome.candidates?.some((c) => c.base !== 'demo/tiny-transformer' || c.name === 'grammar-01'));
    }
    // `check` says so too, with file:line:col.
    const r = cli(['check', path.join(ws, 'recipes', 'escape.compose.yaml')], { cwd: ws });
    assert.equal(r.status, 1);
    assert.match(r.stdout + r.stderr, /escape\.compose\.yaml:\d+:\d+: error: `where`: expected the end of the filter/);
  } finally {
    await planner.dispose();
  }
});

test('Library.search checks every hit after retrieval, and exclusions survive any filter', async () => {
  const library = await openLibrary(path.join(ws, 'library'));
  try {
    const target = (await library.get('grammar-01'))!.prototype;
    // Direct engine calls with the escape: refused with the offsets of the stray parenthesis.
    await assert.rejects(library.search(Float64Array.from(target), { k: 5, base: 'demo/tiny-transformer', where: "name='x') OR (name='other-base'", exclude: ['grammar-01'] }),
      (e: unknown) => e instanceof WhereError && e.start === "name='x'".length);
    // A legitimate OR filter stays inside its parentheses: base and exclusion still hold.
    const hits = await library.search(Float64Array.from(target), { k: 20, base: 'demo/tiny-transformer', where: "name = 'other-base' OR name = 'grammar-01' OR rank >= 0", exclude: ['grammar-01'] });
    assert.ok(hits.length > 0);
    for (const h of hits) {
      assert.equal(h.record.base, 'demo/tiny-transformer');
      assert.notEqual(h.name, 'grammar-01');
    }
    // The other-base adapter is retrievable under its own base (the filter itself works).
    const own = await library.search(Float64Array.from(target), { k: 3, base: OTHER_BASE, where: "array_has(tags, 'demo') OR tags IS NOT NULL" });
    assert.deepEqual(own.map((h) => h.name), ['other-base']);
  } finally {
    library.close();
  }
});

test('the filter grammar: canonical SQL re-quotes literals, located errors for what is not allowed', () => {
  // Canonical output is self-contained and re-quoted: a quote inside a string stays inside it.
  assert.equal(canonicalWhere("name = 'it''s'"), "(name = 'it''s')");
  assert.equal(canonicalWhere("rank<=16 and array_has(tags,'math')"), "((rank <= 16) AND array_has(tags, 'math'))");
  assert.equal(canonicalWhere("NOT (name IN ('a', 'b')) OR description LIKE '%x%'"), "((NOT (name IN ('a', 'b'))) OR (description LIKE '%x%'))");
  assert.equal(canonicalWhere('alpha > -1.5e3 AND details IS NOT NULL'), '((alpha > -1.5e3) AND (details IS NOT NULL))');
  const cases: [string, RegExp, string][] = [
    ['prototype = 1', /unknown column `prototype`/, 'prototype'],
    ['nmae = \'x\'', /did you mean `name`/, 'nmae'],
    ["rank = 'x'", /`rank` is a number/, "'x'"],
    ["name = 1", /`name` is a string/, '1'],
    ["tags = 'a'", /is a list: use array_has/, "tags ="],
    ["name = 'x'; DROP TABLE adapters", /unexpected `;`/, ';'],
    ["lower(name) = 'x'", /unknown function `lower`/, 'lower'],
    ["name = 'x", /unterminated string/, "'x"],
    ["(name = 'x'", /ends early: expected `\)`/, ''],
  ];
  for (const [text, pattern, at] of cases) {
    assert.throws(() => parseWhere(text), (e: unknown) => {
      assert.ok(e instanceof WhereError, String(e));
      assert.match(e.message, pattern, text);
      assert.equal(text.slice(e.start, e.start + at.length), at, `${text}: offsets ${e.start}-${e.end}`);
      return true;
    });
  }
});

test('a long flat `where` (650 ORs) is refused before LanceDB: check and plan survive', async () => {
  const long = Array.from({ length: 650 }, (_, i) => `name = 'a${i}'`).join(' OR ');
  assert.ok(long.length > 8000);
  assert.throws(() => parseWhere(long), (e: unknown) => e instanceof WhereError && /at most 4096|more than 64/.test(e.message));
  // Within the length bound but over the predicate bound.
  const many = Array.from({ length: WHERE_LIMITS.predicates + 1 }, () => 'rank=1').join(' OR ');
  assert.throws(() => parseWhere(many), (e: unknown) => e instanceof WhereError && /more than 64 conditions/.test(e.message) && many.slice(e.start, e.end) === 'rank');
  // Deep nesting.
  const deep = `${'('.repeat(WHERE_LIMITS.depth + 1)}rank=1${')'.repeat(WHERE_LIMITS.depth + 1)}`;
  assert.throws(() => parseWhere(deep), (e: unknown) => e instanceof WhereError && /nests deeper/.test(e.message));
  // The largest allowed filter runs in LanceDB (balanced tree) without crashing.
  const largest = Array.from({ length: WHERE_LIMITS.predicates }, (_, i) => `name = 'a${i}'`).join(' OR ');
  const library = await openLibrary(path.join(ws, 'library'));
  assert.deepEqual(await library.list({ where: `${largest.slice(0, -"'a63'".length)}'grammar-05'` }).then((r) => r.map((x) => x.name)), ['grammar-05']);
  library.close();

  for (const where of [JSON.stringify(long)]) {
    const file = path.join(ws, 'recipes', 'long-where.compose.yaml');
    fs.writeFileSync(file, recipe(where));
    for (const command of ['check', 'plan']) {
      const r = cli([command, file], { cwd: ws });
      assert.equal(r.signal, null, `${command} died: ${r.signal}`);
      assert.equal(r.status, 1, `${command}: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, /long-where\.compose\.yaml:\d+:\d+: error: `where`: the filter is \d+ characters long/);
    }
  }
});
