/**
 * The library map without a mouse, in headless Chromium: found trying the panel with the keyboard — the map
 * was a bare canvas (not focusable, no label) and toggling `retrieve.exclude` needed a click on a dot. Now
 * the map has a label, and a table lists the candidates and the excluded adapters with their weight and a
 * button that posts the same toggle a click does.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { LibraryMap, MapViewMessage } from '../../server/src/protocol';
import { toolSkip } from '../toolSkip';
import { ARTIFACTS, CHROMIUM, openHarness, type Harness } from './harness';

const skip = toolSkip(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup-editor-tests.sh installs it)`);
const THEME_CSS = `body { --vscode-foreground: #d4d4d4; --vscode-editor-background: #1e1e1e; --vscode-font-family: sans-serif;
  --vscode-font-size: 13px; background: #1e1e1e; }`;
type ShimWindow = Window & { __posted?: MapViewMessage[] };

let harness: Harness;
let page: Page;

before(async () => {
  if (skip) return;
  harness = await openHarness({ entry: 'libraryMapMain.ts', bundle: 'libraryMap.js', css: 'libraryMap.css', themeCss: THEME_CSS, viewport: { width: 900, height: 800 } });
  page = harness.page;
});

after(async () => {
  await harness?.close();
});

function map(): LibraryMap {
  const points: LibraryMap['points'] = [];
  for (let i = 0; i < 12; i++) points.push({ name: `lib-${i}`, x: Math.cos(i), y: Math.sin(i), role: 'library', card: `lib-${i} · demo · r=8` });
  points.push({ name: 'gone-1', x: -1.5, y: 0.8, role: 'excluded', card: 'gone-1 · demo · r=8' });
  points.push({ name: 'cand-a', x: 3, y: 1.5, role: 'candidate', weight: 0.75, card: 'cand-a · demo · r=8' });
  points.push({ name: 'cand-b', x: -2.5, y: -1.2, role: 'candidate', weight: -0.25, card: 'cand-b · demo · r=8' });
  points.push({ name: 'cand-c', x: 0.5, y: -1.8, role: 'candidate', weight: 0.5, card: 'cand-c · demo · r=8' });
  return { library: '/lib', version: 1, base: 'demo', total: 16, basisRows: 16, sampled: false, explained: [0.6, 0.3], points, target: { x: 1, y: 0.2 }, hull: [13, 14, 15], strategy: 'sparse' };
}

async function show(uri?: string): Promise<void> {
  await page.goto(`${harness.origin}/`);
  await page.waitForFunction(() => (window as ShimWindow).__posted?.some((m) => m.type === 'ready'));
  await page.evaluate(({ m, uri }) => window.postMessage({ type: 'map', uri, fileName: 'r.compose.yaml', map: m }, '*'), { m: map(), uri });
  await page.waitForSelector('#library-map');
}

test('the map is labelled and focusable; its candidates and excluded adapters are a table', { skip }, async () => {
  await show('file:///w/r.compose.yaml');
  const canvas = await page.$eval('#library-map', (c) => ({ role: c.getAttribute('role'), label: c.getAttribute('aria-label') ?? '', tabindex: c.getAttribute('tabindex') }));
  assert.equal(canvas.role, 'img');
  assert.equal(canvas.tabindex, '0');
  assert.match(canvas.label, /16 adapters/);
  assert.match(canvas.label, /3 candidates/);
  const rows = await page.$$eval('#map-points tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent?.trim())));
  // candidates by |weight|, largest first, then the excluded ones
  assert.deepEqual(rows.map((r) => r.slice(0, 3)), [
    ['cand-a', 'candidate', '0.750'], ['cand-c', 'candidate', '0.500'], ['cand-b', 'candidate', '-0.250'], ['gone-1', 'excluded', ''],
  ]);
  await page.screenshot({ path: join(ARTIFACTS, 'library-map-table.png'), fullPage: true });
});

test('Tab reaches each row\'s button; Enter toggles the adapter in retrieve.exclude', { skip }, async () => {
  await show('file:///w/r.compose.yaml');
  const buttons = await page.$$eval('#map-points button', (bs) => bs.map((b) => b.textContent));
  assert.deepEqual(buttons, ['Exclude', 'Exclude', 'Exclude', 'Include again']);
  // from the top of the page: the map, then the buttons in order
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'library-map');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  const toggles = await page.evaluate(() => ((window as ShimWindow).__posted ?? []).filter((m) => m.type === 'toggleExclude'));
  assert.deepEqual(toggles, [
    { type: 'toggleExclude', uri: 'file:///w/r.compose.yaml', name: 'cand-c' },
    { type: 'toggleExclude', uri: 'file:///w/r.compose.yaml', name: 'gone-1' },
  ]);
});

test('without a recipe (a library opened on its own) the table has no buttons', { skip }, async () => {
  await show(undefined);
  assert.equal((await page.$$('#map-points button')).length, 0);
  assert.equal((await page.$$('#map-points tbody tr')).length, 4);
});
