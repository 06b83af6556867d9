/**
 * The library map panel in headless Chromium under the same CSP as in VS Code: posts a LibraryMap the way
 * the host does and checks the header (variance explained, sample notice), that the scatter is drawn with
 * the theme's colours, that a click on a candidate posts "toggle exclude" with its name, and that nothing
 * violates the CSP. Leaves a screenshot in .test-artifacts/library-map.png.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { LibraryMap } from '../../server/src/protocol';
import { candidateRadius, mapSummary } from '../../webview/src/libraryMap';
import type { MapViewMessage } from '../../server/src/protocol';
import { toolSkip } from '../toolSkip';
import { ARTIFACTS, CHROMIUM, openHarness, type Harness } from './harness';

const artifacts = ARTIFACTS;
const skip = toolSkip(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup-editor-tests.sh installs it)`);
// Pure blue for positive candidates, pure red for negative ones: found again in the pixels.
const THEME_CSS = `body { --vscode-charts-blue: #0000ff; --vscode-charts-red: #ff0000; --vscode-foreground: #d4d4d4;
  --vscode-editor-background: #1e1e1e; --vscode-font-family: sans-serif; --vscode-font-size: 13px; background: #1e1e1e; }`;
/** The page's window once the harness's host shim has run. */
type ShimWindow = Window & { __posted?: MapViewMessage[]; __violations?: string[] };

let harness: Harness;
let page: Page;
let consoleErrors: string[] = [];

function mapFixture(): LibraryMap {
  const points: LibraryMap['points'] = [];
  for (let i = 0; i < 40; i++) points.push({ name: `lib-${i}`, x: Math.cos(i) * 2, y: Math.sin(i * 1.3), role: 'library', card: `lib-${i} · demo · r=8` });
  points.push({ name: 'ex-1', x: -1.5, y: 0.8, role: 'excluded', card: 'ex-1 · demo · r=8' });
  points.push({ name: 'cand-pos', x: 3, y: 1.5, role: 'candidate', weight: 0.9, card: 'cand-pos · demo · r=8' });
  points.push({ name: 'cand-neg-a', x: -2.5, y: -1.2, role: 'candidate', weight: -0.2, card: 'cand-neg-a · demo · r=8' });
  points.push({ name: 'cand-neg-b', x: 0.5, y: -1.8, role: 'candidate', weight: -0.1, card: 'cand-neg-b · demo · r=8' });
  const n = points.length;
  return { library: '/lib', version: 3, base: 'demo', total: 5000, basisRows: 40, sampled: true, explained: [0.512, 0.201], points, target: { x: 1, y: 0.2 }, hull: [n - 2, n - 1, n - 3], strategy: 'sparse' };
}

before(async () => {
  if (skip) return;
  harness = await openHarness({ entry: 'libraryMapMain.ts', bundle: 'libraryMap.js', css: 'libraryMap.css', themeCss: THEME_CSS, viewport: { width: 900, height: 800 } });
  ({ page, consoleErrors } = harness);
});

after(async () => {
  await harness?.close();
});

/** Canvas pixels (device) of exactly this opaque colour, as CSS page coordinates. */
function pixelsOf(rgb: [number, number, number]) {
  return page.evaluate((rgb) => {
    const canvas = document.getElementById('library-map') as HTMLCanvasElement;
    const rect = canvas.getBoundingClientRect();
    const scale = canvas.width / rect.width;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const out: { x: number; y: number }[] = [];
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2] && data[i + 3] === 255) {
        const p = i / 4;
        out.push({ x: rect.left + (p % canvas.width) / scale, y: rect.top + Math.floor(p / canvas.width) / scale });
      }
    }
    return out;
  }, rgb);
}

test('the helpers: radius grows with |weight|, the summary says variance and sampling', () => {
  assert.equal(candidateRadius(undefined, 1), 4);
  assert.ok(candidateRadius(-0.9, 0.9) > candidateRadius(0.1, 0.9));
  assert.equal(candidateRadius(-0.9, 0.9), candidateRadius(0.9, 0.9));
  const summary = mapSummary(mapFixture());
  assert.match(summary, /51\.2% \+ 20\.1% = 71\.3%/);
  assert.match(summary, /sample of 40 of 5000/);
});

test('draws the map within the CSP; a click on a candidate posts toggle-exclude', { skip }, async () => {
  await page.goto(`${harness.origin}/`);
  await page.waitForFunction(() => (window as ShimWindow).__posted?.some((m: MapViewMessage) => m.type === 'ready'));
  const map = mapFixture();
  await page.evaluate((m) => window.postMessage({ type: 'map', uri: 'file:///w/r.compose.yaml', fileName: 'r.compose.yaml', map: m }, '*'), map);
  await page.waitForSelector('#library-map');
  // Drawn once the responsive chart has its size (not on a fixed delay: the machine may be busy).
  await page.waitForFunction(() => {
    const c = document.getElementById('library-map') as HTMLCanvasElement | null;
    if (!c || c.width === 0) return false;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 255 && d[i + 3] === 255) return true;
    return false;
  }, null, { timeout: 20000 });
  assert.equal(await page.textContent('#map-summary'), mapSummary(map));
  // The layout may still settle (responsive resize): read the pixels until two reads agree.
  let blue = await pixelsOf([0, 0, 255]);
  for (let i = 0; i < 20; i++) {
    await page.waitForTimeout(150);
    const again = await pixelsOf([0, 0, 255]);
    const same = again.length === blue.length && again.every((p, j) => p.x === blue[j].x && p.y === blue[j].y);
    blue = again;
    if (same) break;
  }
  const red = await pixelsOf([255, 0, 0]);
  assert.ok(blue.length > 10, `the positive candidate is drawn in the theme's blue (${blue.length} px)`);
  assert.ok(red.length > 10, `negative candidates in the theme's red (${red.length} px)`);
  await page.screenshot({ path: join(artifacts, 'library-map.png') });
  // The positive candidate is the only opaque blue in the plot (the legend's box is below it): click its centre.
  const top = blue.reduce((a, p) => (p.y < a.y ? p : a));
  const dot = blue.filter((p) => Math.hypot(p.x - top.x, p.y - top.y) < 30);
  const cx = dot.reduce((s, p) => s + p.x, 0) / dot.length;
  const cy = dot.reduce((s, p) => s + p.y, 0) / dot.length;
  await page.mouse.click(cx, cy);
  await page.waitForFunction(() => (window as ShimWindow).__posted?.some((m: MapViewMessage) => m.type === 'toggleExclude'), null, { timeout: 5000 }).catch(() => undefined);
  const posted = await page.evaluate(() => (window as ShimWindow).__posted ?? []);
  assert.deepEqual(posted.filter((m) => m.type === 'toggleExclude'), [{ type: 'toggleExclude', uri: 'file:///w/r.compose.yaml', name: 'cand-pos' }]);
  assert.deepEqual(await page.evaluate(() => (window as ShimWindow).__violations), []);
  // (the test's own getImageData readbacks draw a performance warning; nothing else may be logged)
  assert.deepEqual(consoleErrors.filter((e) => !/willReadFrequently/.test(e)), []);
});
