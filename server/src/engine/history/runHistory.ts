/**
 * The run history: one row per compose in a LanceDB table `runs` — in the library's own database when
 * the library is a local folder we may write, otherwise (remote or read-only library) in
 * `<workspace>/.adapter-composer/history`. Paths in a row are relative to where the history lives, so
 * a moved checkout keeps its history. The webview's metrics chart and `adapter-composer history` read it.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as arrow from 'apache-arrow';
import type * as lancedb from '@lancedb/lancedb';
import { loadArrow, loadLancedb } from '../nativeModules';
import { ComposerError } from '../errors';
import { isRemoteUri, localPath } from '../location';
import { sqlString } from '../library/schema';
import { parseRecipe } from '../recipe/parse';
import { resolveRecipePaths } from '../recipe/paths';
import type { EvaluationOutcome, RunHistoryEntry } from '../types';
import { readTextSafe } from '../safeRead';
import { requireOwnEntries } from '../library/libraryFolder';
import { isOutsideWorkspace, isReadable, outsideWhat, OUTSIDE_HINT, realLocation } from '../recipe/workspaceConfinement';

export const RUNS_TABLE = 'runs';
export const WORKSPACE_HISTORY_DIR = path.join('.adapter-composer', 'history');

/** Where a recipe's runs are: its library, and the workspace to fall back on. */
export interface HistoryPlace {
  /** The library folder or URI (as resolved from the recipe). */
  library?: string;
  workspaceRoot?: string;
  /** The recipe, when there is no workspace: its folder stands in for one. */
  recipeFile?: string;
}

export interface HistoryStore {
  /** The LanceDB database holding `runs`. */
  database: string;
  /** Folder that recorded paths are relative to. */
  anchor: string;
  kind: 'library' | 'workspace';
}

export function historyStore(place: HistoryPlace): HistoryStore {
  const library = place.library;
  if (library && !isRemoteUri(library)) {
    const folder = localPath(library, process.cwd()) ?? library;
    if (isWritableFolder(folder)) return { database: folder, anchor: folder, kind: 'library' };
  }
  const root = path.resolve(place.workspaceRoot ?? (place.recipeFile ? path.dirname(path.resolve(place.recipeFile)) : '.'));
  return { database: path.join(root, WORKSPACE_HISTORY_DIR), anchor: root, kind: 'workspace' };
}

/**
 * A workspace history folder must be the workspace's own: a repository can commit
 * `.adapter-composer/history` as a symlink to anywhere, and compose would write its runs table there
 * (and history read a table planted there). Refused (an `io` error: compose records no run and says
 * why) when its real path leaves the workspace.
 */
function confinedStore(store: HistoryStore): HistoryStore {
  if (store.kind === 'workspace' && isOutsideWorkspace(store.database, store.anchor)) {
    throw new ComposerError('io', `the workspace's run history ${store.database} resolves to ${realLocation(store.database)}, outside the workspace ${realLocation(store.anchor)}`, { file: store.database }, `make ${path.join(store.anchor, WORKSPACE_HISTORY_DIR)} a folder of the workspace (it, or a folder above it, is a symbolic link out of it)`);
  }
  return store;
}

function isWritableFolder(folder: string): boolean {
  try {
    if (!fs.statSync(folder).isDirectory()) return false;
    fs.accessSync(folder, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function relativeTo(anchor: string, file: string): string {
  if (isRemoteUri(file)) return file;
  return path.relative(anchor, path.resolve(file)).split(path.sep).join('/') || '.';
}

function runsSchema(): arrow.Schema {
  const arrow = loadArrow();
  const text = (name: string, nullable = false) => new arrow.Field(name, new arrow.Utf8(), nullable);
  return new arrow.Schema([
    text('id'),
    text('time'),
    text('recipe'),
    text('name'),
    text('recipe_sha256'),
    text('lock_sha256'),
    new arrow.Field('library_version', new arrow.Float64(), false),
    text('strategy'),
    text('parameters'),
    text('weights'),
    text('metrics'),
    text('evaluation', true),
    text('output'),
    text('tool_version'),
  ]);
}

export interface RunToRecord {
  recipeFile: string;
  name: string;
  recipeSha256: string;
  lockSha256: string;
  libraryVersion: number;
  strategy: string;
  parameters: Record<string, unknown>;
  weights: Record<string, number>;
  output: string;
  toolVersion: string;
  evaluation?: EvaluationOutcome;
  /** Defaults to now. */
  time?: string;
}

/** Appends one run; returns it as read back later. */
export async function recordRun(place: HistoryPlace, run: RunToRecord): Promise<RunHistoryEntry & { store: HistoryStore }> {
  const store = confinedStore(historyStore({ ...place, recipeFile: place.recipeFile ?? run.recipeFile }));
  const entry: RunHistoryEntry = {
    id: randomUUID(),
    time: run.time ?? new Date().toISOString(),
    recipe: relativeTo(store.anchor, run.recipeFile),
    name: run.name,
    recipe_sha256: run.recipeSha256,
    lock_sha256: run.lockSha256,
    library_version: run.libraryVersion,
    strategy: run.strategy,
    parameters: run.parameters,
    weights: run.weights,
    metrics: run.evaluation?.metrics ?? {},
    ...(run.evaluation ? { evaluation: run.evaluation } : {}),
    output: relativeTo(store.anchor, run.output),
    tool_version: run.toolVersion,
  };
  await withRunsTable(store, 'could not record the run', 'create', async (table) => {
    await table.add([rowOf(entry)]);
  });
  return { ...entry, store };
}

export interface ReadHistoryOptions {
  /** Only runs of this recipe (a path; relative ones are taken from the current folder). */
  recipe?: string;
  workspaceRoot?: string;
  /** The newest this many (default: all). */
  limit?: number;
}

/**
 * Runs recorded for a library (URI or folder) — or, given a workspace folder and no library, for the
 * workspace's own history — oldest first. A place without a history gives [].
 */
export async function readHistory(where: string | HistoryPlace, options: ReadHistoryOptions = {}): Promise<RunHistoryEntry[]> {
  const place: HistoryPlace = typeof where === 'string'
    ? (looksLikeLibrary(where) ? { library: where, workspaceRoot: options.workspaceRoot } : { workspaceRoot: where })
    : { ...where, workspaceRoot: where.workspaceRoot ?? options.workspaceRoot };
  const store = confinedStore(historyStore(place));
  if (!fs.existsSync(path.join(store.database, `${RUNS_TABLE}.lance`))) return [];
  const rows = await withRunsTable(store, 'cannot read the run history', 'existing', async (table) => {
    let q = table.query();
    if (options.recipe) q = q.where(`recipe = ${sqlString(relativeTo(store.anchor, options.recipe))}`);
    return (await q.toArray()) as Record<string, unknown>[];
  });
  if (rows === undefined) return [];
  const entries = rows.map(entryOf).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  return options.limit !== undefined ? entries.slice(Math.max(0, entries.length - options.limit)) : entries;
}

/**
 * Runs `use` on the `runs` table of `store`, then closes the table and the connection, whatever happens;
 * any failure becomes an `io` error `<failed> in <database>: <message>`. `create` makes the folder and the
 * table when missing; `existing` gives undefined when there is no table.
 */
async function withRunsTable<T>(store: HistoryStore, failed: string, mode: 'create' | 'existing', use: (table: lancedb.Table) => Promise<T>): Promise<T | undefined> {
  try {
    if (mode === 'create') fs.mkdirSync(store.database, { recursive: true });
    requireOwnEntries(store.database, 'the run history');
    const db = await loadLancedb().connect(store.database, mode === 'existing' ? { readConsistencyInterval: 0 } : undefined);
    try {
      const exists = (await db.tableNames()).includes(RUNS_TABLE);
      if (!exists && mode === 'existing') return undefined;
      const table = exists ? await db.openTable(RUNS_TABLE) : await db.createEmptyTable(RUNS_TABLE, runsSchema(), { mode: 'create', existOk: true });
      try {
        return await use(table);
      } finally {
        table.close();
      }
    } finally {
      db.close();
    }
  } catch (e) {
    throw new ComposerError('io', `${failed} in ${store.database}: ${e instanceof Error ? e.message : String(e)}`, { file: store.database });
  }
}

function looksLikeLibrary(where: string): boolean {
  if (isRemoteUri(where)) return true;
  return fs.existsSync(path.join(path.resolve(where), 'library_meta.lance'));
}

function rowOf(e: RunHistoryEntry): Record<string, unknown> {
  return {
    id: e.id,
    time: e.time,
    recipe: e.recipe,
    name: e.name,
    recipe_sha256: e.recipe_sha256,
    lock_sha256: e.lock_sha256,
    library_version: e.library_version,
    strategy: e.strategy,
    parameters: JSON.stringify(e.parameters),
    weights: JSON.stringify(e.weights),
    metrics: JSON.stringify(e.metrics),
    evaluation: e.evaluation ? JSON.stringify(e.evaluation) : null,
    output: e.output,
    tool_version: e.tool_version,
  };
}

function entryOf(row: Record<string, unknown>): RunHistoryEntry {
  const json = <T>(v: unknown, fallback: T): T => {
    if (typeof v !== 'string') return fallback;
    try {
      return JSON.parse(v) as T;
    } catch {
      return fallback;
    }
  };
  const entry: RunHistoryEntry = {
    id: String(row.id),
    time: String(row.time),
    recipe: String(row.recipe),
    name: String(row.name),
    recipe_sha256: String(row.recipe_sha256),
    lock_sha256: String(row.lock_sha256),
    library_version: Number(row.library_version),
    strategy: String(row.strategy),
    parameters: json(row.parameters, {}),
    weights: json(row.weights, {}),
    metrics: json(row.metrics, {}),
    output: String(row.output),
    tool_version: String(row.tool_version),
  };
  const evaluation = json<EvaluationOutcome | null>(row.evaluation, null);
  if (evaluation) entry.evaluation = evaluation;
  return entry;
}

/** The runs of one recipe file, wherever its library keeps them (reads the recipe for its `library:`). */
/** Where the editor may read an open recipe's run history from: its workspace and read roots. */
export interface HistoryConfinement {
  workspaceRoot: string;
  readRoots?: readonly string[];
}

export async function readRecipeHistory(recipeFile: string, options: { workspaceRoot?: string; limit?: number; confine?: HistoryConfinement } = {}): Promise<RunHistoryEntry[]> {
  const text = readTextSafe(recipeFile, 'recipe', 'recipe');
  const recipe = parseRecipe(text, recipeFile).recipe;
  const library = recipe && typeof recipe.spec.library === 'string' && recipe.spec.library !== '' ? resolveRecipePaths(recipe, recipeFile).library : undefined;
  // the editor reads an open recipe's history as it plans it: a local library outside the workspace
  // (and its read roots) is not opened, as the planner does not open it
  if (recipe && library && options.confine && !isRemoteUri(library) && !isReadable(library, options.confine.workspaceRoot, options.confine.readRoots)) {
    throw new ComposerError('recipe', `the run history of library \`${String(recipe.spec.library)}\` is not read: it resolves to ${realLocation(library)}, ${outsideWhat(options.confine.workspaceRoot, options.confine.readRoots ?? [])}`, recipe.locationOf(['library']), OUTSIDE_HINT);
  }
  return readHistory({ library, workspaceRoot: options.workspaceRoot, recipeFile }, { recipe: recipeFile, limit: options.limit });
}
