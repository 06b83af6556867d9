/**
 * The language service without a transport: document model, schema reading, lenses, completion
 * places, edits, and the planning scheduler (debounce + cancellation) with a fake planner.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { PlanOutcome, Planner, PlanOptions } from '../../server/src/engine/planner';
import type { AdapterRecord, PlanJson } from '../../server/src/engine/types';
import { PlanScheduler } from '../../server/src/lsp/planScheduler';
import { codeActions } from '../../server/src/service/codeActions';
import { codeLenses, othersTitle, selectedTitle, truncationWarning } from '../../server/src/service/codeLens';
import { pinWeightsEdit, roundWeights, setLambdaEdit } from '../../server/src/service/commands';
import { completion, cursorPlace } from '../../server/src/service/completion';
import { diagnostics } from '../../server/src/service/diagnostics';
import { hover } from '../../server/src/service/hover';
import { inlayHints } from '../../server/src/service/inlayHints';
import { shortNumber, weightText } from '../../server/src/service/numberText';
import { MAX_RECIPE_BYTES, RecipeDocument } from '../../server/src/service/recipeDocument';
import { RecipeSchema, loadRecipeSchema } from '../../server/src/service/recipeSchema';
import type { FileSystemView, RecipeView } from '../../server/src/service/recipeView';
import { documentSymbols } from '../../server/src/service/symbols';
import { ClientCommands } from '../../server/src/protocol';

const RECIPE = `compose: 1
base: demo/sam
library: ../library
target:
  prototype: ../data/t.npy
retrieve:
  k: 3
  exclude: [prostate-e]
weights:
  strategy: sparse
  lambda: 0.05
output: ../out/x
`;

function record(name: string, prototype: number[]): AdapterRecord {
  return { name, base: 'demo/sam', rank: 4, alpha: 8, target_modules: ['q_proj'], format: 'peft', path: `/lib/${name}`, sha256: 'x', prototype, description: `about ${name}`, tags: ['t'], created_at: '' };
}

function planJson(): PlanJson {
  return {
    recipe: '/ws/r.compose.yaml',
    target: { dim: 2, source: 'prototype', count: 1 },
    candidates: [
      { name: 'prostate-f', distance: 0.5 },
      { name: 'prostate-b', distance: 1.25 },
      { name: 'prostate-a', distance: 2 },
    ],
    strategies: {
      sparse: { weights: { 'prostate-f': 0.9876, 'prostate-b': 0.5, 'prostate-a': -0.4876 }, objective: 1, residual: 3.14159, nonzero: 3, lambda: 0.05 },
      avg: { weights: { 'prostate-f': 1 / 3, 'prostate-b': 1 / 3, 'prostate-a': 1 / 3 }, objective: 1, residual: 4.1234, nonzero: 3 },
      convex: { weights: { 'prostate-f': 0.7, 'prostate-b': 0.3, 'prostate-a': 0 }, objective: 1, residual: 2.96, nonzero: 2 },
    },
    strategy: 'sparse',
    warnings: [],
  };
}

function view(text: string, outcome?: PlanOutcome): RecipeView {
  return { uri: 'file:///ws/recipes/r.compose.yaml', file: '/ws/recipes/r.compose.yaml', document: RecipeDocument.parse(text), outcome };
}

function planned(text = RECIPE): RecipeView {
  return view(text, { isRecipe: true, problems: [], plan: planJson(), adapters: [record('prostate-a', [1, 0]), record('prostate-b', [0, 1]), record('prostate-e', [1, 1]), record('prostate-f', [0.5, 0.5])] });
}

/** Applies LSP text edits to a string (independently of the service's own offset code). */
function applyEdits(text: string, edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((s, l) => s + l.length + 1, 0) + p.character;
  const sorted = [...edits].map((e, i) => ({ e, i })).sort((a, b) => offset(b.e.range.start) - offset(a.e.range.start) || b.i - a.i);
  let out = text;
  for (const { e } of sorted) out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  return out;
}

const schema = new RecipeSchema(loadRecipeSchema()!);

describe('recipe document', () => {
  it('locates keys and values with exact ranges', () => {
    const doc = RecipeDocument.parse(RECIPE);
    assert.equal(doc.isRecipe, true);
    const lambda = doc.entry(['weights', 'lambda'])!;
    assert.deepEqual(doc.rangeOf(lambda.key!.span), { start: { line: 10, character: 2 }, end: { line: 10, character: 8 } });
    assert.equal(lambda.value?.scalar, 0.05);
    const excluded = doc.entry(['retrieve', 'exclude', 0])!;
    assert.equal(excluded.value?.scalar, 'prostate-e');
    const hit = doc.at(doc.offsetAt({ line: 7, character: 15 }))!;
    assert.deepEqual(hit.entry.path, ['retrieve', 'exclude', 0]);
    assert.equal(hit.part, 'value');
    for (const offset of [0, 17, 100, RECIPE.length]) assert.equal(doc.offsetAt(doc.positionAt(offset)), offset);
  });

  it('survives junk, deep nesting, alias bombs and oversize text', () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
    const deepBlock = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}-`).join('\n');
    for (const deep of ['compose: 1\nx: ' + '['.repeat(100_000), deepBlock, '{a: '.repeat(2000)]) {
      const doc = RecipeDocument.parse(deep);
      assert.ok(doc.tooDeep, 'pathological nesting is caught before the YAML parser sees it');
      const d = diagnostics({ ...view(''), document: doc, outcome: { isRecipe: true, problems: [] } });
      assert.equal(d[0].code, 'too-deep');
    }
    assert.equal(RecipeDocument.parse(RECIPE + "description: it's [fine] {really}\n").tooDeep, undefined);
    assert.equal(RecipeDocument.parse('x: ' + '['.repeat(100) + ']'.repeat(100)).tooDeep, undefined);
    for (const text of [junk, `a: &a [1,1,1,1]\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c]\ncompose: 1\n`, '\u0000\u0001compose: 1']) {
      const doc = RecipeDocument.parse(text);
      assert.ok(Array.isArray(documentSymbols({ ...view(text), document: doc })));
    }
    const big = RecipeDocument.parse('compose: 1\n' + 'x'.repeat(MAX_RECIPE_BYTES + 1));
    assert.equal(big.tooLarge, true);
    assert.equal(big.entries.length, 0);
    const d = diagnostics({ ...view(''), document: big, outcome: { isRecipe: false, problems: [] } });
    assert.equal(d.length, 1);
    assert.equal(d[0].severity, 3);
  });

  it('a YAML file without `compose:` gets one information note and no features', () => {
    const v = view('services:\n  web: {image: nginx}\n', { isRecipe: false, problems: [] });
    const d = diagnostics(v);
    assert.equal(d.length, 1);
    assert.equal(d[0].severity, 3);
    assert.deepEqual(codeLenses(v), []);
    assert.deepEqual(documentSymbols(v), []);
  });
});

describe('numbers and lenses', () => {
  it('formats weights with a real minus sign and 2 decimals', () => {
    assert.equal(weightText(-0.4876), '\u22120.49');
    assert.equal(weightText(0.9876), '0.99');
    assert.equal(weightText(0.003), '0.003');
    assert.equal(weightText(-0.0001), '\u22120.0001');
    assert.equal(shortNumber(3.14159), '3.1');
    assert.equal(shortNumber(0.05), '0.05');
    assert.equal(shortNumber(-2.5e-9), '\u22122.5e-9');
  });

  it('shows the selected strategy sorted by weight, zeros omitted, and the others in one line', () => {
    const plan = planJson();
    assert.equal(selectedTitle(plan), 'sparse λ=0.05 · prostate-f 0.99 · prostate-b 0.50 · prostate-a \u22120.49 · residual 3.1');
    // ρ and the form with λ; a truncating svd merge is said before composing.
    const relative = planJson();
    relative.strategies.sparse = { ...relative.strategies.sparse!, rho: 0.25, form: 'lasso' };
    relative.merge = { method: 'svd', rank: 16, total_rank: 40, exact: false };
    assert.equal(selectedTitle(relative), 'sparse lasso ρ=0.25 λ=0.05 · prostate-f 0.99 · prostate-b 0.50 · prostate-a \u22120.49 · residual 3.1');
    assert.equal(truncationWarning(relative), '⚠ svd rank 16 < Σr 40: truncates the composite (merge.method cat is exact)');
    relative.merge = { method: 'cat', total_rank: 40, exact: true };
    assert.equal(truncationWarning(relative), undefined);
    plan.strategy = 'convex';
    assert.ok(!selectedTitle(plan).includes('prostate-a'), 'a zero weight is not shown');
    plan.strategy = 'sparse';
    assert.equal(othersTitle(plan), 'avg r=4.1 · convex r=3 (2)');
    const lenses = codeLenses(planned());
    assert.equal(lenses.length, 5);
    assert.deepEqual(lenses.map((l) => l.range.start.line), [8, 8, 8, 8, 9], 'actions and weights on `weights:`, the other strategies on `strategy:`');
    // The actions come first (VS Code draws same-line lenses left to right, so they are never cut off).
    assert.deepEqual(lenses.slice(0, 3).map((l) => [l.command?.title, l.command?.command]), [
      ['▶ Compose', ClientCommands.compose],
      ['Show chart', ClientCommands.showChart],
      ['Pin weights', ClientCommands.pinWeights],
    ]);
    assert.deepEqual(lenses[0].command?.arguments, ['file:///ws/recipes/r.compose.yaml']);
    assert.equal(lenses[3].command?.title, selectedTitle(plan));
    // the terse titles are explained on hover
    assert.match(lenses[3].command?.tooltip ?? '', /residual = ‖t − Σwᵢpᵢ‖/);
    assert.match(lenses[4].command?.tooltip ?? '', /r = their residual.*\(n\) = how many adapters/);
  });

  it('spreads the lenses over `weights:`, `strategy:` and `merge:` so a half-width editor does not cut off the truncation warning or the other strategies', () => {
    // Seen in code-server: on one line the demo recipe's lens ran past a half-width editor at
    // "sparse ρ=0.5 λ=0.0322 · gramm", hiding the svd truncation warning and every other strategy.
    const text = RECIPE.replace('output: ../out/x', 'merge:\n  method: svd\n  rank: 16\noutput: ../out/x');
    const plan = planJson();
    plan.merge = { method: 'svd', rank: 16, total_rank: 40, exact: false };
    const v = { ...planned(text), outcome: { isRecipe: true, problems: [], plan } } as RecipeView;
    const lenses = codeLenses(v);
    const byLine = (line: number) => lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title);
    assert.deepEqual(byLine(8), ['▶ Compose', 'Show chart', 'Pin weights', selectedTitle(plan)], 'actions and the selected weights on `weights:`');
    assert.ok(!selectedTitle(plan).includes('⚠'), 'the warning is not at the end of the long weights line');
    assert.deepEqual(byLine(9), [othersTitle(plan)], 'the other strategies above `strategy:`');
    assert.deepEqual(byLine(11), ['⚠ svd rank 16 < Σr 40: truncates the composite (merge.method cat is exact)'], 'the warning above `merge:`');
    // without `strategy:` / `merge:` keys everything stays on `weights:`
    const flat = codeLenses({ ...planned(RECIPE.replace('  strategy: sparse\n', '')), outcome: { isRecipe: true, problems: [], plan } });
    assert.ok(flat.every((l) => l.range.start.line === 8), JSON.stringify(flat.map((l) => l.range.start.line)));
    assert.ok(flat.some((l) => l.command?.title?.startsWith('⚠ svd rank 16')));
  });

  it('trims the weights lens to the top three adapters and counts the rest', () => {
    const plan = planJson();
    const weights: Record<string, number> = {};
    for (let i = 0; i < 7; i++) weights[`adapter-${i}`] = (i + 1) / 28;
    plan.strategies.sparse = { ...plan.strategies.sparse!, weights, nonzero: 7 };
    const title = selectedTitle(plan);
    // the three largest, in descending order, then the count of the others
    assert.match(title, /adapter-6 0\.25 · adapter-5 0\.21 · adapter-4 0\.18 · \+4 more · residual/);
  });

  it('the λ hover lists each example once', () => {
    const h = hover(planned(), { line: 10, character: 3 }, schema)!;
    const text = (h.contents as { value: string }).value;
    const blocks = text.match(/```yaml\n[\s\S]*?```/g) ?? [];
    assert.ok(blocks.length > 0, text);
    assert.equal(new Set(blocks).size, blocks.length, `duplicate examples in ${text}`);
  });

  it('lists every weight of the chosen strategy in the hover on `weights:`', () => {
    const h = hover(planned(), { line: 8, character: 2 }, schema)!;
    const text = (h.contents as { value: string }).value;
    for (const name of ['prostate-f', 'prostate-b', 'prostate-a']) assert.ok(text.includes(name), `${name} in ${text}`);
    assert.match(text, /sparse/);
  });

  it('puts weight and distance after each listed adapter', () => {
    const text = RECIPE.replace('exclude: [prostate-e]', 'adapters: [prostate-f, prostate-b]');
    const hints = inlayHints(planned(text));
    assert.deepEqual(hints.map((h) => h.label), ['w 0.99 · d² 0.5', 'w 0.50 · d² 1.3']);
    assert.deepEqual(hints[0].position, { line: 7, character: 23 }, 'right after `prostate-f`');
  });
});

describe('completion', () => {
  const files: FileSystemView = {
    readDirectory: (dir) => (dir === '/ws/data' ? [{ name: 't.npy', isDirectory: false }, { name: 'sub', isDirectory: true }, { name: '.hidden', isDirectory: false }] : []),
    isFile: () => true,
    isDirectory: () => false,
  };

  it('finds the cursor place from the line and the indentation', () => {
    const doc = RecipeDocument.parse('compose: 1\nweights:\n  strategy: sp\n  \nretrieve:\n  exclude:\n    - pro\n  adapters: [a, pr\n');
    assert.deepEqual(cursorPlace(doc, { line: 2, character: 14 }), { kind: 'value', path: ['weights', 'strategy'], word: 'sp' });
    assert.deepEqual(cursorPlace(doc, { line: 3, character: 2 }), { kind: 'key', parent: ['weights'], word: '', indent: 2 });
    assert.deepEqual(cursorPlace(doc, { line: 6, character: 9 }), { kind: 'item', parent: ['retrieve', 'exclude'], word: 'pro' });
    assert.deepEqual(cursorPlace(doc, { line: 7, character: 18 }), { kind: 'item', parent: ['retrieve', 'adapters'], word: 'pr' });
  });

  it('offers schema keys with docs, enum values, adapter names and paths', () => {
    const text = 'compose: 1\nweights:\n  strategy: \n  \nretrieve:\n  exclude: [pro\ntarget:\n  prototype: ../data/\n';
    const v = planned(text);
    const keys = completion(v, { line: 3, character: 2 }, schema, files).items.map((i) => i.label);
    assert.deepEqual(keys.sort(), ['form', 'lambda', 'manual', 'rho', 'temperature'], 'strategy is already written');
    const strategies = completion(v, { line: 2, character: 12 }, schema, files).items.map((i) => i.label);
    assert.deepEqual(strategies, ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest', 'manual']);
    // each strategy item says what it computes, in its own words
    const strategyDocs = completion(v, { line: 2, character: 12 }, schema, files).items.map((i) => (i.documentation as { value: string } | undefined)?.value ?? '');
    strategyDocs.forEach((d, i) => assert.ok(d.includes(`**${strategies[i]}**`), `documentation of ${strategies[i]}: ${d}`));
    assert.equal(new Set(strategyDocs).size, strategyDocs.length);
    const adapters = completion(v, { line: 5, character: 16 }, schema, files).items;
    assert.deepEqual(adapters.map((i) => i.label), ['prostate-f', 'prostate-b', 'prostate-a', 'prostate-e'], 'nearest first');
    assert.match(String(adapters[0].detail), /demo\/sam · r=4 · t · d²=0.5/);
    const paths = completion(v, { line: 7, character: 21 }, schema, files).items.map((i) => i.label);
    assert.deepEqual(paths, ['sub/', 't.npy']);
    const top = completion(v, { line: 8, character: 0 }, schema, files).items;
    const base = top.find((i) => i.label === 'base')!;
    assert.equal(base.detail, 'required');
    assert.match(JSON.stringify(base.documentation), /base model/i);
  });
});

describe('hover', () => {
  it('documents keys from the schema and adapters from the library', () => {
    const v = planned();
    const keyHover = hover(v, { line: 10, character: 4 }, schema)!;
    assert.match((keyHover.contents as { value: string }).value, /L1 penalty/);
    const adapter = hover(v, { line: 7, character: 14 }, schema)!;
    const card = (adapter.contents as { value: string }).value;
    assert.match(card, /\*\*prostate-e\*\*/);
    assert.match(card, /rank: 4/);
    assert.match(card, /Not among the 3 candidates/);
    const f = hover(planned(RECIPE.replace('exclude: [prostate-e]', 'exclude: [prostate-f]')), { line: 7, character: 14 }, schema)!;
    assert.match((f.contents as { value: string }).value, /\| sparse \(selected\) \| 0.99 \|/);
  });
});

describe('edits', () => {
  it('pins the computed weights as manual, summing to exactly 1 when they did', () => {
    const v = planned();
    const edit = pinWeightsEdit(v)!;
    const after = applyEdits(RECIPE, edit.changes![v.uri]);
    const data = parseYaml(after);
    assert.equal(data.weights.strategy, 'manual');
    assert.equal(data.weights.lambda, undefined);
    const expected = planJson().strategies.sparse!.weights;
    for (const [name, w] of Object.entries(expected)) assert.ok(Math.abs(data.weights.manual[name] - w) < 1e-6, name);
    assert.equal(data.output, '../out/x', 'the rest of the recipe is untouched');
    const rounded = roundWeights({ a: 1 / 3, b: 1 / 3, c: 1 / 3 });
    assert.equal(Object.values(rounded).reduce((s, w) => s + Math.round(w * 1e6), 0), 1e6);
  });

  it('sets λ in place, inside the block, or by re-rendering a flow map', () => {
    for (const [text, expectLines] of [
      [RECIPE, RECIPE.split('\n').length],
      [RECIPE.replace('  lambda: 0.05\n', ''), RECIPE.split('\n').length],
      ['compose: 1\nweights: {strategy: sparse}\noutput: x\n', 6],
      ['compose: 1\n', 4],
    ] as const) {
      const v = view(text);
      const after = applyEdits(text, setLambdaEdit(v, 0.125).changes![v.uri]);
      assert.equal(parseYaml(after).weights.lambda, 0.125, after);
      assert.equal(after.split('\n').length, expectLines, after);
    }
    assert.throws(() => setLambdaEdit(view(RECIPE), -1), /λ must be/);
    // written back to 3 significant figures, never a float like 0.0492896
    const v = view(RECIPE);
    assert.equal(parseYaml(applyEdits(RECIPE, setLambdaEdit(v, 0.0492896).changes![v.uri])).weights.lambda, 0.0493);
  });

  it('quick-fixes a did-you-mean and adds missing keys', () => {
    const text = 'compose: 1\nweigths:\n  strategy: sparse\n';
    const v = view(text, { isRecipe: true, problems: [] });
    const diag = { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 7 } }, message: 'unknown key', source: 'adapter-composer', data: { suggestion: 'weights' } };
    const actions = codeActions(v, diag.range, [diag], schema);
    const fix = actions.find((a) => a.title === "Change to 'weights'")!;
    assert.ok(fix.isPreferred);
    assert.ok('weights' in parseYaml(applyEdits(text, fix.edit!.changes![v.uri])));
    const add = actions.find((a) => a.title.startsWith('Add missing required keys'))!;
    const added = parseYaml(applyEdits(text, add.edit!.changes![v.uri]));
    for (const k of ['base', 'library', 'target', 'output']) assert.ok(k in added, k);
  });
});

describe('plan scheduler', () => {
  class FakePlanner implements Planner {
    calls: { text: string; aborted: () => boolean }[] = [];
    fail = false;
    async plan(text: string, _file: string, options?: PlanOptions): Promise<PlanOutcome> {
      const signal = options?.signal;
      this.calls.push({ text, aborted: () => signal?.aborted === true });
      await new Promise((r) => setTimeout(r, 30));
      if (this.fail) throw new Error('boom');
      return { isRecipe: true, problems: [{ severity: 'error', code: 'x', message: text, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } }] };
    }
    invalidate(): void {}
    lastProvider(): string | undefined {
      return undefined;
    }
    async dispose(): Promise<void> {}
  }

  function scheduler(planner: FakePlanner, debounceMs: number, planned: string[], errors: string[] = []) {
    return new PlanScheduler(planner, {
      planOptions: () => ({}),
      debounceMs: () => debounceMs,
      onPlanned: (r) => planned.push(`${r.version}:${r.outcome?.problems[0]?.message ?? ''}`),
      onBusyChange: () => undefined,
      logError: (m) => errors.push(m),
    });
  }

  it('debounces keystrokes, cancels stale plans, and answers waiters with the newest version', async () => {
    const planner = new FakePlanner();
    const published: string[] = [];
    const s = scheduler(planner, 40, published);
    s.update('u', '/f', 1, 'compose: 1 # v1');
    await s.view('u', 2000);
    const opened = planner.calls.length;
    s.update('u', '/f', 2, 'compose: 1 # v2');
    s.update('u', '/f', 3, 'compose: 1 # v3');
    const v = await s.view('u', 2000);
    assert.equal(planner.calls.length, opened + 1, 'one plan for two quick versions');
    assert.equal(v?.outcome?.problems[0].message, 'compose: 1 # v3');
    // A change while planning aborts the running plan; only the newest is published.
    s.update('u', '/f', 4, 'compose: 1 # v4');
    await s.view('u', 2000);
    s.update('u', '/f', 5, 'compose: 1 # v5');
    await new Promise((r) => setTimeout(r, 10));
    const pending = s.view('u', 2000);
    s.update('u', '/f', 6, 'compose: 1 # v6');
    await pending;
    await s.view('u', 2000);
    assert.equal(published[published.length - 1], '6:compose: 1 # v6');
    assert.ok(!published.includes('5:compose: 1 # v5'), 'the superseded version is never published');
    assert.ok(planner.calls.some((c) => c.text.endsWith('v5') && c.aborted()), 'the stale plan saw its signal abort');
    s.dispose();
  });

  it('plans a newly opened recipe at once; later versions wait for the debounce', async () => {
    const planner = new FakePlanner();
    const published: string[] = [];
    const s = scheduler(planner, 600_000, published);
    s.update('u', '/f', 1, 'compose: 1 # opened');
    // a timer that expires after a 0 ms one: by then the opened version is being planned
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(planner.calls.map((c) => c.text), ['compose: 1 # opened'], 'the opened recipe is planned without the debounce');
    s.update('u', '/f', 2, 'compose: 1 # typed');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(planner.calls.length, 1, 'an edit waits for the debounce');
    s.dispose();
  });

  it('turns a planner exception into an empty outcome and a log line', async () => {
    const planner = new FakePlanner();
    planner.fail = true;
    const published: string[] = [];
    const errors: string[] = [];
    const s = scheduler(planner, 0, published, errors);
    s.update('u', '/f', 1, 'compose: 1');
    const v = await s.view('u', 2000);
    assert.deepEqual(v?.outcome?.problems, []);
    assert.equal(errors.length, 1);
    s.dispose();
  });
});

describe('settings', () => {
  it('reads the adapterCompose section, keeps the base for what is missing, rejects bad values', async () => {
    const { readSettings, DEFAULT_SETTINGS } = await import('../../server/src/lsp/settings');
    const init = readSettings({ settings: undefined, adapterCompose: { debounceMs: 40, executionProvider: 'cuda', logLevel: 'debug' } });
    // trust is never assumed: only an explicit `trusted: true` grants it
    assert.deepEqual([init.debounceMs, init.executionProvider, init.logLevel, init.trusted], [40, 'cuda', 'debug', false]);
    assert.equal(readSettings({ adapterCompose: { trusted: true } }).trusted, true);
    assert.equal(readSettings({ trusted: 'yes' }).trusted, false);
    const later = readSettings(null, init);
    assert.deepEqual(later, init, 'a client answering null keeps the initialization options');
    const bad = readSettings({ debounceMs: -5, executionProvider: 'quantum', logLevel: 7, libraryUri: '  ' });
    assert.deepEqual([bad.debounceMs, bad.executionProvider, bad.logLevel, bad.libraryUri], [0, DEFAULT_SETTINGS.executionProvider, DEFAULT_SETTINGS.logLevel, undefined]);
    assert.equal(readSettings({ trusted: false, libraryUri: '../lib' }).trusted, false);
  });
});
