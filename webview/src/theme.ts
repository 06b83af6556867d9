/** Chart colours from the VS Code theme's CSS variables, with fallbacks for a page outside VS Code. */
import type { Strategy } from '../../server/src/engine/types';

export interface ChartTheme {
  foreground: string;
  muted: string;
  grid: string;
  zero: string;
  marker: string;
  fontFamily: string;
  series: string[];
  strategy: Record<Strategy, string>;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value || fallback;
}

export function readTheme(element: HTMLElement = document.body): ChartTheme {
  const style = getComputedStyle(element);
  const dark = !element.classList.contains('vscode-light') && !element.classList.contains('vscode-high-contrast-light');
  const c = {
    blue: cssVar(style, '--vscode-charts-blue', dark ? '#3794ff' : '#1a85ff'),
    red: cssVar(style, '--vscode-charts-red', dark ? '#f14c4c' : '#e51400'),
    green: cssVar(style, '--vscode-charts-green', dark ? '#89d185' : '#388a34'),
    yellow: cssVar(style, '--vscode-charts-yellow', dark ? '#cca700' : '#bf8803'),
    orange: cssVar(style, '--vscode-charts-orange', dark ? '#d18616' : '#d18616'),
    purple: cssVar(style, '--vscode-charts-purple', dark ? '#b180d7' : '#652d90'),
  };
  const foreground = cssVar(style, '--vscode-foreground', dark ? '#cccccc' : '#3b3b3b');
  const muted = cssVar(style, '--vscode-descriptionForeground', dark ? '#9d9d9d' : '#717171');
  return {
    foreground,
    muted,
    grid: cssVar(style, '--vscode-charts-lines', dark ? 'rgba(204,204,204,0.2)' : 'rgba(59,59,59,0.15)'),
    zero: foreground,
    marker: cssVar(style, '--vscode-editorCursor-foreground', c.red),
    fontFamily: style.fontFamily || 'sans-serif',
    series: [c.blue, c.orange, c.green, c.purple, c.red, c.yellow],
    // Colour means strategy, in every chart (adapters and metrics are told apart by marker and dash instead);
    // avg, the baseline, is grey, so no two strategies share a hue family (avg and sim were both gold).
    strategy: { avg: muted, sim: c.orange, lin: c.blue, sparse: c.purple, convex: c.green, nearest: c.red, manual: foreground },
  };
}

/** The colour with an alpha, for any CSS colour string (canvas resolves it). */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim());
  if (hex) {
    const h = hex[1].length <= 4 ? hex[1].split('').map((x) => x + x).join('') : hex[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return `color-mix(in srgb, ${color} ${Math.round(alpha * 100)}%, transparent)`;
}
