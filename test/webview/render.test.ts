/**
 * The weights panel in headless Chromium, under the same CSP as in VS Code: posts ViewStates the way the
 * extension does and checks what is drawn, what is posted back, and that nothing violates the CSP.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { weightsAt } from '../../webview/src/lambdaPath';
import type { ViewMessage, ViewState } from '../../server/src/protocol';
import { evaluationFixture, planFixture, stateFixture } from './planFixture';
import { toolSkip } from '../toolSkip';
import { ARTIFACTS, CHROMIUM, openHarness, type Harness } from './harness';

const artifacts = ARTIFACTS;
const skip = toolSkip(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup-editor-tests.sh installs it)`);

// A distinctive colour for the selected strategy (sparse = --vscode-charts-purple), to prove the theme is read.
const THEME_CSS = `body { --vscode-charts-purple: #00ff00; --vscode-foreground: #d4d4d4; --vscode-editor-background: #1e1e1e;
  --vscode-font-family: sans-serif; --vscode-font-size: 13px; background: #1e1e1e; }
body.vscode-light { --vscode-foreground: #333333; --vscode-editor-background: #ffffff; background: #ffffff; }`;

/** The page's window once the harness's host shim has run. */
type ShimWindow = Window & { __posted?: ViewMessage[]; __violations?: string[] };

let harness: Harness;
let page: Page;
let consoleErrors: string[] = [];

before(async () => {
  if (skip) return;
  harness = await openHarness({ entry: 'main.ts', bundle: 'webview.js', css: 'webview.css', themeCss: THEME_CSS, viewport: { width: 1100, height: 1500 } });
  ({ page, consoleErrors } = harness);
});

after(async () => {
  await harness?.close();
});

async function open(theme: 'dark' | 'light' = 'dark') {
  await page.goto(`${harness.origin}/?theme=${theme}`);
  await page.waitForFunction(() => (window as ShimWindow).__posted?.some((m: ViewMessage) => m.type === 'ready'));
}

async function show(state: ViewState) {
  // Resolved by a listener added after the panel's own: it runs once the panel has drawn this state
  // (drawing is synchronous). Waiting for an element alone returned at once when the previous state
  // had drawn it already, and a loaded machine then read the old page (#loo-progress not found).
  // (no named function inside: tsx's transform would wrap it in a helper the page does not have)
  await page.evaluate((s) => new Promise<void>((resolve) => {
    const done = new AbortController();
    window.addEventListener('message', (event: MessageEvent) => {
      if ((event.data as { type?: string } | null)?.type !== 'state') return;
      done.abort();
      resolve();
    }, { signal: done.signal });
    window.postMessage({ type: 'state', state: s }, '*');
  }), state);
  await page.waitForSelector('#weights-chart');
}

/** Non-transparent pixels of a canvas, and how many are exactly `rgb`. */
function inked(id: string, rgb?: [number, number, number]) {
  return page.evaluate(({ id, rgb }) => {
    const canvas = document.getElementById(id) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0, match = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) ink++;
      if (rgb && data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2] && data[i + 3] === 255) match++;
    }
    return { ink, match, total: data.length / 4 };
  }, { id, rgb });
}

const posted = () => page.evaluate(() => (window as ShimWindow).__posted ?? []);
const hiddenRows = (id: string) => page.$$eval(`#${id} table.visually-hidden tbody tr`, (rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent)));

test('draws all four charts with their accessible tables, within the CSP', { skip }, async () => {
  await open();
  const state = stateFixture();
  await show(state);
  for (const id of ['weights-chart', 'lambda-chart', 'residual-chart', 'metrics-chart']) {
    const { ink, total } = await inked(id);
    assert.ok(ink > total * 0.01, `${id} has ink (${ink} of ${total} pixels)`);
    assert.match((await page.getAttribute(`#${id}`, 'aria-label')) ?? '', /chart/i);
  }
  const header = await page.$$eval('#weights table.visually-hidden thead th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(header, ['adapter', 'avg', 'sim', 'lin', 'sparse (selected)', 'convex', 'nearest']);
  const rows = await hiddenRows('weights');
  assert.deepEqual(rows.map((r) => r[0]), state.plan!.candidates.map((c) => c.name));
  // negative weights are shown as negative (lin on chat-lora)
  assert.equal(rows[2][3], (-0.08).toFixed(3));
  const residualRows = await hiddenRows('residual');
  assert.equal(residualRows.length, Object.keys(state.plan!.strategies).length);
  const runRows = await page.$$eval('#runs-table vscode-table-row', (r) => r.length);
  assert.equal(runRows, state.history.length);
  assert.match(await page.textContent('#lambda-path') ?? '', /λ/);
  assert.deepEqual(await page.evaluate(() => (window as ShimWindow).__violations), []);
  assert.deepEqual(consoleErrors, []);
  await page.screenshot({ path: join(artifacts, 'webview-dark.png'), fullPage: true });
});

test('colours come from the VS Code theme variables', { skip }, async () => {
  await open();
  await show(stateFixture());
  // the selected strategy (sparse) is drawn in --vscode-charts-purple, which the test theme sets to #00ff00
  const { match } = await inked('weights-chart', [0, 255, 0]);
  assert.ok(match > 50, `selected bars use the theme colour (${match} pixels)`);
  await show(stateFixture({ plan: planFixture('lin') }));
  const faded = await inked('weights-chart', [0, 255, 0]);
  assert.equal(faded.match, 0, 'an unselected strategy is drawn faded, not in the full colour');
});

/** Waits until the last setLambda message the panel posted satisfies `done` (10 s at most); returns them all. */
async function setLambdasUntil(done: (m: Extract<ViewMessage, { type: 'setLambda' }>) => boolean): Promise<Extract<ViewMessage, { type: 'setLambda' }>[]> {
  let sets: Extract<ViewMessage, { type: 'setLambda' }>[] = [];
  for (let i = 0; i < 100; i++) {
    sets = (await posted()).filter((m): m is Extract<ViewMessage, { type: 'setLambda' }> => m.type === 'setLambda');
    if (sets.length > 0 && done(sets[sets.length - 1])) return sets;
    await page.waitForTimeout(100);
  }
  assert.fail(`no final write among ${JSON.stringify(sets)}`);
}

test('the ρ slider is keyboard-operable, writes once after the key presses, 3 significant figures', { skip }, async () => {
  await open();
  const state = stateFixture();
  await show(state);
  const path = state.plan!.lambda_path!;
  assert.equal(Number(await page.getAttribute('#rho-slider', 'max')), 1, 'ρ ∈ [0, 1]');
  assert.equal(await page.getAttribute('#rho-slider', 'step'), 'any');
  await page.focus('#rho-slider');
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  // done when a write carries the slider's final ρ (to its 3 significant figures): no input is left
  // to write after it, so the count is final without waiting a fixed time
  const finalRho = Number(await page.inputValue('#rho-slider'));
  const sets = await setLambdasUntil((m) => Math.abs(m.lambda / path.lambda_star - finalRho) <= 5e-3 * finalRho);
  assert.ok(sets.length >= 1 && sets.length < 10, `fewer writes (${sets.length}) than key presses`);
  const last = sets[sets.length - 1];
  assert.equal(last.uri, state.uri);
  assert.ok(last.lambda > 0.1 && last.lambda <= path.lambda_star, `λ moved right from 0.1 (${last.lambda})`);
  const rho = last.lambda / path.lambda_star;
  assert.equal(Number(rho.toPrecision(3)), Number(rho.toPrecision(12)), `ρ ${rho} has 3 significant figures`);
  // the readout and the λ beside the control show the weights at the slider's position
  const sliderRho = Number(await page.inputValue('#rho-slider'));
  const readout = await page.$$eval('#lambda-readout tbody td', (tds) => tds.map((t) => Number(t.textContent)));
  const expected = weightsAt(path, sliderRho * path.lambda_star);
  readout.forEach((w, i) => assert.ok(Math.abs(w - expected[i]) < 1e-3, `readout ${i}: ${w} vs ${expected[i]}`));
  assert.match((await page.textContent('#lambda-value')) ?? '', /^λ = [\d.]+$/);
  // a re-render (the server writing ρ back) keeps the keyboard focus on the slider
  await show(stateFixture({ plan: planFixture('sparse', last.lambda), version: 2 }));
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'rho-slider');
});

test('the ρ field is valid for the recipe value, shows λ beside it and writes once after typing', { skip }, async () => {
  await open();
  // λ = 0.0492896 with λ* = 0.4 is not a multiple of any step: the field must still be valid.
  const state = stateFixture({ plan: planFixture('sparse', 0.0492896) });
  await show(state);
  const lambdaStar = state.plan!.lambda_path!.lambda_star;
  assert.equal(await page.getAttribute('#rho-input', 'step'), 'any');
  assert.deepEqual(await page.$$eval('#rho-slider, #rho-input', (els) => els.map((e) => (e as HTMLInputElement).validity.valid)), [true, true]);
  assert.ok(Math.abs(Number(await page.inputValue('#rho-input')) - 0.0492896 / lambdaStar) < 1e-3);
  await page.fill('#rho-input', '');
  await page.type('#rho-input', '0.4567');
  // done when a write carries the typed value (no fixed wait: nothing is left to write after it)
  const sets = await setLambdasUntil((m) => Math.abs(m.lambda - 0.457 * lambdaStar) < 1e-12);
  assert.ok(sets.length < 6, `fewer writes (${sets.length}) than key presses`);
  const written = sets[sets.length - 1].lambda;
  assert.ok(Math.abs(written - 0.457 * lambdaStar) < 1e-12, `written ρ rounded to 0.457 (λ ${written})`);
  assert.equal(await page.$eval('#rho-input', (e) => (e as HTMLInputElement).validity.valid), true);
  assert.equal((await page.textContent('#lambda-value'))?.trim(), `λ = ${Number((0.4567 * lambdaStar).toPrecision(4))}`);
});

test('clicking the λ-path chart chooses that λ', { skip }, async () => {
  await open();
  const state = stateFixture();
  await show(state);
  // Under load the chart may still be laying out: wait for a sized canvas, then for the message.
  await page.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('#lambda-chart canvas, canvas#lambda-chart');
    return !!c && c.width > 0 && c.height > 0;
  }, undefined, { timeout: 10_000 }).catch(() => undefined);
  const box = (await page.locator('#lambda-chart').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.8, box.y + box.height * 0.4);
  let sets: Extract<ViewMessage, { type: 'setLambda' }>[] = [];
  for (let i = 0; i < 50 && sets.length === 0; i++) {
    sets = (await posted()).filter((m): m is Extract<ViewMessage, { type: 'setLambda' }> => m.type === 'setLambda');
    if (sets.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(sets.length, 1);
  const lambda = sets[0].lambda;
  assert.ok(lambda > 0.5 * state.plan!.lambda_path!.lambda_star && lambda <= state.plan!.lambda_path!.lambda_star, `λ ${lambda}`);
});

test('shows errors, untrusted mode and an empty history', { skip }, async () => {
  await open('light');
  await show(stateFixture({ error: 'demo.compose.yaml:3:5 unknown strategy "sprase"', stale: true, trusted: false, history: [] }));
  assert.match((await page.textContent('[role=alert]')) ?? '', /unknown strategy "sprase".*last plan/);
  assert.match((await page.textContent('.notice')) ?? '', /Untrusted/);
  assert.equal(await page.getAttribute('#compose', 'disabled'), '');
  assert.match((await page.textContent('#evaluation')) ?? '', /No evaluation runs yet/);
  assert.equal(await page.$('#metrics-chart'), null);
  await page.screenshot({ path: join(artifacts, 'webview-light-error.png'), fullPage: true });
  await page.evaluate(() => window.postMessage({ type: 'state', state: { uri: 'u', fileName: 'x.compose.yaml', plan: null, error: 'no library', history: [], trusted: true } }, '*'));
  await page.waitForSelector('[role=alert]');
  assert.equal(await page.$('canvas'), null, 'no charts without a plan');
  assert.deepEqual(await page.evaluate(() => (window as ShimWindow).__violations), []);
  assert.deepEqual(consoleErrors, []);
});

test('a plan without a λ-path (strategy avg) hides the λ section', { skip }, async () => {
  await open();
  const plan = planFixture('avg');
  delete plan.lambda_path;
  await show(stateFixture({ plan }));
  assert.equal(await page.$('#lambda-path'), null);
  assert.ok((await inked('weights-chart')).ink > 0);
});

test('Compare with HEAD: old / new / Δ rows with bars, within the CSP', { skip }, async () => {
  await open();
  const comparison = {
    old: 'HEAD:demo.compose.lock', new: 'demo.compose.lock',
    weights: [{ adapter: 'a', old: 0.5, new: 0.25, delta: -0.25 }, { adapter: 'd', old: null, new: 0.125, delta: 0.125 }],
    added: ['d'], removed: [], changed: [{ field: 'strategy', old: 'sparse', new: 'convex' }], metrics: [], same: false,
  };
  await show(stateFixture({ comparison }));
  const rows = await page.$$eval('#comparison-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).slice(0, 4).map((c) => c.textContent)));
  assert.deepEqual(rows, [['a', '0.5000', '0.2500', '−0.2500'], ['d (added)', '–', '0.1250', '+0.1250']]);
  const widths = await page.$$eval('#comparison-table .delta-bar', (bars) => bars.map((b) => parseFloat((b as HTMLElement).style.width)));
  assert.deepEqual(widths, [50, 25]);
  assert.match((await page.textContent('#comparison')) ?? '', /strategy.*sparse.*convex/s);
  assert.deepEqual(await page.evaluate(() => (window as ShimWindow).__violations), []);
  assert.deepEqual(consoleErrors, []);
});

test('each chart section has a one-line caption', { skip }, async () => {
  await open();
  await show(stateFixture());
  for (const id of ['weights', 'lambda-path', 'residual', 'evaluation']) {
    const text = (await page.textContent(`#${id}-caption`)) ?? '';
    assert.ok(text.length > 20 && !text.includes('\n'), `${id}: ${text}`);
  }
  assert.match((await page.textContent('#residual-caption')) ?? '', /lower is closer/);
});

test('Tab reaches every chart, each with an aria label', { skip }, async () => {
  await open();
  await show(stateFixture());
  const reached: string[] = [];
  await page.focus('#compose');
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.id ?? '');
    if (id && !reached.includes(id)) reached.push(id);
  }
  for (const id of ['rho-slider', 'rho-input', 'weights-chart', 'lambda-chart', 'residual-chart', 'metrics-chart']) {
    assert.ok(reached.includes(id), `Tab reaches ${id} (reached ${reached.join(', ')})`);
    assert.ok(((await page.getAttribute(`#${id}`, 'aria-label')) ?? '').length > 0, `${id} has an aria-label`);
  }
});

test('the runs table names what differs between runs, a short time, and marks the current lock', { skip }, async () => {
  await open();
  const history = [
    { id: 'a', time: '2026-01-02T10:00:00.123Z', strategy: 'sparse', parameters: { k: 5, rho: 0.25 }, lock_sha256: 'aaa', metrics: { accuracy: 0.61, nll: 1.4 } },
    { id: 'b', time: '2026-01-02T11:05:00.456Z', strategy: 'sparse', parameters: { k: 5, rho: 0.5 }, lock_sha256: 'bbb', metrics: { accuracy: 0.66, nll: 1.2 } },
  ];
  await show(stateFixture({ history, lockSha256: 'bbb' }));
  const header = await page.$$eval('#runs-table vscode-table-header-cell', (c) => c.map((x) => x.textContent));
  assert.deepEqual(header, ['run', 'time (UTC)', 'ρ', 'accuracy', 'nll'], 'only ρ differs: k and strategy are not repeated');
  const rows = await page.$$eval('#runs-table vscode-table-row', (r) => r.map((row) => Array.from(row.querySelectorAll('vscode-table-cell'), (c) => c.textContent)));
  assert.deepEqual(rows[0].slice(0, 3), ['#1 ρ=0.25', '01-02 10:00', '0.25']);
  assert.deepEqual(rows[1].slice(0, 3), ['#2 ρ=0.5 ● current lock', '01-02 11:05', '0.5']);
  assert.equal(await page.$$eval('#runs-table vscode-table-row[data-current]', (r) => r.length), 1);
});

/** The visible readout table `id`: rows of cell texts. */
const tableRows = (id: string) => page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent ?? '')));
const fmt = (x: number) => String(Number(x.toPrecision(4)));

test('the leave-one-out section runs, shows progress, cancels, and charts the result per strategy', { skip }, async () => {
  await open();
  const state = stateFixture();
  await show(state);
  assert.match((await page.textContent('#leave-one-out-caption')) ?? '', /held out .* \(lower is better; colour = strategy\)/);
  await page.click('#loo-run');
  assert.deepEqual((await posted()).filter((m) => m.type === 'evaluate'), [{ type: 'evaluate', uri: state.uri }]);

  // Running: the progress bar and message the server reports, and a Cancel button that posts the cancel.
  await show(stateFixture({ evaluation: { state: 'running', message: 'leave-one-out: delta inner products: module 2/5', percentage: 40 } }));
  assert.equal(await page.$eval('#loo-progress', (p) => (p as HTMLProgressElement).value), 40);
  assert.match((await page.textContent('#loo-status')) ?? '', /40 % · leave-one-out: delta inner products: module 2\/5/);
  assert.equal(await page.$('#loo-run'), null, 'no second run while one is running');
  await page.click('#loo-cancel');
  assert.deepEqual((await posted()).filter((m) => m.type === 'cancelEvaluation'), [{ type: 'cancelEvaluation', uri: state.uri }]);

  // Done: one bar per strategy in its strategy colour, the numbers in a table, the evaluator's metrics per strategy.
  const result = evaluationFixture();
  await show(stateFixture({ evaluation: { state: 'done', result } }));
  await page.waitForSelector('#loo-chart');
  const { ink, total } = await inked('loo-chart');
  assert.ok(ink > total * 0.01, `loo-chart has ink (${ink} of ${total})`);
  const sparsePixels = await inked('loo-chart', [0, 255, 0]);
  assert.ok(sparsePixels.match > 50, `the sparse bar is drawn in the theme's sparse colour (${sparsePixels.match} pixels)`);
  assert.equal(await page.getAttribute('#loo-chart', 'tabindex'), '0');
  assert.match((await page.getAttribute('#loo-chart', 'aria-label')) ?? '', /Bar chart: mean relative ΔW error .* 6 strategies; lowest: avg/);
  const rows = await tableRows('loo-table');
  assert.deepEqual(rows.map((r) => r[0]), result.leaveOneOut.strategies);
  for (const r of rows) {
    const s = result.leaveOneOut.summary[r[0]]!;
    assert.deepEqual(r.slice(1), [fmt(s.mean_delta_rel_error), fmt(s.median_delta_rel_error), fmt(s.mean_delta_cosine), `${s.wins} of 3`, fmt(s.mean_nonzero)]);
  }
  assert.match((await page.textContent('#loo-facts')) ?? '', /3 held-out adapters of a library of 3 \(v2\) · k = 2 · ρ = 0.5 · 1.4 s · run 01-02 12:30 UTC/);
  for (const metric of ['accuracy', 'nll']) {
    const id = `strategy-metric-${metric}-chart`;
    const drawn = await inked(id);
    assert.ok(drawn.ink > drawn.total * 0.01, `${id} has ink`);
    assert.equal(await page.getAttribute(`#${id}`, 'tabindex'), '0');
  }
  const metricRows = await tableRows('strategy-metrics-table');
  const target = result.metrics!.targets[0];
  assert.deepEqual(metricRows[0], ['base model', fmt(target.base!.accuracy), fmt(target.base!.nll)]);
  assert.deepEqual(metricRows[1], ['held-out (t1)', fmt(target.held_out_metrics!.accuracy), fmt(target.held_out_metrics!.nll)]);
  assert.deepEqual(metricRows.slice(2).map((r) => r[0]), result.leaveOneOut.strategies);
  for (const r of metricRows.slice(2)) assert.equal(r[1], fmt(target.strategies[r[0]]!.metrics.accuracy));
  assert.equal(await page.textContent('#loo-run'), 'Run again');

  // Cancelled after a result: the result stays, and the panel says the run was cancelled.
  await show(stateFixture({ evaluation: { state: 'cancelled', message: 'Cancelled: nothing was kept.', result } }));
  assert.match((await page.textContent('#loo-cancelled')) ?? '', /Cancelled/);
  assert.equal((await tableRows('loo-table')).length, 6);

  assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
  // (Chromium's hint about this test's own repeated getImageData readbacks is not the panel's.)
  assert.deepEqual(consoleErrors.filter((e) => !e.includes('willReadFrequently')), []);
  await page.screenshot({ path: join(artifacts, 'webview-leave-one-out.png'), fullPage: true });
});

test('without an evaluator the section says how to get task metrics; untrusted, it cannot be run', { skip }, async () => {
  await open();
  const { metrics: _metrics, ...bare } = evaluationFixture();
  await show(stateFixture({ evaluation: { state: 'done', result: { ...bare, metricsNote: 'The recipe has no `evaluate:` block: add one.' } } }));
  assert.match((await page.textContent('#strategy-metrics-note')) ?? '', /no `evaluate:` block/);
  assert.equal(await page.$('#strategy-metrics-table'), null);
  await show(stateFixture({ trusted: false }));
  assert.equal(await page.getAttribute('#loo-run', 'disabled'), '');
  assert.match((await page.getAttribute('#loo-run', 'title')) ?? '', /untrusted/);
});

test('Tab reaches the leave-one-out charts', { skip }, async () => {
  await open();
  await show(stateFixture({ evaluation: { state: 'done', result: evaluationFixture() } }));
  const reached: string[] = [];
  await page.focus('#compose');
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.id ?? '');
    if (id && !reached.includes(id)) reached.push(id);
  }
  for (const id of ['loo-run', 'loo-chart', 'strategy-metric-accuracy-chart', 'strategy-metric-nll-chart']) assert.ok(reached.includes(id), `Tab reaches ${id} (reached ${reached.join(', ')})`);
});
