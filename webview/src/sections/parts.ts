/**
 * The pieces every section of the weights panel is built from: the element builder, number formats, the
 * screen-reader table, the chart box, the section with its heading and caption, and what a section returns.
 */
import type { ViewMessage } from '../../../server/src/protocol';

export interface PanelHost {
  postMessage(message: ViewMessage): void;
}

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Record<string, string>, ...children: Child[]): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

export const formatWeight = (w: number) => (Math.abs(w) < 5e-13 ? '0' : w.toFixed(3));
export const formatNumber = (x: number) => String(Number(x.toPrecision(4)));

/** A screen-reader table: caption, header row, rows of cells. */
export function dataTable(caption: string, header: string[], rows: string[][], className = 'visually-hidden'): HTMLTableElement {
  return el('table', { class: className },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => (i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c)))))),
  );
}

export function chartBox(id: string, label: string): { box: HTMLElement; canvas: HTMLCanvasElement } {
  // Focusable, so the Tab order reaches every chart and a screen reader reads its label.
  const canvas = el('canvas', { id, role: 'img', 'aria-label': label, tabindex: '0' });
  return { box: el('div', { class: 'chart-box' }, canvas), canvas };
}

export function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return el('section', { id, 'aria-labelledby': `${id}-title` }, el('h2', { id: `${id}-title` }, title), ...children);
}

/** One line under a chart's heading saying what it shows and how to read it. */
export function caption(id: string, text: string): HTMLElement {
  return el('p', { class: 'caption hint', id: `${id}-caption` }, text);
}

/** A section and how to draw its charts once it is in the document (charts measure their container). */
export interface Built {
  node: HTMLElement;
  draw(): void;
}
