/**
 * Adapter names that are Object.prototype members (issue 10, item 10): `__proto__`, `constructor`,
 * `hasOwnProperty`, `toString`. With `{}` tables, `out['__proto__'] = w` dropped the weight (NaN in
 * the plan table, the rest summing to 0.54) and `manual: {__proto__: 0.5, constructor: 0.5}` composed
 * 0.5 × constructor. Real library rows with these names must behave exactly like any other name:
 * compared here against the same adapters under ordinary names.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPlanner } from '../../server/src/engine/planner';
import { compose } from '../../server/src/engine/compose';
import { openLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { SafetensorsFile } from '../../server/src/engine/lora/safetensors';
import { STRATEGIES } from '../../server/src/engine/types';
import { cli, demoWorkspace, ensureBuilt } from './workspace';

let ws: string;
/** Hostile name → the demo adapter it is a copy of (same files, same prototype). */
const TWINS: [string, string][] = [['__proto__', 'grammar-05'], ['constructor', 'math-11'], ['hasOwnProperty', 'legal-03'], ['toString', 'code-14']];
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

before(async () => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-names-');
  const library = await openLibrary(path.join(ws, 'library'));
  for (const [name, twin] of TWINS) {
    const dir = path.join(ws, 'adapters', `copy-of-${twin}`);
    fs.cpSync(path.join(ws, 'adapters', twin), dir, { recursive: true });
    const row = (await library.get(twin))!;
    await library.add(await adapterRecord(library, { adapterPath: dir, name, source: { vector: Float64Array.from(row.prototype) } }));
  }
  library.close();
});

function recipe(name: string, retrieve: string, weights: string, extra = ''): string {
  let text = fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8');
  text = text.replace(/retrieve:\n(?:[ \t]+.*\n)*/, `retrieve: ${retrieve}\n`).replace(/weights:\n(?:[ \t]+.*\n)*/, `weights: ${weights}\n`).replace(/merge:\n(?:[ \t]+.*\n)*/, 'merge: { method: cat }\n');
  text = text.replace(/^output: .*$/m, `output: ../out/${name}`) + extra;
  const file = path.join(ws, 'recipes', `${name}.compose.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

test('every strategy weighs `__proto__`, `constructor`, … exactly as it weighs the same adapters under plain names', async () => {
  const planner = createPlanner();
  try {
    const hostile = recipe('names-hostile', `{ adapters: [${TWINS.map(([n]) => JSON.stringify(n)).join(', ')}] }`, '{ strategy: sparse, lambda: 0.01 }');
    const plain = recipe('names-plain', `{ adapters: [${TWINS.map(([, t]) => t).join(', ')}] }`, '{ strategy: sparse, lambda: 0.01 }');
    const a = await planner.plan(fs.readFileSync(hostile, 'utf8'), hostile, { workspaceRoot: ws });
    const b = await planner.plan(fs.readFileSync(plain, 'utf8'), plain, { workspaceRoot: ws });
    assert.ok(a.plan && b.plan, JSON.stringify(a.problems));
    for (const s of STRATEGIES) {
      const wa: Record<string, number> | undefined = a.plan.strategies[s]?.weights;
      const wb: Record<string, number> | undefined = b.plan.strategies[s]?.weights;
      if (!wb) continue;
      assert.ok(wa, s);
      for (const [name, twin] of TWINS) {
        assert.ok(own(wa, name), `${s}: no own weight for ${name}`);
        assert.equal(typeof wa[name], 'number');
        assert.ok(Math.abs(wa[name] - wb[twin]) <= 1e-12, `${s}: ${name} ${wa[name]} vs ${twin} ${wb[twin]}`);
      }
      assert.deepEqual(Object.keys(wa).sort(), TWINS.map(([n]) => n).sort());
    }
    // The CLI's plan table shows numbers, not NaN.
    const r = cli(['plan', hostile, '--workspace', ws], { cwd: ws });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /NaN/);
    for (const [name] of TWINS) assert.match(r.stdout, new RegExp(`^${name}\\s`, 'm'));
  } finally {
    await planner.dispose();
  }
});

/** ΔW = Σ B·A per module of a composite, for comparing two composites independently of factor order. */
function deltas(dir: string): Map<string, Float64Array> {
  const file = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
  const out = new Map<string, Float64Array>();
  for (const [name, info] of file.tensors) {
    if (!name.includes('lora_A')) continue;
    const bName = name.replace('lora_A', 'lora_B');
    const A = file.readFloat64(name);
    const B = file.readFloat64(bName);
    const [r, n] = info.shape;
    const m = file.tensors.get(bName)!.shape[0];
    const d = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let k = 0; k < r; k++) for (let j = 0; j < n; j++) d[i * n + j] += B[i * r + k] * A[k * n + j];
    out.set(name, d);
  }
  return out;
}

test('manual {__proto__: 0.5, constructor: 0.5} passes check and composes both, like the same adapters under plain names', async () => {
  const hostile = recipe('manual-hostile', '{ k: 5 }', '{ strategy: manual, manual: { __proto__: 0.5, constructor: 0.5 } }');
  const plain = recipe('manual-plain', '{ k: 5 }', '{ strategy: manual, manual: { grammar-05: 0.5, math-11: 0.5 } }');
  const check = cli(['check', hostile], { cwd: ws });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const a = await compose(hostile, { workspaceRoot: ws });
  const b = await compose(plain, { workspaceRoot: ws });
  assert.deepEqual(Object.keys(a.weights).filter((n) => a.weights[n] !== 0).sort(), ['__proto__', 'constructor']);
  assert.ok(own(a.weights, '__proto__') && a.weights['__proto__'] === 0.5 && (a.weights as Record<string, unknown>)['constructor'] === 0.5);
  const lock = JSON.parse(fs.readFileSync(hostile.replace(/\.yaml$/, '.lock'), 'utf8'));
  assert.ok(own(lock.weights, '__proto__') && lock.weights['__proto__'] === 0.5, JSON.stringify(lock.weights));
  const composition = JSON.parse(fs.readFileSync(path.join(a.output, 'composition.json'), 'utf8'));
  assert.deepEqual(composition.inputs.map((i: { name: string; weight: number }) => [i.name, i.weight]).sort(), [['__proto__', 0.5], ['constructor', 0.5]]);
  const da = deltas(a.output);
  const db = deltas(b.output);
  assert.equal(da.size, db.size);
  for (const [name, d] of da) {
    const e = db.get(name)!;
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < d.length; i++) {
      diff = Math.max(diff, Math.abs(d[i] - e[i]));
      norm = Math.max(norm, Math.abs(e[i]));
    }
    assert.ok(norm > 0 && diff <= 1e-6 * norm, `${name}: ${diff} vs ${norm}`);
  }
  // compose --locked re-reads the lock: the names survive the round trip.
  await compose(hostile, { workspaceRoot: ws, locked: true });
});

test('names with line breaks or control characters: refused at add; rows already there print on one line in `library ls`', async () => {
  const library = await openLibrary(path.join(ws, 'library'));
  const twin = (await library.get('grammar-05'))!;
  for (const name of ['evil\nname', 'bell\u0007', 'sep\u2028x', 'esc\u001b[31mred']) {
    await assert.rejects(library.add({ ...twin, name }), (e: unknown) => e instanceof Error && /control character U\+/.test(e.message), JSON.stringify(name));
  }
  library.close();
  // A row written by another tool (straight through LanceDB, no validation).
  const lancedb = await import('@lancedb/lancedb');
  const { rowFromRecord, ADAPTERS_TABLE } = await import('../../server/src/engine/library/schema');
  const db = await lancedb.connect(path.join(ws, 'library'));
  const table = await db.openTable(ADAPTERS_TABLE);
  await table.add([rowFromRecord({ ...twin, name: 'two\nlines\u001b[2J' })]);
  table.close();
  db.close();
  const r = cli(['library', 'ls', path.join(ws, 'library')], { cwd: ws });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const after = await openLibrary(path.join(ws, 'library'));
  assert.equal(lines.length, (await after.size()) + 1, 'one line per adapter plus the header');
  after.close();
  assert.ok(lines.some((l) => l.startsWith('two\\nlines\\u001b[2J ')), r.stdout);
  // eslint-disable-next-line no-control-regex -- asserting that no escape character reaches the terminal
  assert.doesNotMatch(r.stdout, /\u001b/);
});
