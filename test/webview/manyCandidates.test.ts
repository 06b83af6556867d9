/**
 * The weights panel with many candidates and long adapter names, in headless Chromium: every adapter is
 * named under the weights chart, every λ-path line has its legend entry (with the line's own marker), and the
 * screen-reader tables do not make the panel scroll sideways. Found by trying the panel as a user would with
 * k = 16 Hub-style names: half the bar labels were skipped, the λ-path legend stopped after 6 of 16 adapters,
 * its entries were dashed squares instead of the lines' markers, and the hidden breakpoints table (one column per
 * adapter) widened the page to 5488 px in a 900 px panel.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { PlanJson } from '../../server/src/engine/types';
import type { ViewMessage } from '../../server/src/protocol';
import { planFixture, stateFixture } from './planFixture';
import { toolSkip } from '../toolSkip';
import { ARTIFACTS, CHROMIUM, openHarness, type Harness } from './harness';

const skip = toolSkip(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup-editor-tests.sh installs it)`);
const THEME_CSS = `body { --vscode-foreground: #d4d4d4; --vscode-editor-background: #1e1e1e; --vscode-font-family: sans-serif;
  --vscode-font-size: 13px; background: #1e1e1e; }`;

let harness: Harness;
let page: Page;

before(async () => {
  if (skip) return;
  harness = await openHarness({ entry: 'main.ts', bundle: 'webview.js', css: 'webview.css', themeCss: THEME_CSS, viewport: { width: 900, height: 1400 } });
  page = harness.page;
});

after(async () => {
  await harness?.close();
});

/** k candidates with long, Hub-style names; lin has negative weights, convex zeros; every strategy sums to 1. */
function manyPlan(k: number): PlanJson {
  const names = Array.from({ length: k }, (_, i) => `meta-llama-3.1-8b-instruct-${['medical', 'legal', 'code', 'math'][i % 4]}-qa-lora-r16-v${i + 1}`);
  const normalise = (w: number[]) => { const s = w.reduce((a, b) => a + b, 0); return w.map((x) => x / s); };
  const lin = normalise(names.map((_, i) => (i % 3 === 0 ? -0.2 : 0.3)));
  const convex = normalise(names.map((_, i) => (i < 3 ? 1 : 0)));
  const result = (w: number[], residual: number, extra = {}) => ({
    weights: Object.fromEntries(names.map((n, i) => [n, w[i]])), objective: residual ** 2, residual, nonzero: w.filter((x) => x !== 0).length, ...extra,
  });
  const plan = planFixture();
  return {
    ...plan,
    candidates: names.map((name, i) => ({ name, distance: 0.1 + 0.01 * i })),
    strategies: {
      avg: result(names.map(() => 1 / k), 0.6), sim: result(normalise(names.map((_, i) => k - i)), 0.5, { temperature: 0.3 }),
      lin: result(lin, 0.1), sparse: result(convex, 0.2, { lambda: 0.1, lambda_star: 0.4 }), convex: result(convex, 0.2),
      nearest: result(names.map((_, i) => (i === 0 ? 1 : 0)), 0.5),
    },
    lambda_path: { names, lambda_star: 0.4, breakpoints: [{ lambda: 0, weights: lin }, { lambda: 0.4, weights: convex }] },
    warnings: [],
  };
}

async function show(plan: PlanJson): Promise<void> {
  await page.goto(`${harness.origin}/?theme=dark`);
  await page.waitForFunction(() => (window as Window & { __posted?: ViewMessage[] }).__posted?.some((m) => m.type === 'ready'));
  await page.evaluate((s) => window.postMessage({ type: 'state', state: s }, '*'), stateFixture({ plan }));
  await page.waitForSelector('#weights-chart');
}

/** What the charts report they drew (data-* attributes set after each draw), once a legend needs no more room. */
async function drawn(id: string) {
  await page.waitForFunction((id) => document.getElementById(id)?.dataset.legendHidden === '0', id, { timeout: 10000 })
    .catch(() => { /* asserted below, with the values */ });
  return page.$eval(`#${id}`, (c) => ({ ...(c as HTMLCanvasElement).dataset }));
}

test('k = 16 long names: every adapter named under the weights chart, shortened in the middle, in full in the table', { skip }, async () => {
  const plan = manyPlan(16);
  await show(plan);
  const chart = await drawn('weights-chart');
  const labels = JSON.parse(chart.xLabels ?? '[]') as string[];
  assert.equal(labels.length, 16, `every adapter has its label (shown: ${chart.xLabels})`);
  assert.equal(new Set(labels).size, 16, 'the shortened labels still tell the adapters apart');
  for (const [i, label] of labels.entries()) {
    const name = plan.candidates[i].name;
    assert.equal(label, labelOf(name));
  }
  assert.equal(chart.legendHidden, '0', 'the strategy legend fits');
  const plotHeight = await page.waitForFunction(() => {
    const c = document.getElementById('weights-chart') as HTMLCanvasElement;
    return Number(c.dataset.plotHeight) >= 160 ? Number(c.dataset.plotHeight) : false;
  }, null, { timeout: 10000 }).then(async (h) => Number(await h.jsonValue()), () => Number(chart.plotHeight));
  assert.ok(plotHeight >= 160, `the bars have room under the rotated names: plot ${plotHeight} px tall`);
  const tableNames = await page.$$eval('#weights table tbody th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(tableNames, plan.candidates.map((c) => c.name));
  await page.screenshot({ path: join(ARTIFACTS, 'webview-k16.png'), fullPage: true });
});

test('k = 16: the λ-path legend lists every adapter, each with its line\'s marker', { skip }, async () => {
  await show(manyPlan(16));
  const chart = await drawn('lambda-chart');
  assert.equal(chart.legendItems, '16');
  assert.equal(chart.legendHidden, '0', `every legend entry is on the canvas (${chart.legendHidden} of 16 cut off)`);
  assert.equal(chart.legendPointStyle, 'true', 'the legend shows markers, not dashed squares');
});

test('the screen-reader tables do not make the panel scroll sideways', { skip }, async () => {
  for (const k of [1, 5, 16]) {
    await show(manyPlan(k));
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    assert.ok(scrollWidth <= innerWidth, `k = ${k}: the page is ${scrollWidth} px wide in a ${innerWidth} px panel`);
  }
});

test('k = 1: one adapter draws every chart without errors', { skip }, async () => {
  await show(manyPlan(1));
  const chart = await drawn('weights-chart');
  assert.deepEqual(JSON.parse(chart.xLabels ?? '[]'), [labelOf('meta-llama-3.1-8b-instruct-medical-qa-lora-r16-v1')]);
  assert.deepEqual(harness.consoleErrors, []);
});

/** The label's expected form, written independently of the panel: up to 30 characters as they are; else the first 11, an ellipsis, the last 18. */
function labelOf(name: string): string {
  return name.length <= 30 ? name : `${name.slice(0, 11)}…${name.slice(-18)}`;
}
