/**
 * The lock file, `<recipe>.compose.lock`: everything that decided a composite, so that a pull request
 * shows what changed and `compose --locked` can prove nothing drifted. Stable, pretty JSON with sorted
 * keys and no timestamps: the same inputs give the same bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError, isComposerError } from './errors';
import { sha256Bytes } from './prototype/contentHash';
import type { Recipe } from './recipe/parse';
import type { RecipePaths } from './recipe/paths';
import type { RecipePath, Severity } from './recipe/problem';
import type { AdapterRecord, PlanJson } from './types';
import { isUri } from './recipe/paths';
import { writeFailure } from './lora/atomicFolder';
import { parseJsonQuiet, readTextSafe } from './safeRead';
import { ownValue, setOwn } from './nameTable';
import { isOutsideWorkspace, realLocation } from './recipe/workspaceConfinement';
import { processAlive } from './singleWriter';

export const LOCK_FORMAT = 1;

export interface LockFile {
  format: number;
  tool_version: string;
  recipe: { path: string; sha256: string };
  library: { uri: string; version: number; size: number };
  encoder: { sha256: string | null; dim: number };
  target: { source: string; sha256: string; count: number; dim: number };
  provider: string | null;
  candidates: { name: string; distance: number; sha256: string; path: string }[];
  strategy: string;
  parameters: Record<string, unknown>;
  weights: Record<string, number>;
  /** density and normalize for the entry-wise methods, seed for DARE (absent otherwise). */
  merge: { method: string; rank: number; dtype: string; modules_to_save: string; density?: number; seed?: number; normalize?: boolean };
  output: { path: string; files: { path: string; sha256: string }[] };
}

/** Paths in a lock are relative to the lock's folder, so a lock means the same on every checkout. */
export function relativeToLock(lockFile: string, target: string): string {
  if (isUri(target)) return target;
  return path.relative(path.dirname(lockFile), target).split(path.sep).join('/') || '.';
}

/** JSON with object keys sorted at every level and 2-space indentation, newline-terminated. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) setOwn(out, key, sortKeys((value as Record<string, unknown>)[key]));
    return out;
  }
  return value;
}

export function buildLock(input: {
  toolVersion: string;
  recipe: Recipe;
  paths: RecipePaths;
  plan: PlanJson;
  candidates: AdapterRecord[];
  outputFiles: { path: string; sha256: string }[];
  /** The sha256 of the bytes each merged adapter's weights were read from (compose); others keep the library's. */
  mergedSha256?: Record<string, string>;
}): LockFile {
  const { recipe, paths, plan } = input;
  const spec = recipe.spec;
  const selected = plan.strategies[plan.strategy];
  if (!selected) throw new ComposerError('internal', `no result for strategy ${plan.strategy}`);
  const parameters: Record<string, unknown> = { k: spec.retrieve.k };
  if (spec.retrieve.where) parameters.where = spec.retrieve.where;
  if (spec.retrieve.exclude.length) parameters.exclude = [...spec.retrieve.exclude];
  if (spec.retrieve.adapters) parameters.adapters = [...spec.retrieve.adapters];
  if (selected.lambda !== undefined) parameters.lambda = selected.lambda;
  if (selected.rho !== undefined) parameters.rho = selected.rho;
  if (selected.form !== undefined) parameters.form = selected.form;
  if (selected.temperature !== undefined) parameters.temperature = selected.temperature;
  const byName = new Map(input.candidates.map((c) => [c.name, c]));
  return {
    format: LOCK_FORMAT,
    tool_version: input.toolVersion,
    recipe: { path: relativeToLock(paths.lock, paths.recipeFile), sha256: sha256Bytes(recipe.text) },
    library: { uri: relativeToLock(paths.lock, paths.library), version: plan.library?.version ?? 0, size: plan.library?.size ?? 0 },
    encoder: { sha256: plan.library?.encoder?.sha256 ?? null, dim: plan.target.dim },
    target: { source: plan.target.source, sha256: plan.target.sha256 ?? '', count: plan.target.count, dim: plan.target.dim },
    provider: plan.provider ?? null,
    candidates: plan.candidates.map((c) => ({
      name: c.name,
      distance: c.distance,
      sha256: input.mergedSha256?.[c.name] ?? byName.get(c.name)?.sha256 ?? '',
      path: relativeToLock(paths.lock, byName.get(c.name)?.path ?? ''),
    })),
    strategy: plan.strategy,
    parameters,
    weights: { ...selected.weights },
    merge: {
      method: spec.merge.method,
      rank: spec.merge.rank,
      dtype: spec.merge.dtype,
      modules_to_save: spec.merge.modules_to_save,
      ...(spec.merge.density !== undefined ? { density: spec.merge.density } : {}),
      ...(spec.merge.seed !== undefined ? { seed: spec.merge.seed } : {}),
      ...(spec.merge.normalize !== undefined ? { normalize: spec.merge.normalize } : {}),
    },
    output: { path: relativeToLock(paths.lock, paths.output), files: input.outputFiles.map((f) => ({ path: f.path, sha256: f.sha256 })) },
  };
}

/**
 * The lock beside a recipe, or undefined when there is none. With `workspaceRoot`, a lock whose real
 * path leaves the workspace (committed as a symbolic link to `~/.config/…/credentials.json`) is
 * refused unread: its fields would be quoted in `check`'s warnings and a CI log.
 */
export function readLock(file: string, workspaceRoot?: string): LockFile | undefined {
  let text: string;
  if (!fs.existsSync(file)) return undefined;
  // (a link to a device or a FIFO gets safeRead's own refusal below, which reads nothing either)
  if (workspaceRoot && isRegularFile(file) && isOutsideWorkspace(file, workspaceRoot)) {
    throw new ComposerError('lock', `the lock file ${file} resolves to ${realLocation(file)}, outside the workspace ${realLocation(workspaceRoot)}; it was not read`, { file }, 'delete the link and compose again: the lock is a file of the workspace');
  }
  try {
    text = readTextSafe(file, 'lock', 'the lock file');
  } catch (e) {
    if (isComposerError(e)) throw new ComposerError('lock', e.message, { file }, e.hint ?? 'delete it and compose again');
    return undefined;
  }
  return parseLockText(text, file);
}

function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A lock from its text (e.g. read at a git revision); `file` names it in the error. */
export function parseLockText(text: string, file: string): LockFile {
  try {
    const lock = parseJsonQuiet(text) as LockFile;
    if (typeof lock !== 'object' || lock === null || Array.isArray(lock)) throw new Error('not a JSON object');
    if (lock.format !== LOCK_FORMAT) throw new Error(`unsupported lock format ${JSON.stringify((lock as { format?: unknown }).format ?? null).slice(0, 40)}`);
    // A hand-edited or damaged lock must fail here, not as a TypeError deep in the drift check.
    if (nestedDeeperThan(lock, MAX_LOCK_DEPTH)) throw new Error(`values nested deeper than ${MAX_LOCK_DEPTH} levels`);
    const damage = lockShapeProblem(lock as unknown as Record<string, unknown>);
    if (damage) throw new Error(damage);
    return lock;
  } catch (e) {
    throw new ComposerError('lock', `cannot read the lock file: ${(e as Error).message}`, { file }, 'delete it and compose again');
  }
}

/** A lock is a few levels deep; a deeper one is damaged (and would overflow recursive readers). */
const MAX_LOCK_DEPTH = 32;

function nestedDeeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

type Field = 'string' | 'number' | 'string|null' | 'object';
const LOCK_FIELDS: Record<string, Field | Record<string, Field>> = {
  tool_version: 'string',
  recipe: { path: 'string', sha256: 'string' },
  library: { uri: 'string', version: 'number', size: 'number' },
  encoder: { sha256: 'string|null', dim: 'number' },
  target: { source: 'string', sha256: 'string', count: 'number', dim: 'number' },
  provider: 'string|null',
  strategy: 'string',
  parameters: 'object',
  weights: 'object',
  merge: { method: 'string', rank: 'number', dtype: 'string', modules_to_save: 'string' },
  output: { path: 'string' },
};

function fieldOk(value: unknown, kind: Field): boolean {
  if (kind === 'string|null') return value === null || typeof value === 'string';
  if (kind === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === kind;
}

/** What is missing or mistyped in a parsed lock, or undefined when it has the LockFile shape. */
function lockShapeProblem(lock: Record<string, unknown>): string | undefined {
  for (const [key, kind] of Object.entries(LOCK_FIELDS)) {
    const value = lock[key];
    if (value === undefined) return `"${key}" is missing`;
    if (typeof kind === 'string') {
      if (!fieldOk(value, kind)) return `"${key}" must be ${kind === 'string|null' ? 'a string or null' : `a${kind === 'object' ? 'n' : ''} ${kind}`}`;
      continue;
    }
    if (!fieldOk(value, 'object')) return `"${key}" must be an object`;
    for (const [inner, innerKind] of Object.entries(kind)) {
      if ((value as Record<string, unknown>)[inner] === undefined) return `"${key}.${inner}" is missing`;
      if (!fieldOk((value as Record<string, unknown>)[inner], innerKind)) return `"${key}.${inner}" must be ${innerKind === 'string|null' ? 'a string or null' : `a ${innerKind}`}`;
    }
  }
  for (const [name, w] of Object.entries(lock.weights as Record<string, unknown>)) {
    if (typeof w !== 'number') return `the weight of "${name}" must be a number`;
  }
  const items = (value: unknown, fields: Record<string, Field>, what: string): string | undefined => {
    if (!Array.isArray(value)) return `"${what}" must be a list`;
    for (const [i, item] of value.entries()) {
      if (!fieldOk(item, 'object')) return `"${what}[${i}]" must be an object`;
      for (const [f, kind] of Object.entries(fields)) if (!fieldOk((item as Record<string, unknown>)[f], kind)) return `"${what}[${i}].${f}" must be a ${kind}`;
    }
    return undefined;
  };
  // compose writes each candidate and each output file once; a lock that repeats one is not
  // compose's, and every reader keyed by name would show one entry and hide the other (`diff` said
  // "no changes" for a pull request's extra candidate of another hash and folder)
  const once = (list: Record<string, unknown>[], key: string, what: string): string | undefined => {
    const seen = new Set<unknown>();
    for (const item of list) {
      if (seen.has(item[key])) return `"${what}" lists ${JSON.stringify(item[key])} twice`;
      seen.add(item[key]);
    }
    return undefined;
  };
  return items(lock.candidates, { name: 'string', distance: 'number', sha256: 'string', path: 'string' }, 'candidates')
    ?? items((lock.output as Record<string, unknown>).files, { path: 'string', sha256: 'string' }, 'output.files')
    ?? once(lock.candidates as Record<string, unknown>[], 'name', 'candidates')
    ?? once((lock.output as Record<string, unknown>).files as Record<string, unknown>[], 'path', 'output.files');
}

/**
 * Writes the lock atomically (temp file in the same folder, then rename). The temp file is created
 * anew (O_EXCL: an entry already at its name, a planted symbolic link included, is never opened —
 * writing through one overwrote the file it pointed to); another name is tried then.
 */
export function writeLock(file: string, lock: LockFile): void {
  prepareLock(file, lock).commit();
}

/** A lock written to its temporary file, not yet in place. */
export interface PreparedLock {
  /** Renames it into place. */
  commit(): void;
  /** Removes the temporary file (compose did not publish). */
  discard(): void;
}

/**
 * The first half of writeLock: the temporary file, written now, so that every refusal of the lock's
 * folder (read-only, full, no permission, a name too long) comes before compose replaces the output —
 * it used to come after, leaving the new composite beside the previous lock. The rename (commit) is
 * what remains after the publish.
 */
export function prepareLock(file: string, lock: LockFile): PreparedLock {
  removeStaleTempLocks(file);
  const stamp = tempLockName(file);
  let tmp: string | undefined;
  try {
    // a folder at the lock's path would refuse only the rename, after the publish
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ComposerError('io', `cannot write the lock ${file}: a folder is in its place; nothing was replaced`, { file }, 'move the folder away and compose again');
    }
    for (let i = 0; tmp === undefined; i++) {
      const name = i === 0 ? stamp : `${stamp}-${i}`;
      let fd: number;
      try {
        fd = fs.openSync(name, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 16) throw e;
        continue;
      }
      tmp = name;
      try {
        fs.writeFileSync(fd, stableJson(lock));
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (e) {
    if (tmp !== undefined) fs.rmSync(tmp, { force: true });
    throw isComposerError(e) ? e : writeFailure(e, file);
  }
  const written = tmp;
  return {
    commit() {
      try {
        fs.renameSync(written, file);
      } catch (e) {
        fs.rmSync(written, { force: true });
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new ComposerError('io', `cannot put the lock in place at ${file} (${code}): the output was written, the lock beside it is the previous one (or none)`, { file }, 'compose again once the lock\'s folder can be written');
      }
    },
    discard() {
      fs.rmSync(written, { force: true });
    },
  };
}

/**
 * `<lock>.tmp-<pid>-<ms>` beside the lock; when that name is longer than a file name may be (a lock
 * name over ~225 bytes), a short hidden one in the same folder (the lock name alone still fits).
 */
function tempLockName(file: string): string {
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  return `${tempLockStem(file, suffix)}${suffix}`;
}

function tempLockStem(file: string, suffix: string): string {
  if (Buffer.byteLength(path.basename(file) + suffix) + 4 <= 255) return file;
  return path.join(path.dirname(file), `.${sha256Bytes(Buffer.from(path.basename(file))).slice(0, 16)}.compose.lock`);
}

/**
 * The temporary locks a killed compose of this recipe left (its pid gone): regular files named exactly
 * as tempLockName names them, nothing else (a link or folder of that name is not ours to remove).
 * The temporary file now exists from before the publish to just after it, so `kill -9` can leave one.
 */
function removeStaleTempLocks(file: string): void {
  const dir = path.dirname(file);
  const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const stems = new Set([file, tempLockStem(file, '.tmp-9999999-9999999999999')].map((f) => escape(path.basename(f))));
  const own = new RegExp(`^(?:${[...stems].join('|')})\\.tmp-(\\d+)-\\d+(?:-\\d+)?$`);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = own.exec(e);
    if (!m || processAlive(Number(m[1]))) continue;
    const f = path.join(dir, e);
    if (fs.lstatSync(f, { throwIfNoEntry: false })?.isFile()) fs.rmSync(f, { force: true });
  }
}

export interface Drift {
  /** The JSON path of the field in the lock, e.g. `candidates[0].sha256`, `weights.grammar-02`. */
  what: string;
  /** undefined where the field is absent on that side. */
  locked: unknown;
  now: unknown;
}

/** Every leaf that differs between `a` and `b`, by JSON path (numbers within `tolerance` are equal). */
export function diffPaths(prefix: string, a: unknown, b: unknown, out: Drift[], tolerance = 0): Drift[] {
  const isObject = (v: unknown) => v !== null && typeof v === 'object';
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffPaths(`${prefix}[${i}]`, a[i], b[i], out, tolerance);
  } else if (isObject(a) && isObject(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) diffPaths(prefix ? `${prefix}.${k}` : k, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out, tolerance);
  } else if (typeof a === 'number' && typeof b === 'number') {
    if (a !== b && !(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a)))) out.push({ what: prefix, locked: a, now: b });
  } else if (JSON.stringify(sortKeys(a)) !== JSON.stringify(sortKeys(b))) {
    out.push({ what: prefix, locked: a, now: b });
  }
  return out;
}

/** What differs between a lock and a fresh plan, field by field (output files are compared after merging). */
export function lockDrift(lock: LockFile, fresh: LockFile): Drift[] {
  const drift: Drift[] = [];
  diffPaths('recipe.sha256', lock.recipe.sha256, fresh.recipe.sha256, drift);
  diffPaths('encoder', lock.encoder, fresh.encoder, drift);
  diffPaths('target', lock.target, fresh.target, drift);
  const ids = (l: LockFile) => l.candidates.map((c) => ({ name: c.name, sha256: c.sha256 }));
  diffPaths('candidates', ids(lock), ids(fresh), drift);
  diffPaths('strategy', lock.strategy, fresh.strategy, drift);
  diffPaths('parameters', lock.parameters, fresh.parameters, drift, 1e-9);
  // an adapter absent on one side has weight 0 there
  const names = [...new Set([...Object.keys(lock.weights), ...Object.keys(fresh.weights)])];
  for (const name of names) {
    const a = ownValue(lock.weights, name) ?? 0;
    const b = ownValue(fresh.weights, name) ?? 0;
    if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a))) drift.push({ what: `weights.${name}`, locked: ownValue(lock.weights, name), now: ownValue(fresh.weights, name) });
  }
  diffPaths('merge', lock.merge, fresh.merge, drift);
  return drift;
}

/**
 * One drift line: `candidates[0].sha256: 13823d… → 2dd811…`. Long strings are cut after the first
 * character where the two sides differ (so the two never print alike); absent reads `(absent)`.
 */
export function formatDrift(d: Drift): string {
  const [a, b] = [d.locked, d.now];
  let cut = 0;
  if (typeof a === 'string' && typeof b === 'string') {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    cut = Math.max(6, i + 1);
  }
  const show = (v: unknown): string => {
    if (v === undefined) return '(absent)';
    if (typeof v === 'string') return cut > 0 && v.length > cut + 2 ? `${v.slice(0, cut)}…` : v;
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}…` : s;
  };
  return `${d.what}: ${show(a)} → ${show(b)}`;
}

/** For the planner: a lock next to the recipe that no longer matches it is stale. */
export function staleLockProblems(
  recipe: Recipe,
  paths: RecipePaths,
  plan: PlanJson,
  candidates: AdapterRecord[],
  /** Read the lock only inside this workspace (see readLock). */
  workspaceRoot?: string,
): { severity: Severity; code: string; message: string; path: RecipePath }[] {
  let lock: LockFile | undefined;
  try {
    lock = readLock(paths.lock, workspaceRoot);
  } catch (e) {
    return [{ severity: 'warning', code: 'lock-unreadable', message: (e as Error).message, path: ['compose'] }];
  }
  if (!lock) return [];
  const fresh = buildLock({ toolVersion: lock.tool_version, recipe, paths, plan, candidates, outputFiles: lock.output.files });
  const drift = lockDrift(lock, fresh);
  if (drift.length === 0) return [];
  const what = [...new Set(drift.map((d) => d.what.split(/[.[]/)[0]))].join(', ');
  return [{
    severity: 'warning',
    code: 'stale-lock',
    message: `the lock file ${path.basename(paths.lock)} is stale (${what} changed since the last compose); compose again to update it`,
    path: ['compose'],
  }];
}
