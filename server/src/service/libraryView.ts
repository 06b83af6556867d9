/**
 * The library view and the library map: which libraries the workspace uses, their adapters grouped
 * by base and tag a page at a time, one adapter's card, a recipe's "add to exclude / manual" edit,
 * and the 2D PCA picture of a library's prototypes with a recipe's target and candidates. No
 * transport: the language server wires these to requests (protocol.ts LibraryRequests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { LibraryAdapterRow, LibraryGroup, LibraryMap, LibraryMapPoint, LibraryPage, LibrarySummary } from '../protocol';
import { openLibrary, type Library } from '../engine/library/library';
import { pca2, project, type PcaBasis } from '../engine/library/pca';
import { isRemoteUri, resolveLocation } from '../engine/location';
import { setValueEdit, type TextEdit } from '../engine/recipe/edit';
import type { AdapterRecord } from '../engine/types';
import { ownValue } from '../engine/nameTable';
import type { RecipeView } from './recipeView';
import { mdLines, mdText } from '../engine/markdownText';

/** Largest page the server hands out. */
export const MAX_PAGE = 500;
/** Library points drawn on the map by default (the candidates come on top). */
export const DEFAULT_MAP_SAMPLE = 1000;
/** Chunks a large library's map sample is read in (evenly spaced offsets, deterministic per version). */
const SAMPLE_CHUNKS = 10;

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '.venv', '__pycache__']);

/**
 * Recipes under `root` (bounded walk: depth 8, 5,000 entries, no dot folders or node_modules) and the
 * library each names, resolved against the recipe's folder.
 */
export function recipeLibraries(root: string, limits = { depth: 8, entries: 5000 }): { recipe: string; library: string }[] {
  const out: { recipe: string; library: string }[] = [];
  let seen = 0;
  const walk = (dir: string, depth: number): void => {
    if (depth > limits.depth || seen > limits.entries) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (++seen > limits.entries) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) walk(p, depth + 1);
      } else if (e.isFile() && /\.compose\.ya?ml$/i.test(e.name)) {
        const library = libraryOfRecipeText(readSmall(p), path.dirname(p));
        if (library) out.push({ recipe: p, library });
      }
    }
  };
  walk(root, 0);
  return out;
}

function readSmall(file: string): string {
  try {
    const stat = fs.statSync(file);
    return stat.size <= 1_000_000 ? fs.readFileSync(file, 'utf8') : '';
  } catch {
    return '';
  }
}

/** The `library:` of a recipe's text, resolved against `dir`; undefined when absent or unreadable. */
export function libraryOfRecipeText(text: string, dir: string): string | undefined {
  if (!/^library\s*:/m.test(text)) return undefined;
  try {
    const js = parseDocument(text, { strict: false, uniqueKeys: false }).toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
    const library = js && typeof js === 'object' ? js.library : undefined;
    return typeof library === 'string' && library.trim() ? resolveLocation(library.trim(), dir) : undefined;
  } catch {
    return undefined;
  }
}

/** `base · r=8 · α=16 · tags` — the hover line of a map point. */
export function cardLine(a: Pick<AdapterRecord, 'name' | 'base' | 'rank' | 'alpha' | 'format' | 'tags'>): string {
  return [a.name, a.base || '—', `r=${a.rank}`, `α=${a.alpha}`, a.format, ...(a.tags.length ? [a.tags.join(',')] : [])].join(' · ');
}

/** Markdown card of one adapter as the library stores it (no recipe context). */
export function libraryCard(a: AdapterRecord): string {
  // another author's row: escaped as in the hover card (adapterCard.ts)
  const lines = [`**${mdText(a.name)}** — LoRA adapter`, ''];
  if (a.description) lines.push(mdLines(a.description), '');
  const facts: [string, string][] = [
    ['base', a.base || '—'], ['rank', String(a.rank)], ['α', String(a.alpha)], ['format', a.format],
    ['modules', a.target_modules.length ? a.target_modules.join(', ') : '—'], ['path', a.path], ['sha256', a.sha256], ['added', a.created_at],
  ];
  if (a.tags.length) facts.push(['tags', a.tags.join(', ')]);
  for (const [k, v] of facts) lines.push(`- ${k}: ${mdText(v)}`);
  return lines.join('\n');
}

/**
 * The edit that adds `name` to the recipe's `retrieve.exclude` (or removes it, for toggle-exclude when
 * it is there) or gives it a `weights.manual` entry of 0. Throws with a message when the recipe cannot
 * take it (unreadable YAML, a list where a map is needed).
 */
export function addToRecipeEdit(view: RecipeView, name: string, as: 'exclude' | 'manual' | 'toggle-exclude'): TextEdit {
  const text = view.document.text;
  let js: Record<string, unknown> | null;
  try {
    js = parseDocument(text, { strict: false, uniqueKeys: false }).toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
  } catch {
    js = null;
  }
  const retrieve = js && typeof js === 'object' ? (js.retrieve as Record<string, unknown> | undefined) : undefined;
  const exclude = Array.isArray(retrieve?.exclude) ? (retrieve.exclude as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  let edit: TextEdit | undefined;
  if (as === 'manual') {
    const weights = js && typeof js === 'object' ? (js.weights as Record<string, unknown> | undefined) : undefined;
    const manual = weights?.manual && typeof weights.manual === 'object' ? (weights.manual as Record<string, number>) : undefined;
    if (ownValue(manual, name) !== undefined) throw new Error(`\`${name}\` already has a manual weight`);
    edit = setValueEdit(text, ['weights', 'manual', name], 0);
  } else {
    const present = exclude.includes(name);
    if (present && as === 'exclude') throw new Error(`\`${name}\` is already excluded`);
    const next = present ? exclude.filter((n) => n !== name) : [...exclude, name];
    edit = setValueEdit(text, ['retrieve', 'exclude'], next);
  }
  if (!edit) throw new Error('the recipe is not readable YAML here; fix it first');
  return edit;
}

interface OpenLibrary {
  library: Library;
  groups?: { version: number; groups: LibraryGroup[] };
  bases: Map<string, { version: number; basis: PcaBasis; rows: AdapterRecord[]; total: number; sampled: boolean }>;
}

/** Open library handles and what is cached per library version (groups, PCA bases). */
export class LibraryViews {
  private readonly open = new Map<string, Promise<OpenLibrary>>();

  private async handle(uri: string): Promise<OpenLibrary> {
    let opening = this.open.get(uri);
    if (!opening) {
      opening = openLibrary(uri).then((library) => ({ library, bases: new Map() }));
      this.open.set(uri, opening);
      opening.catch(() => this.open.delete(uri));
    }
    return opening;
  }

  /** Forget a library (changed on disk, removed); reopened on the next request. */
  invalidate(uri?: string): void {
    for (const [key, opening] of this.open) {
      if (uri !== undefined && key !== uri) continue;
      this.open.delete(key);
      void opening.then((o) => o.library.close(), () => undefined);
    }
  }

  async summaries(libraries: { uri: string; usedBy: string }[]): Promise<LibrarySummary[]> {
    const byUri = new Map<string, string[]>();
    for (const l of libraries) {
      const list = byUri.get(l.uri) ?? [];
      if (!list.includes(l.usedBy)) list.push(l.usedBy);
      byUri.set(l.uri, list);
    }
    const out: LibrarySummary[] = [];
    for (const [uri, usedBy] of [...byUri.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      try {
        const { library } = await this.handle(uri);
        const [size, version] = await Promise.all([library.size(), library.version()]);
        out.push({ uri, usedBy, size, version, dim: library.dim });
      } catch (e) {
        out.push({ uri, usedBy, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return out;
  }

  async groups(uri: string): Promise<LibraryGroup[]> {
    const h = await this.handle(uri);
    const version = await h.library.version();
    if (h.groups?.version !== version) h.groups = { version, groups: await h.library.groups() };
    return h.groups.groups;
  }

  async page(uri: string, options: { base?: string; tag?: string; offset?: number; limit?: number }): Promise<LibraryPage> {
    const { library } = await this.handle(uri);
    const offset = Math.max(0, Math.floor(Number(options.offset) || 0));
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(Number(options.limit) || 100)));
    const [version, total] = await Promise.all([library.version(), library.count({ base: options.base, tag: options.tag })]);
    const records = offset < total ? await library.page({ base: options.base, tag: options.tag, offset, limit }) : [];
    const rows = await Promise.all(records.map(async (r): Promise<LibraryAdapterRow> => {
      const row: LibraryAdapterRow = {
        name: r.name, base: r.base, rank: r.rank, alpha: r.alpha, format: r.format, modules: r.target_modules.length,
        tags: r.tags, description: r.description, path: r.path,
      };
      const bytes = await adapterBytes(r.path);
      if (bytes !== undefined) row.bytes = bytes;
      return row;
    }));
    return { library: uri, version, total, offset, rows };
  }

  async record(uri: string, name: string): Promise<AdapterRecord | undefined> {
    const { library } = await this.handle(uri);
    return library.get(name);
  }

  /**
   * The map of a library (of one base when given): a PCA basis of its prototypes (all of them up to
   * `sample`, else a deterministic sample), cached per library version, with the recipe's target,
   * candidates (weights of the selected strategy) and excluded adapters projected onto it.
   */
  async map(uri: string, options: { base?: string; sample?: number; view?: RecipeView }): Promise<LibraryMap> {
    const h = await this.handle(uri);
    const library = h.library;
    const version = await library.version();
    const sample = Math.max(2, Math.min(20000, Math.floor(Number(options.sample) || DEFAULT_MAP_SAMPLE)));
    const key = JSON.stringify([options.base ?? null, sample]);
    let cached = h.bases.get(key);
    if (!cached || cached.version !== version) {
      const total = await library.count({ base: options.base });
      let rows: AdapterRecord[];
      if (total <= sample) rows = await library.page({ base: options.base, offset: 0, limit: Math.max(1, total), prototypes: true });
      else {
        rows = [];
        // total > sample, so the chunks (stride total/chunks > per) never overlap.
        const chunks = Math.min(SAMPLE_CHUNKS, sample);
        const per = Math.floor(sample / chunks);
        for (let i = 0; i < chunks; i++) {
          const offset = Math.floor((i * total) / chunks);
          rows.push(...(await library.page({ base: options.base, offset, limit: per, prototypes: true })));
        }
      }
      rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const basis = pca2(rows.map((r) => r.prototype), library.dim);
      cached = { version, basis, rows, total, sampled: total > rows.length };
      h.bases.set(key, cached);
    }
    const { basis } = cached;
    const plan = options.view?.outcome?.plan;
    const outcome = options.view?.outcome;
    const weights = plan ? plan.strategies[plan.strategy]?.weights : undefined;
    const candidates = new Map((outcome?.candidates ?? []).map((c) => [c.name, c]));
    const excludedNames = new Set((outcome?.recipe?.spec.retrieve.exclude ?? []).filter((n): n is string => typeof n === 'string'));
    const excludedRows = excludedNames.size ? await library.getMany([...excludedNames]) : [];
    const points: LibraryMapPoint[] = [];
    const point = (r: AdapterRecord, role: LibraryMapPoint['role']): LibraryMapPoint => {
      const [x, y] = project(basis, r.prototype);
      const p: LibraryMapPoint = { name: r.name, x, y, role, card: cardLine(r) };
      const w = ownValue(weights, r.name);
      if (role === 'candidate' && w !== undefined) p.weight = w;
      return p;
    };
    for (const r of cached.rows) if (!candidates.has(r.name) && !excludedNames.has(r.name)) points.push(point(r, 'library'));
    for (const r of excludedRows) points.push(point(r, 'excluded'));
    for (const r of candidates.values()) points.push(point(r, 'candidate'));
    const result: LibraryMap = {
      library: uri, version, total: cached.total, basisRows: basis.rows, sampled: cached.sampled,
      explained: basis.explained, points, hull: [],
    };
    if (options.base !== undefined) result.base = options.base;
    if (plan) result.strategy = plan.strategy;
    if (outcome?.target && outcome.target.length === basis.dim) {
      const [x, y] = project(basis, outcome.target);
      result.target = { x, y };
    }
    const candidateIndices = points.map((p, i) => (p.role === 'candidate' ? i : -1)).filter((i) => i >= 0);
    result.hull = convexHull(candidateIndices.map((i) => [points[i].x, points[i].y] as [number, number])).map((j) => candidateIndices[j]);
    return result;
  }

  dispose(): void {
    this.invalidate();
  }
}

/** Bytes of a local adapter: the file, or a folder's direct files. Undefined for remote or missing ones. */
async function adapterBytes(location: string): Promise<number | undefined> {
  if (!location || isRemoteUri(location)) return undefined;
  try {
    const stat = await fs.promises.stat(location);
    if (stat.isFile()) return stat.size;
    if (!stat.isDirectory()) return undefined;
    const entries = await fs.promises.readdir(location, { withFileTypes: true });
    let total = 0;
    for (const e of entries.slice(0, 1000)) {
      if (!e.isFile()) continue;
      total += (await fs.promises.stat(path.join(location, e.name))).size;
    }
    return total;
  } catch {
    return undefined;
  }
}

/** Indices of the convex hull of 2D points, counter-clockwise (Andrew's monotone chain). */
export function convexHull(points: [number, number][]): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a][0] - points[b][0] || points[a][1] - points[b][1]);
  if (order.length < 3) return order;
  const cross = (o: number, a: number, b: number) =>
    (points[a][0] - points[o][0]) * (points[b][1] - points[o][1]) - (points[a][1] - points[o][1]) * (points[b][0] - points[o][0]);
  const lower: number[] = [];
  for (const i of order) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], i) <= 0) lower.pop();
    lower.push(i);
  }
  const upper: number[] = [];
  for (const i of [...order].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], i) <= 0) upper.pop();
    upper.push(i);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}
