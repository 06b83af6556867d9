/**
 * The library map without a mouse: the canvas's label, and a table of the recipe's candidates (by |weight|)
 * and excluded adapters, each with a button that toggles it in `retrieve.exclude` as a click on its dot does.
 * The map alone was a bare canvas, and a keyboard or screen-reader user could neither read it nor change it.
 */
import type { LibraryMap, LibraryMapPoint } from '../../server/src/protocol';

/** What the map shows, for its aria-label. */
export function mapLabel(map: LibraryMap): string {
  const count = (role: LibraryMapPoint['role']) => map.points.filter((p) => p.role === role).length;
  const candidates = count('candidate');
  const excluded = count('excluded');
  return `Scatter plot of ${map.total} adapters${map.base ? ` of base ${map.base}` : ''} in two PCA axes, with the target, `
    + `${candidates} candidate${candidates === 1 ? '' : 's'} and ${excluded} excluded; the table below lists them.`;
}

/** The candidates, largest |weight| first, then the excluded adapters by name. */
export function listedPoints(map: LibraryMap): LibraryMapPoint[] {
  const candidates = map.points.filter((p) => p.role === 'candidate')
    .sort((a, b) => Math.abs(b.weight ?? 0) - Math.abs(a.weight ?? 0) || a.name.localeCompare(b.name));
  const excluded = map.points.filter((p) => p.role === 'excluded').sort((a, b) => a.name.localeCompare(b.name));
  return [...candidates, ...excluded];
}

/** The table; `toggle` absent (no recipe to edit) leaves the buttons out. */
export function mapTable(map: LibraryMap, toggle?: (name: string) => void): HTMLTableElement {
  const cell = (tag: 'td' | 'th', text: string, attrs: Record<string, string> = {}) => {
    const c = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) c.setAttribute(k, v);
    c.textContent = text;
    return c;
  };
  const table = document.createElement('table');
  table.id = 'map-points';
  const caption = document.createElement('caption');
  caption.textContent = 'Candidates and excluded adapters';
  const head = document.createElement('tr');
  for (const h of ['adapter', 'role', 'weight', 'card', ...(toggle ? ['retrieve.exclude'] : [])]) head.append(cell('th', h, { scope: 'col' }));
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const p of listedPoints(map)) {
    const row = document.createElement('tr');
    row.append(cell('th', p.name, { scope: 'row' }), cell('td', p.role), cell('td', p.weight === undefined ? '' : p.weight.toFixed(3)), cell('td', p.card));
    if (toggle) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = p.role === 'excluded' ? 'Include again' : 'Exclude';
      button.setAttribute('aria-label', `${button.textContent} ${p.name}`);
      button.addEventListener('click', () => toggle(p.name));
      const td = document.createElement('td');
      td.append(button);
      row.append(td);
    }
    tbody.append(row);
  }
  table.append(caption, thead, tbody);
  return table;
}
