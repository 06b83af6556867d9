/**
 * The library map (its own panel, bundled into dist/libraryMap.js): the server's 2D PCA of a library's
 * prototypes drawn as a Chart.js scatter — library points, the recipe's target, its candidates sized by
 * |weight| and coloured by sign, the excluded ones, and the candidates' convex hull. A pure function of
 * the LibraryMap JSON; clicking a point asks the host to toggle it in `retrieve.exclude`.
 */
import { Chart, LinearScale, LineElement, PointElement, ScatterController, Legend, Title, Tooltip, type ChartConfiguration } from 'chart.js';
import type { LibraryMap, LibraryMapPoint } from '../../server/src/protocol';
import { type ChartTheme, withAlpha } from './theme';

Chart.register(ScatterController, LinearScale, PointElement, LineElement, Legend, Title, Tooltip);


/** Radius of a candidate: 4 px plus up to 12 px by |weight| relative to the largest. */
export function candidateRadius(weight: number | undefined, largest: number): number {
  if (weight === undefined || !(largest > 0)) return 4;
  return 4 + 12 * Math.min(1, Math.abs(weight) / largest);
}

/** The headline: what is drawn, how much variance the axes explain, whether it is a sample. */
export function mapSummary(map: LibraryMap): string {
  const pct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(1)}%`;
  const parts = [
    `PCA of ${map.basisRows} prototype${map.basisRows === 1 ? '' : 's'}${map.base ? ` of base ${map.base}` : ''}`,
    `axes explain ${pct(map.explained[0])} + ${pct(map.explained[1])} = ${pct((map.explained[0] ?? 0) + (map.explained[1] ?? 0))} of the variance`,
  ];
  if (map.sampled) parts.push(`a deterministic sample of ${map.basisRows} of ${map.total} adapters (plus the candidates) is drawn`);
  return parts.join(' · ');
}

interface Datum { x: number; y: number; point?: LibraryMapPoint }

export function mapChartConfig(map: LibraryMap, theme: ChartTheme): ChartConfiguration<'scatter', Datum[]> {
  const by = (role: LibraryMapPoint['role']) => map.points.filter((p) => p.role === role);
  const candidates = by('candidate');
  const largest = Math.max(0, ...candidates.map((p) => Math.abs(p.weight ?? 0)));
  const positive = theme.series[0];
  const negative = theme.series[4];
  const datum = (p: LibraryMapPoint): Datum => ({ x: p.x, y: p.y, point: p });
  const hull = map.hull.map((i) => map.points[i]);
  const datasets: ChartConfiguration<'scatter', Datum[]>['data']['datasets'] = [
    { label: 'library', data: by('library').map(datum), pointRadius: 3, backgroundColor: withAlpha(theme.muted, 0.45), borderColor: withAlpha(theme.muted, 0.6) },
    { label: 'excluded', data: by('excluded').map(datum), pointRadius: 6, pointHoverRadius: 7, pointStyle: 'crossRot', borderColor: theme.series[5], borderWidth: 2, backgroundColor: theme.series[5] },
    {
      label: 'candidates', data: candidates.map(datum),
      pointRadius: candidates.map((p) => candidateRadius(p.weight, largest)),
      // Chart.js shrinks a hovered point to its hover radius (default 4): keep the size, so a click lands.
      pointHoverRadius: candidates.map((p) => candidateRadius(p.weight, largest) + 1),
      backgroundColor: candidates.map((p) => withAlpha((p.weight ?? 0) < 0 ? negative : positive, 0.7)),
      borderColor: candidates.map((p) => ((p.weight ?? 0) < 0 ? negative : positive)),
      borderWidth: 2,
    },
  ];
  if (hull.length >= 2) {
    datasets.push({ label: 'candidates\u2019 hull', data: [...hull, hull[0]].map((p) => ({ x: p.x, y: p.y })), showLine: true, pointRadius: 0, pointHitRadius: 0, pointHoverRadius: 0, borderColor: withAlpha(positive, 0.5), borderDash: [4, 3], borderWidth: 1, fill: false });
  }
  if (map.target) datasets.push({ label: 'target', data: [{ x: map.target.x, y: map.target.y }], pointRadius: 9, pointStyle: 'star', borderColor: theme.marker, backgroundColor: theme.marker, borderWidth: 2 });
  const axis = (title: string) => ({ type: 'linear' as const, grace: '8%', title: { display: true, text: title, color: theme.muted }, ticks: { color: theme.foreground }, grid: { color: theme.grid } });
  const pct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(1)}%`;
  return {
    type: 'scatter',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      color: theme.foreground,
      scales: { x: axis(`PC1 (${pct(map.explained[0])})`), y: axis(`PC2 (${pct(map.explained[1])})`) },
      plugins: {
        legend: { position: 'bottom', labels: { color: theme.foreground, boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const d = item.raw as Datum;
              if (!d.point) return item.dataset.label ?? '';
              const w = d.point.weight !== undefined ? ` · weight ${d.point.weight.toFixed(4)}` : '';
              return `${d.point.card}${w}${d.point.role === 'excluded' ? ' · excluded' : ''}`;
            },
          },
        },
      },
    },
  };
}
