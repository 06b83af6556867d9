/**
 * The library map panel's entry (an IIFE in dist/libraryMap.js): draws each LibraryMap the host posts
 * and posts back a click on a point, or a press of a row's button in the table under it, as "toggle this
 * adapter in exclude".
 */
import { Chart } from 'chart.js';
import { mapChartConfig, mapSummary } from './libraryMap';
import { mapLabel, mapTable } from './libraryMapTable';
import type { MapHostMessage, MapViewMessage } from '../../server/src/protocol';
import { readTheme } from './theme';
import { vscodeApi } from './vscodeApi';

const vscode = vscodeApi();
const post = (m: MapViewMessage) => vscode.postMessage(m);
const root = document.getElementById('root') ?? document.body;
let last = (vscode.getState() as MapHostMessage | undefined) ?? { type: 'empty', message: 'Open a recipe and run “Show Library Map”.' };
let chart: Chart | undefined;

function draw(): void {
  chart?.destroy();
  chart = undefined;
  root.replaceChildren();
  const message = last;
  if (message.type === 'empty') {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = message.message;
    root.append(p);
    return;
  }
  const { map } = message;
  const h1 = document.createElement('h1');
  h1.textContent = `Library map${message.fileName ? `: ${message.fileName}` : ''}`;
  const summary = document.createElement('p');
  summary.className = 'facts';
  summary.id = 'map-summary';
  summary.textContent = mapSummary(map);
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.textContent = message.uri ? 'Hover a point for its card; click it (or use the table below) to add it to (or remove it from) retrieve.exclude.' : 'Hover a point for its card.';
  const box = document.createElement('div');
  box.className = 'map-box';
  const canvas = document.createElement('canvas');
  canvas.id = 'library-map';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('tabindex', '0');
  canvas.setAttribute('aria-label', mapLabel(map));
  box.append(canvas);
  const uri = message.uri;
  root.append(h1, summary, hint, box, mapTable(map, uri ? (name) => post({ type: 'toggleExclude', uri, name }) : undefined));
  const config = mapChartConfig(map, readTheme());
  config.options = {
    ...config.options,
    onClick: (_event, elements) => {
      if (!message.uri) return;
      // The first hit that is an adapter (not the target or a hull vertex).
      for (const hit of elements) {
        const datum = config.data.datasets[hit.datasetIndex]?.data[hit.index] as { point?: { name: string } } | undefined;
        if (datum?.point) {
          post({ type: 'toggleExclude', uri: message.uri, name: datum.point.name });
          return;
        }
      }
    },
  };
  chart = new Chart(canvas, config);
}

window.addEventListener('message', (event: MessageEvent<MapHostMessage>) => {
  const m = event.data;
  if (!m || typeof m !== 'object' || (m.type !== 'map' && m.type !== 'empty')) return;
  last = m;
  vscode.setState(last);
  draw();
});
new MutationObserver(draw).observe(document.body, { attributes: true, attributeFilter: ['class'] });
draw();
post({ type: 'ready' });
