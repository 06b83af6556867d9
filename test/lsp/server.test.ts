/**
 * Protocol-level tests: the real server (`adapter-composer lsp --stdio`) with the real engine, driven
 * over JSON-RPC like an editor, against a fixture workspace (LanceDB library, PEFT adapters, npy).
 * Expected JSON lives in __snapshots__ (UPDATE_SNAPSHOTS=1 rewrites it); key facts are also asserted
 * directly, recomputed from the fixture.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { parse as parseYaml } from 'yaml';
import { ClientCommands, CompareRequest, PlanNotification, ServerCommands, StatusNotification } from '../../server/src/protocol';
import type { EvaluationResult, PlanParams, StatusParams } from '../../server/src/protocol';
import { evaluateLibrary } from '../../server/src/engine/eval/evaluateLibrary';
import type { PlanJson } from '../../server/src/engine/types';
import { shortNumber } from '../../server/src/service/numberText';
import { ADAPTERS, GOOD_RECIPE, TARGET, buildFixture, removeFixture } from './fixture';
import type { Fixture } from './fixture';
import { ServerClient } from './lspClient';
import type { Diagnostic } from './lspClient';
import { matchSnapshot } from './snapshot';

let fixture: Fixture;
let client: ServerClient;
let goodUri: string;

const PACKAGE_VERSION: string = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version;
const distance = (name: string) => ADAPTERS[name].prototype.reduce((s, p, i) => s + (p - TARGET[i]) ** 2, 0);
/** The lens' weight format, re-implemented: 2 decimals, U+2212 for negatives. */
const shown = (w: number) => `${w < 0 ? '\u2212' : ''}${Math.abs(w).toFixed(2)}`;
const whole = { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } };

function snap(name: string, value: unknown): void {
  matchSnapshot(name, value, [fixture.root]);
}

/** Position of the first occurrence of `needle` in `text` (+ `delta` characters). */
function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in text`);
  const before = text.slice(0, offset + delta).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

async function openAndWait(name: string, text: string, languageId = 'adapter-compose'): Promise<{ uri: string; diagnostics: Diagnostic[] }> {
  const since = client.notifications.length;
  const uri = client.open(path.join(fixture.recipes, name), text, languageId);
  const published = await client.diagnosticsFor(uri, 1, 20000, since);
  return { uri, diagnostics: published.diagnostics };
}

before(async () => {
  fixture = await buildFixture();
  client = new ServerClient({
    workspace: fixture.root,
    // trusted: this suite composes (the server's default is untrusted; see test/hardening/lspTrust.test.ts)
    initializationOptions: { trusted: true, settings: { adapterCompose: { debounceMs: 20, libraryPollMs: 250 } } },
    capabilities: { workspace: { applyEdit: true, codeLens: { refreshSupport: true } }, window: { workDoneProgress: true } },
  });
  const init = (await client.initialize()) as { capabilities: unknown; serverInfo: { name: string; version: string } };
  snap('initialize', init.capabilities);
  assert.equal(init.serverInfo.version, PACKAGE_VERSION, 'serverInfo carries the one version, from package.json');
  const opened = await openAndWait('prostate-e.compose.yaml', GOOD_RECIPE);
  goodUri = opened.uri;
  assert.deepEqual(opened.diagnostics, [], 'the fixture recipe is clean');
});

after(async () => {
  await client?.stop();
  removeFixture(fixture);
});

describe('diagnostics', () => {
  const cases: { name: string; text: string; code: string; line: number; severity: number; suggestion?: string }[] = [
    { name: 'yaml-syntax', text: GOOD_RECIPE.replace('  k: 4', '  k: [4'), code: 'yaml-syntax', line: 8, severity: 1 },
    { name: 'unknown-key', text: GOOD_RECIPE.replace('weights:', 'weigths:'), code: 'unknown-key', line: 9, severity: 1, suggestion: 'weights' },
    { name: 'invalid-enum', text: GOOD_RECIPE.replace('strategy: sparse', 'strategy: sparce'), code: 'invalid-value', line: 10, severity: 1, suggestion: 'sparse' },
    { name: 'lambda-range', text: GOOD_RECIPE.replace('lambda: 0.05', 'lambda: -1'), code: 'out-of-range', line: 11, severity: 1 },
    { name: 'missing-key', text: GOOD_RECIPE.replace('output: ../out/prostate-e\n', ''), code: 'missing-key', line: 0, severity: 1 },
    { name: 'unknown-adapter', text: GOOD_RECIPE.replace('exclude: [prostate-e]', 'exclude: [prostate-z]'), code: 'unknown-adapter', line: 8, severity: 2 },
    { name: 'base-mismatch', text: GOOD_RECIPE.replace('  exclude: [prostate-e]', '  adapters: [chat-x, prostate-a]'), code: 'base-mismatch', line: 8, severity: 1 },
    { name: 'k-too-large', text: GOOD_RECIPE.replace('k: 4', 'k: 50'), code: 'k-too-large', line: 7, severity: 2 },
    { name: 'manual-sum', text: GOOD_RECIPE.replace('  strategy: sparse\n  lambda: 0.05\n', '  strategy: manual\n  manual: {prostate-a: 0.5, prostate-b: 0.3}\n'), code: 'manual-sum', line: 11, severity: 2 },
    { name: 'missing-file', text: GOOD_RECIPE.replace('target.proto.npy', 'nope.npy'), code: 'missing-file', line: 5, severity: 1 },
    { name: 'encoder-mismatch', text: GOOD_RECIPE.replace('target.proto.npy', 'wrong-dim.proto.npy'), code: 'dimension', line: 5, severity: 1 },
    { name: 'output-outside', text: GOOD_RECIPE.replace('output: ../out/prostate-e', 'output: ../../outside-composite'), code: 'output-outside-workspace', line: 15, severity: 1 }, // an error, as compose refuses it
    { name: 'format-version', text: GOOD_RECIPE.replace('compose: 1', 'compose: 2'), code: 'unsupported-format', line: 0, severity: 1, suggestion: '1' },
    { name: 'unused-lambda', text: GOOD_RECIPE.replace('strategy: sparse', 'strategy: avg'), code: 'unused-parameter', line: 11, severity: 2 },
    { name: 'not-a-recipe', text: 'services:\n  web:\n    image: nginx\n', code: 'not-a-recipe', line: 0, severity: 3 },
  ];
  const published: Record<string, Diagnostic[]> = {};

  for (const c of cases) {
    it(`${c.name}: ${c.code} at line ${c.line + 1}`, async () => {
      const { diagnostics } = await openAndWait(`${c.name}.compose.yaml`, c.text);
      published[c.name] = diagnostics;
      const hit = diagnostics.find((d) => d.code === c.code);
      assert.ok(hit, `expected ${c.code} in ${JSON.stringify(diagnostics.map((d) => d.code))}`);
      assert.equal(hit.source, 'adapter-composer');
      assert.equal(hit.range.start.line, c.line);
      assert.equal(hit.severity, c.severity);
      if (c.suggestion) assert.equal((hit.data as { suggestion?: string }).suggestion, c.suggestion);
      if (c.code === 'not-a-recipe') assert.ok(diagnostics.every((d) => d.severity === 3), 'a non-recipe gets no errors');
    });
  }

  it('matches the diagnostics snapshot', () => snap('diagnostics', published));

  it('answers junk, huge, alias-bomb and deeply nested documents without going down', async () => {
    const junk = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1');
    const bomb = 'compose: 1\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';
    const huge = 'compose: 1\n' + '# padding\n'.repeat(5_300_000 / 10);
    const deep = 'compose: 1\nx: ' + '['.repeat(50_000);
    const deepBlock = 'compose: 1\nx:\n' + Array.from({ length: 900 }, (_, i) => `${' '.repeat(i + 1)}-`).join('\n');
    const codes: Record<string, unknown> = {};
    for (const [name, text] of Object.entries({ junk, bomb, huge, deep, deepBlock })) {
      const { diagnostics } = await openAndWait(`${name}.compose.yaml`, text);
      codes[name] = diagnostics.map((d) => d.code);
    }
    assert.ok((codes.bomb as string[]).includes('alias-limit'));
    assert.ok((codes.deep as string[]).includes('too-deep'));
    assert.ok((codes.deepBlock as string[]).includes('too-deep'));
    snap('robustness', codes);
    // Still alive and answering.
    const symbols = await client.request<unknown[]>('textDocument/documentSymbol', { textDocument: { uri: goodUri } });
    assert.ok(symbols.length > 5);
  });

  it('re-plans only the newest of quick edits', async () => {
    const since = client.notifications.length;
    const uri = client.open(path.join(fixture.recipes, 'typing.compose.yaml'), GOOD_RECIPE);
    let version = 1;
    for (const k of [1, 2, 3, 5, 2, 4]) version = client.change(uri, GOOD_RECIPE.replace('k: 4', `k: ${k}`));
    const last = await client.diagnosticsFor(uri, version, 20000, since);
    assert.deepEqual(last.diagnostics, []);
    await client.waitFor<PlanParams>(PlanNotification, (p) => p.uri === uri && p.version === version, 5000, since);
    const plans = client.notifications.slice(since).filter((n) => n.method === PlanNotification && (n.params as PlanParams).uri === uri);
    assert.ok(plans.length < 7, `debounced: ${plans.length} plans for 7 versions`);
    const final = plans[plans.length - 1].params as PlanParams;
    assert.equal(final.version, version);
    assert.equal((final.plan as PlanJson).candidates.length, 4);
    client.close(uri);
  });
});

describe('features', () => {
  it('code lenses show the actions first, then the selected top weights and the other strategies', async () => {
    const lenses = await client.request<{ range: { start: { line: number } }; command: { title: string; command: string; arguments: unknown[] } }[]>('textDocument/codeLens', { textDocument: { uri: goodUri } });
    const plan = await client.request<PlanJson>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [goodUri] });
    assert.equal(lenses.length, plan.merge?.exact === false ? 6 : 5);
    // the actions and the selected weights on `weights:`, the other strategies on `strategy:`, a truncation warning on `merge:`
    assert.deepEqual(lenses.map((l) => l.range.start.line), [9, 9, 9, 9, 10, ...(plan.merge?.exact === false ? [12] : [])]);
    const weights = plan.strategies.sparse!.weights;
    const sum = Object.values(weights).reduce((s, w) => s + w, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, 'sparse weights sum to 1');
    // The actions first, so that they are on screen whatever the width.
    assert.deepEqual(lenses.slice(0, 3).map((l) => l.command.command), [ClientCommands.compose, ClientCommands.showChart, ClientCommands.pinWeights]);
    const title = lenses[3].command.title;
    // An absolute λ is shown with its scale-free ρ = λ/λ*.
    const rho = plan.strategies.sparse!.rho;
    assert.equal(rho, plan.lambda_path!.lambda_star > 0 ? 0.05 / plan.lambda_path!.lambda_star : undefined);
    assert.ok(title.startsWith(`sparse ${rho !== undefined ? `ρ=${shortNumber(rho, 3)} ` : ''}λ=0.05 · `), title);
    // The three largest |w| are shown, the other non-zero weights counted, zeros omitted.
    const nonzero = Object.entries(weights).filter(([, w]) => Math.abs(w) > 1e-12).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    for (const [name, w] of nonzero.slice(0, 3)) assert.ok(title.includes(`${name} ${shown(w)}`), `${name} ${shown(w)} in ${title}`);
    if (nonzero.length > 3) assert.ok(title.includes(`+${nonzero.length - 3} more`), title);
    for (const [name, w] of Object.entries(weights)) if (Math.abs(w) <= 1e-12) assert.ok(!title.includes(`${name} `), `zero weight ${name} omitted`);
    // Every strategy with the parameters it was computed with.
    assert.match(lenses[4].command.title, /^avg r=[\d.]+ · sim τ=[\d.e-]+ r=[\d.]+ · lin r=[\d.]+ \(\d\) · convex r=/);
    assert.ok(lenses.slice(0, 5).every((l) => l.command.arguments[0] === goodUri));
    snap('codeLens', lenses);
    snap('plan', plan);
  });

  it('while the recipe does not plan, the lens keeps the last plan marked stale, counting what the Problems panel shows', async () => {
    const text = GOOD_RECIPE;
    const { uri } = await openAndWait('typing-stale.compose.yaml', text);
    const lensTitles = async () => (await client.request<{ command: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri } })).map((l) => l.command.title);
    const good = await lensTitles();
    const selected = good.find((t) => t.startsWith('sparse '));
    assert.ok(selected, JSON.stringify(good));
    // Half-typed: an unknown strategy (an error) and an unknown key (a second problem).
    const mark = client.notifications.length;
    const broken = text.replace('strategy: sparse', 'strategy: spa').replace('weights:', 'weights:\n  lamda: 1');
    const version = client.change(uri, broken);
    const published = await client.diagnosticsFor(uri, version, 20000, mark);
    assert.ok(published.diagnostics.length >= 2, JSON.stringify(published.diagnostics));
    const stale = await lensTitles();
    const n = published.diagnostics.length;
    assert.equal(stale[0], `⚠ stale: ${n} problem${n === 1 ? '' : 's'}, showing the last plan`);
    assert.ok(stale.includes(selected), `the last plan is kept: ${JSON.stringify(stale)}`);
    assert.ok(!stale.includes('▶ Compose'), 'no Compose on a stale plan');
    // Parses again: fresh lenses, no stale mark.
    const back = client.change(uri, text);
    await client.diagnosticsFor(uri, back, 20000, client.notifications.length - 1);
    const fresh = await lensTitles();
    assert.equal(fresh[0], '▶ Compose');
    assert.ok(!fresh.some((t) => t.includes('stale')));
    client.close(uri);
  });

  it('inlay hints give the distance of each named adapter', async () => {
    const text = GOOD_RECIPE.replace('  exclude: [prostate-e]', '  adapters: [prostate-f, prostate-b, prostate-c]');
    const { uri } = await openAndWait('pinned.compose.yaml', text);
    const hints = await client.request<{ label: string; position: { line: number; character: number } }[]>('textDocument/inlayHint', { textDocument: { uri }, range: whole });
    assert.equal(hints.length, 3);
    for (const [i, name] of ['prostate-f', 'prostate-b', 'prostate-c'].entries()) {
      const d = Number(/d² ([\d.e-]+)/.exec(hints[i].label)![1]);
      // the exact squared distance, shown with 2 significant digits: equal to its own rounding, no tolerance
      assert.equal(d, Number(distance(name).toPrecision(2)), `${name}: ${hints[i].label} vs ${distance(name)}`);
      assert.deepEqual(hints[i].position, positionOf(text, name, name.length));
    }
    snap('inlayHints', hints);
  });

  it('completes keys, enum values, adapter names and paths', async () => {
    const text = GOOD_RECIPE.replace('  lambda: 0.05\n', '  lambda: 0.05\n  \n').replace('exclude: [prostate-e]', 'exclude: [prostate-e, pro]').replace('output: ../out/prostate-e', 'output: ../data/t');
    const { uri } = await openAndWait('completion.compose.yaml', text);
    const at = async (position: { line: number; character: number }) =>
      (await client.request<{ items: { label: string; detail?: string; documentation?: { value: string } }[] }>('textDocument/completion', { textDocument: { uri }, position })).items;
    const keys = await at({ line: 12, character: 2 });
    assert.deepEqual(keys.map((i) => i.label).sort(), ['form', 'manual', 'rho', 'temperature']);
    assert.match(keys.find((k) => k.label === 'temperature')!.documentation!.value, /softmax temperature/);
    const values = await at(positionOf(text, 'strategy: sparse', 'strategy: '.length));
    assert.deepEqual(values.map((i) => i.label), ['avg', 'sim', 'lin', 'sparse', 'convex', 'nearest', 'manual']);
    const adapters = await at(positionOf(text, 'pro]', 3));
    // Not yet listed, of the recipe's library, nearest to the target first.
    const expected = Object.keys(ADAPTERS).filter((n) => n !== 'prostate-e').filter((n) => n.includes('pro'));
    assert.deepEqual(adapters.map((i) => i.label).sort(), expected.sort());
    const candidateOrder = adapters.map((i) => i.label).filter((n) => n !== 'prostate-d');
    assert.deepEqual(candidateOrder, [...candidateOrder].sort((a, b) => distance(a) - distance(b)));
    assert.match(adapters[0].detail!, /^demo\/sam · r=\d+ · prostate,site-\w · d²=/);
    const paths = await at(positionOf(text, '../data/t', '../data/t'.length));
    assert.deepEqual(paths.map((i) => i.label), fs.readdirSync(path.join(fixture.root, 'data')).sort());
    snap('completion', { keys, values: values.map((v) => v.label), adapters, paths });
  });

  it('hovers keys with schema docs and adapters with their card', async () => {
    const key = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri: goodUri }, position: positionOf(GOOD_RECIPE, 'lambda', 2) });
    assert.match(key.contents.value, /\*\*weights\.lambda\*\*/);
    assert.match(key.contents.value, /L1 penalty/);
    const candidates = GOOD_RECIPE.replace('  exclude: [prostate-e]', '  adapters: [prostate-f, prostate-b, prostate-c]');
    const { uri } = await openAndWait('hover.compose.yaml', candidates);
    const card = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: positionOf(candidates, 'prostate-b', 3) });
    for (const fact of ['**prostate-b**', 'base: demo/sam', 'rank: 4', 'α: 4', 'format: peft', 'modules: q_proj, v_proj', 'tags: prostate, site-b', '| sparse (selected) |']) {
      assert.ok(card.contents.value.includes(fact), `${fact} in ${card.contents.value}`);
    }
    snap('hover', { key, card });
  });

  it('goes to the adapter config of an adapter name', async () => {
    const locations = await client.request<{ uri: string }[]>('textDocument/definition', { textDocument: { uri: goodUri }, position: positionOf(GOOD_RECIPE, 'prostate-e]', 2) });
    assert.deepEqual(locations.map((l) => l.uri), [pathToFileURL(path.join(fixture.root, 'adapters/prostate-e/adapter_config.json')).toString()]);
    const file = await client.request<{ uri: string }[]>('textDocument/definition', { textDocument: { uri: goodUri }, position: positionOf(GOOD_RECIPE, 'target.proto', 2) });
    assert.deepEqual(file.map((l) => l.uri), [pathToFileURL(path.join(fixture.root, 'data/target.proto.npy')).toString()]);
  });

  it('lists the recipe keys as document symbols', async () => {
    const symbols = await client.request<{ name: string; children?: { name: string }[] }[]>('textDocument/documentSymbol', { textDocument: { uri: goodUri } });
    assert.deepEqual(symbols.map((s) => s.name), Object.keys(parseYaml(GOOD_RECIPE)));
    assert.deepEqual(symbols.find((s) => s.name === 'weights')!.children!.map((c) => c.name), ['strategy', 'lambda']);
    snap('documentSymbol', symbols);
  });

  it('offers quick fixes and pinning as code actions', async () => {
    const text = GOOD_RECIPE.replace('strategy: sparse', 'strategy: sparce');
    const { uri, diagnostics } = await openAndWait('fix.compose.yaml', text);
    const actions = await client.request<{ title: string; edit?: { changes: Record<string, { newText: string }[]> } }[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostics[0].range, context: { diagnostics } });
    const fix = actions.find((a) => a.title === "Change to 'sparse'");
    assert.ok(fix, JSON.stringify(actions.map((a) => a.title)));
    assert.equal(fix.edit!.changes[uri][0].newText, 'sparse');
    const missing = GOOD_RECIPE.replace('output: ../out/prostate-e\n', '');
    const m = await openAndWait('missing.compose.yaml', missing);
    const add = await client.request<{ title: string; edit: { changes: Record<string, { newText: string }[]> } }[]>('textDocument/codeAction', { textDocument: { uri: m.uri }, range: m.diagnostics[0].range, context: { diagnostics: m.diagnostics } });
    const addOutput = add.find((a) => a.title.includes('output'));
    assert.ok(addOutput, JSON.stringify(add.map((a) => a.title)));
    assert.match(addOutput.edit.changes[m.uri][0].newText, /output: /);
    const pin = await client.request<{ title: string; edit: { changes: Record<string, { newText: string }[]> } }[]>('textDocument/codeAction', { textDocument: { uri: goodUri }, range: whole, context: { diagnostics: [] } });
    assert.ok(pin.some((a) => a.title === 'Pin weights (sparse → manual)'));
    snap('codeActions', { fix: actions, add, pin });
  });
});

describe('commands', () => {
  it('pins weights through workspace/applyEdit', async () => {
    const before = client.appliedEdits.length;
    const result = await client.request<{ applied: boolean }>('workspace/executeCommand', { command: ServerCommands.pinWeights, arguments: [goodUri] });
    assert.equal(result.applied, true);
    const edit = client.appliedEdits[before] as { edit: { changes: Record<string, { newText: string }[]> } };
    const pinned = parseYaml(edit.edit.changes[goodUri][0].newText).weights;
    const plan = await client.request<PlanJson>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [goodUri] });
    assert.equal(pinned.strategy, 'manual');
    const sum = Object.values(pinned.manual as Record<string, number>).reduce((s, w) => s + w, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
    for (const [name, w] of Object.entries(plan.strategies.sparse!.weights)) if (Math.abs(w) > 1e-6) assert.ok(Math.abs(pinned.manual[name] - w) < 1e-6, name);
    const lambda = await client.request<{ applied: boolean }>('workspace/executeCommand', { command: ServerCommands.setLambda, arguments: [goodUri, 0.2] });
    assert.equal(lambda.applied, true);
    const lambdaEdit = client.appliedEdits[before + 1] as { edit: { changes: Record<string, { newText: string; range: unknown }[]> } };
    assert.deepEqual(lambdaEdit.edit.changes[goodUri], [{ range: { start: { line: 11, character: 10 }, end: { line: 11, character: 14 } }, newText: '0.2' }]);
    await assert.rejects(client.request('workspace/executeCommand', { command: ServerCommands.setLambda, arguments: [goodUri, -3] }), /λ must be a number ≥ 0/);
  });

  it('composes in a worker with progress, then reports the stale lock after an edit', async () => {
    const since = client.notifications.length;
    const result = await client.request<{ output: string; lock: string; rank: number; modules: number; weights: Record<string, number>; energy_kept: { min: number; mean: number } }>('workspace/executeCommand', { command: ServerCommands.compose, arguments: [goodUri] });
    assert.ok(fs.existsSync(path.join(result.output, 'adapter_model.safetensors')));
    assert.ok(fs.existsSync(result.lock));
    assert.equal(parseYaml(fs.readFileSync(result.lock, 'utf8')).tool_version, PACKAGE_VERSION, 'a lock written from the editor records the product version');
    assert.equal(result.modules, 2);
    assert.ok(result.energy_kept.min > 0 && result.energy_kept.min <= 1 + 1e-9);
    const progress = client.notifications.slice(since).filter((n) => n.method === '$/progress').map((n) => (n.params as { value: { kind: string; percentage?: number } }).value);
    assert.equal(progress[0].kind, 'begin');
    assert.equal(progress[progress.length - 1].kind, 'end');
    const percentages = progress.filter((p) => p.kind === 'report' && p.percentage !== undefined).map((p) => p.percentage!);
    assert.ok(percentages.length >= 2 && percentages.every((p, i) => i === 0 || p >= percentages[i - 1]), `monotone progress ${percentages}`);
    const statuses = client.notifications.slice(since).filter((n) => n.method === StatusNotification).map((n) => (n.params as StatusParams).state);
    assert.ok(statuses.includes('busy') && statuses[statuses.length - 1] === 'idle');
    snap('compose', { output: result.output, lock: result.lock, rank: result.rank, modules: result.modules, weights: result.weights });

    // The lock now pins this plan; a different λ in the buffer makes it stale.
    const mark = client.notifications.length;
    const version = client.change(goodUri, GOOD_RECIPE.replace('lambda: 0.05', 'lambda: 0.3'));
    const stale = await client.diagnosticsFor(goodUri, version, 20000, mark);
    const hit = stale.diagnostics.find((d) => d.code === 'stale-lock');
    assert.ok(hit, JSON.stringify(stale.diagnostics));
    assert.equal(hit.severity, 2);
    const back = client.change(goodUri, GOOD_RECIPE);
    assert.deepEqual((await client.diagnosticsFor(goodUri, back, 20000, client.notifications.length - 1)).diagnostics, []);
  });

  it('plans a recipe that is saved but not open', async () => {
    const file = path.join(fixture.recipes, 'closed.compose.yaml');
    fs.writeFileSync(file, GOOD_RECIPE.replace('k: 4', 'k: 3'));
    const plan = await client.request<PlanJson>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [pathToFileURL(file).toString()] });
    assert.equal(plan.candidates.length, 3);
    await assert.rejects(client.request('workspace/executeCommand', { command: ServerCommands.plan, arguments: [pathToFileURL(path.join(fixture.recipes, 'absent.compose.yaml')).toString()] }), /cannot read .*absent\.compose\.yaml/);
  });

  it('cancels a running compose: the worker stops and nothing is written', async () => {
    const text = GOOD_RECIPE.replace('../out/prostate-e', '../out/cancelled');
    const file = path.join(fixture.recipes, 'cancel.compose.yaml');
    fs.writeFileSync(file, text);
    const { uri } = await openAndWait('cancel.compose.yaml', text);
    const source = new CancellationTokenSource();
    const pending = client.connection.sendRequest('workspace/executeCommand', { command: ServerCommands.compose, arguments: [uri] }, source.token);
    setTimeout(() => source.cancel(), 50);
    const error = await pending.then(
      () => undefined,
      (e: { code?: number; message: string }) => e,
    );
    assert.ok(error, 'the compose was cancelled before it finished');
    assert.equal(error.code, -32800);
    assert.ok(!fs.existsSync(path.join(fixture.root, 'out/cancelled')), 'no output');
    // The server is idle again and still composes.
    const status = await client.waitFor<StatusParams>(StatusNotification, (s) => s.state === 'idle', 5000, client.notifications.length - 1);
    assert.equal(status.state, 'idle');
  });

  /** The server's evaluation scratch folders (ac-eval-*) in the temporary directory. */
  const scratchFolders = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ac-eval-')).sort();

  it('runs the leave-one-out evaluation of the recipe\'s library in the worker, with progress, as the CLI does', async () => {
    const before = scratchFolders();
    const since = client.notifications.length;
    const result = await client.request<EvaluationResult>('workspace/executeCommand', { command: ServerCommands.evaluate, arguments: [goodUri] });
    // The CLI's function on the recipe's library with the recipe's k and λ (eval <recipe> --leave-one-out).
    const expected = await evaluateLibrary(fixture.library, { k: 4, lambda: 0.05, base: parseYaml(GOOD_RECIPE).base });
    assert.equal(result.leaveOneOut.k, 4);
    assert.equal(result.leaveOneOut.lambda, 0.05);
    assert.deepEqual(result.leaveOneOut.strategies, expected.strategies);
    assert.deepEqual(result.leaveOneOut.targets.map((t) => t.target), expected.targets.map((t) => t.target));
    for (const s of expected.strategies) {
      const got = result.leaveOneOut.summary[s]!;
      const want = expected.summary[s]!;
      assert.ok(Math.abs(got.mean_delta_rel_error - want.mean_delta_rel_error) <= 1e-12 * Math.max(1, want.mean_delta_rel_error), `${s}: ${got.mean_delta_rel_error} vs ${want.mean_delta_rel_error}`);
      assert.equal(got.wins, want.wins, s);
    }
    assert.equal(result.metrics, undefined, 'no evaluate: block, no task metrics');
    assert.match(result.metricsNote ?? '', /no `evaluate:` block/);
    const progress = client.notifications.slice(since).filter((n) => n.method === '$/progress').map((n) => (n.params as { value: { kind: string; title?: string } }).value);
    assert.equal(progress[0].kind, 'begin');
    assert.match(progress[0].title ?? '', /Leave-one-out evaluation of prostate-e\.compose\.yaml/);
    assert.equal(progress[progress.length - 1].kind, 'end');
    assert.deepEqual(scratchFolders(), before, 'the scratch folder is removed');
  });

  it('cancels a running evaluation: the worker stops, nothing is left behind, and it runs again', async () => {
    const before = scratchFolders();
    const source = new CancellationTokenSource();
    const pending = client.connection.sendRequest('workspace/executeCommand', { command: ServerCommands.evaluate, arguments: [goodUri] }, source.token);
    setTimeout(() => source.cancel(), 50);
    const error = await pending.then(
      () => undefined,
      (e: { code?: number; message: string }) => e,
    );
    assert.ok(error, 'the evaluation was cancelled before it finished');
    assert.equal(error.code, -32800);
    assert.match(error.message, /Evaluation cancelled/);
    assert.deepEqual(scratchFolders(), before, 'no scratch folder left');
    const again = await client.request<EvaluationResult>('workspace/executeCommand', { command: ServerCommands.evaluate, arguments: [goodUri] });
    assert.ok(again.leaveOneOut.targets.length > 0, 'the next evaluation runs to the end');
  });

  it('turns a compose failure into a readable error without a stack', async () => {
    const { uri } = await openAndWait('broken.compose.yaml', GOOD_RECIPE.replace('target.proto.npy', 'nope.npy'));
    fs.writeFileSync(path.join(fixture.recipes, 'broken.compose.yaml'), GOOD_RECIPE.replace('target.proto.npy', 'nope.npy'));
    const error = await client.request('workspace/executeCommand', { command: ServerCommands.compose, arguments: [uri] }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(error, 'compose of a broken recipe fails');
    assert.match(error.message, /nope\.npy/);
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
  });
});

describe('re-validation', () => {
  it('asks the client to refresh code lenses after a plan', () => {
    assert.ok(client.lensRefreshes > 0, 'workspace/codeLens/refresh was sent');
  });

  it('refreshes code lenses after a plan only when the client already fetched lenses of that recipe', async () => {
    // A client of its own: the suite's client holds lenses of other recipes, whose re-plans refresh.
    const own = new ServerClient({
      workspace: fixture.root,
      initializationOptions: { settings: { adapterCompose: { debounceMs: 20, libraryPollMs: 0 } } },
      capabilities: { workspace: { codeLens: { refreshSupport: true } } },
    });
    try {
      await own.initialize();
      const file = path.join(fixture.recipes, 'refresh.compose.yaml');
      const uri = own.open(file, GOOD_RECIPE);
      await own.waitFor<PlanParams>(PlanNotification, (p) => p.uri === uri && p.plan !== null, 20000);
      // a request answered after the plan's messages: any refresh of that plan has arrived by now
      const first = await own.request<{ command?: { command: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
      assert.ok(first.some((l) => l.command?.command === ClientCommands.compose), 'the planned lens');
      assert.equal(own.lensRefreshes, 0, 'no refresh for a recipe whose lenses the client has not fetched (it would postpone the request the client has pending)');
      // now the client holds this recipe's lenses: an edit's plan asks it to fetch them again
      const since = own.notifications.length;
      own.change(uri, GOOD_RECIPE.replace('k: 4', 'k: 3'));
      await own.waitFor<PlanParams>(PlanNotification, (p) => p.uri === uri && p.version === 2, 20000, since);
      await own.request('textDocument/codeLens', { textDocument: { uri } });
      assert.equal(own.lensRefreshes, 1, 'one refresh after the edit');
    } finally {
      await own.stop();
    }
  });

  it('re-plans open recipes when watched files or settings change', async () => {
    let since = client.notifications.length;
    void client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(path.join(fixture.root, 'data/target.proto.npy')).toString(), type: 2 }] });
    await client.waitFor<PlanParams>(PlanNotification, (p) => p.uri === goodUri, 10000, since);
    since = client.notifications.length;
    void client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { adapterCompose: { debounceMs: 10, executionProvider: 'cpu', libraryPollMs: 250 } } });
    await client.waitFor<PlanParams>(PlanNotification, (p) => p.uri === goodUri, 10000, since);
  });

  it('re-plans open recipes when the library changes on disk', async () => {
    const { initLibrary, openLibrary } = await import('../../server/src/engine/library/library');
    void initLibrary;
    const since = client.notifications.length;
    const library = await openLibrary(fixture.library);
    try {
      const existing = (await library.get('prostate-a'))!;
      await library.add({ ...existing, name: 'prostate-g', prototype: [0.45, 0.4, 0.15, 0.06], created_at: '2026-01-02T00:00:00.000Z' });
    } finally {
      library.close();
    }
    const plan = await client.waitFor<PlanParams>(PlanNotification, (p) => p.uri === goodUri && p.plan?.library?.size === 8, 20000, since);
    assert.equal((plan.plan as PlanJson).candidates[0].name, 'prostate-g', 'the new, nearest adapter is retrieved');
    const status = await client.waitFor<StatusParams>(StatusNotification, (s) => s.librarySize === 8, 5000, since);
    assert.equal(status.encoder, '4-d features');
  });
});

describe('commands on a recipe that is not open', () => {
  it('read only file: URIs from disk: a closed untitled: buffer is not confused with a same-named file', async () => {
    // fileOf() maps `untitled:orphan.compose.yaml` into the workspace for planning an open buffer; a
    // command on it once it is closed must not read (or compose) whatever file sits at that name.
    const file = path.join(fixture.root, 'orphan.compose.yaml');
    fs.writeFileSync(file, GOOD_RECIPE.replace(/\.\.\//g, '').replace('out/prostate-e', 'out/orphan'));
    try {
      const direct = await client.request<PlanJson>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [pathToFileURL(file).href] });
      assert.ok(direct.candidates.length > 0, 'the file itself plans');
      for (const command of [ServerCommands.plan, ServerCommands.pinWeights]) {
        await assert.rejects(client.request('workspace/executeCommand', { command, arguments: ['untitled:orphan.compose.yaml'] }), /untitled:orphan\.compose\.yaml is not open/, command);
      }
      await assert.rejects(client.request('workspace/executeCommand', { command: ServerCommands.compose, arguments: ['untitled:orphan.compose.yaml'] }), /untitled:orphan\.compose\.yaml is not a file/);
      assert.ok(!fs.existsSync(path.join(fixture.root, 'out', 'orphan')), 'nothing was composed from the same-named file');
      assert.deepEqual(await client.request('workspace/executeCommand', { command: ServerCommands.history, arguments: ['untitled:orphan.compose.yaml'] }), [], 'an unsaved buffer has no runs');
      await assert.rejects(client.request(CompareRequest, { uri: 'untitled:orphan.compose.yaml' }), /untitled:orphan\.compose\.yaml is not a file/, 'nor a lock to compare');
      // A file: URI of another host names no file here (it once fell back to a workspace name, too).
      const elsewhere = path.join(fixture.root, '_otherhost_orphan.compose.yaml');
      fs.copyFileSync(file, elsewhere);
      try {
        await assert.rejects(client.request('workspace/executeCommand', { command: ServerCommands.plan, arguments: ['file://otherhost/orphan.compose.yaml'] }), /file:\/\/otherhost\/orphan\.compose\.yaml is not open/);
      } finally {
        fs.rmSync(elsewhere, { force: true });
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('use the adapterCompose.libraryUri setting, as plans of open recipes do', async () => {
    const file = path.join(fixture.recipes, 'closed-default-library.compose.yaml');
    fs.writeFileSync(file, GOOD_RECIPE.replace('library: ../library\n', ''));
    const other = new ServerClient({ workspace: fixture.root, initializationOptions: { settings: { adapterCompose: { libraryUri: fixture.library } } } });
    try {
      await other.initialize();
      const plan = await other.request<PlanJson>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [pathToFileURL(file).href] });
      assert.equal(path.resolve(plan.library?.uri ?? ""), path.resolve(fixture.library));
      assert.ok(plan.candidates.length > 0);
    } finally {
      await other.stop();
      fs.rmSync(file, { force: true });
    }
  });
});
