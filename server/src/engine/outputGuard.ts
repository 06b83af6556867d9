/**
 * Which folders `compose` may replace. Publishing a composite swaps the output folder out and
 * removes the old one, so the output must be a folder compose made itself: one holding its
 * `composition.json` (tool: adapter-composer), or the output the previous lock records (with the
 * recorded file hashes, when asked to verify them). Never — not even with --force — a folder that is,
 * or is an ancestor of, the recipe, the library, the workspace root, a `.git`, or an adapter of the
 * library; nor one that lies inside the library or an adapter. A non-empty folder compose did not
 * write is refused unless the user forces it. The planner reports these as errors at `output:`
 * (check, the editor) and compose checks them again before it writes and right before it publishes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError, type SourceLocation } from './errors';
import { WEIGHTS_FILE } from './lora/compositeLayout';
import { sha256FileSync } from './prototype/contentHash';
import { realLocation } from './recipe/workspaceConfinement';

/** composition.json's `tool` field: the mark of a folder compose wrote. */
export const COMPOSITION_TOOL = 'adapter-composer';
const MAX_MARKER_BYTES = 1 << 20;
/**
 * The only entries a folder compose wrote holds. A folder with anything else in it (a user's note, a
 * checkpoint, a subfolder) is not compose's alone, whatever its composition.json or a lock claims: a
 * pull request can commit a composition.json into a folder, or a lock naming it with the hash of one
 * committed file, and compose replaced the folder whole, the user's untracked files included.
 */
const COMPOSED_FILES = new Set(['composition.json', 'adapter_config.json', ...Object.values(WEIGHTS_FILE)]);

export interface OutputContext {
  /** Absolute output folder. */
  output: string;
  recipeFile: string;
  /** Absolute local library folder (undefined for a remote library). */
  library?: string;
  workspaceRoot?: string;
  /** Adapters the output must stay clear of (candidates, the library's adapters). */
  adapters?: { name: string; path: string }[];
  /**
   * The recipe's other inputs the output must stay clear of, even with --force: the target's
   * features or prototype file, the folders its sample globs start from (see `targetInputs`).
   */
  inputs?: { what: string; path: string }[];
  /** The recipe's lock file: an output it records counts as compose's own. */
  lockFile?: string;
  /** Hash the files the lock or the folder's composition.json records (compose), not only their names and path (editor). */
  verifyHashes?: boolean;
  /**
   * Compose's thorough check: before a folder compose did not write is force-replaced, look through it
   * (bounded) for a `.git` at any depth; and follow every adapter's links, however many adapters (the
   * editor's per-keystroke check walks no folders and resolves links for up to 64 adapters).
   */
  deepScan?: boolean;
}

/** How many entries a forced replacement may look through before it refuses to replace the folder. */
const DEEP_SCAN_LIMIT = 10_000;

export interface OutputHazard {
  code: string;
  message: string;
  hint?: string;
  /** True when `--force` may override it (a non-empty folder compose did not write). */
  forcible?: boolean;
}

/** `inner` is `outer` or lies inside it (both absolute and normalised: a string prefix test, µs for 5,000). */
function within(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  const prefix = outer.endsWith(path.sep) ? outer : outer + path.sep;
  return inner.startsWith(prefix);
}

/** An absolute, normalised spelling without resolving again what already is one. */
function normal(p: string): string {
  return path.isAbsolute(p) && !p.includes(`${path.sep}.`) && !p.endsWith(path.sep) ? p : path.resolve(p);
}

/** Both spellings of a location: as written (resolved) and with symlinks followed. */
function spellings(location: string): string[] {
  const plain = path.resolve(location);
  const real = realLocation(location);
  return plain === real ? [plain] : [plain, real];
}

/** The output (any spelling) contains the other location (any spelling) or, `either`, lies inside it. */
function overlaps(output: string[], other: string[], how: 'contains' | 'either'): boolean {
  for (const o of output) {
    for (const x of other) {
      if (within(x, o) || (how === 'either' && within(o, x))) return true;
    }
  }
  return false;
}

/** Everything wrong with writing the composite to `ctx.output` (empty: safe). */
export function outputHazards(ctx: OutputContext): OutputHazard[] {
  const out: OutputHazard[] = [];
  const output = spellings(ctx.output);
  const shown = ctx.output;
  const home = os.homedir();
  if (output.some((o) => o === path.parse(o).root)) {
    out.push({ code: 'output-protected', message: `output ${shown} is the file-system root; compose replaces its output folder as a whole` });
  } else if (home && overlaps(output, spellings(home), 'contains')) {
    out.push({ code: 'output-protected', message: `output ${shown} is the home folder or one above it; compose replaces its output folder as a whole` });
  }
  if (overlaps(output, spellings(ctx.recipeFile), 'contains')) {
    out.push({ code: 'output-contains-recipe', message: `output ${shown} contains the recipe itself; compose replaces its output folder as a whole`, hint: 'write composites to a folder of their own, e.g. ../out/<name>' });
  }
  // compose writes the lock after the output: a folder there made it die on an internal EISDIR
  // (a folder holding the lock holds the recipe too: output-contains-recipe says so)
  if (ctx.lockFile && spellings(ctx.lockFile).some((l) => output.includes(l))) {
    out.push({ code: 'output-is-lock', message: `output ${shown} is the recipe's lock file ${path.basename(ctx.lockFile)}; compose writes the lock there after the composite`, hint: 'write composites to a folder of their own, e.g. ../out/<name>' });
  }
  if (ctx.workspaceRoot && overlaps(output, spellings(ctx.workspaceRoot), 'contains')) {
    out.push({ code: 'output-contains-workspace', message: `output ${shown} is or contains the workspace ${path.resolve(ctx.workspaceRoot)}; compose replaces its output folder as a whole` });
  }
  if (ctx.library && overlaps(output, spellings(ctx.library), 'either')) {
    out.push({ code: 'output-in-library', message: `output ${shown} overlaps the library folder ${ctx.library}; write composites elsewhere` });
  }
  if (output.some((o) => o.split(path.sep).includes('.git')) || output.some((o) => somethingAt(path.join(o, '.git')))) {
    out.push({ code: 'output-git', message: `output ${shown} is, holds or lies inside a .git folder; compose never replaces a repository` });
  }
  for (const adapter of ctx.adapters ?? []) {
    if (!adapter.path) continue;
    const adapterFolder = normal(adapter.path);
    // a library of 65 adapters, one a link to the composite the recipe writes again, had compose
    // replace that adapter: compose resolves them all (5,000 adapters: ~80 ms, twice per compose)
    if (overlaps(output, [adapterFolder, ...(ctx.deepScan || ctx.adapters!.length <= 64 ? spellings(adapterFolder) : [])], 'either')) {
      out.push({ code: 'output-overlaps-adapter', message: `output ${shown} overlaps the folder of the adapter \`${adapter.name}\` (${adapterFolder}); compose would overwrite an input` });
      break;
    }
  }
  for (const input of ctx.inputs ?? []) {
    // contains only: a folder inside the samples' folder replaces none of them (and `*.npy` beside
    // the recipe must not forbid `./out/<name>`)
    if (overlaps(output, spellings(input.path), 'contains')) {
      out.push({ code: 'output-overlaps-input', message: `output ${shown} overlaps ${input.what} (${input.path}); compose would overwrite an input of its own recipe` });
      break;
    }
  }
  const unwritable = unwritableOutput(ctx.output);
  if (unwritable) out.push({ code: 'output-not-a-folder', message: unwritable });
  const existing = existingState(ctx.output, ctx.verifyHashes === true);
  if (existing === 'not-a-folder') {
    out.push({ code: 'output-not-a-folder', message: `output ${shown} exists and is not a folder` });
  } else if (existing === 'foreign' && !(onlyComposedFiles(ctx.output) && ownedByLock(ctx))) {
    const scan = ctx.deepScan ? scanForGit(ctx.output) : 'clean';
    if (scan === 'git') out.push({ code: 'output-git', message: `output ${shown} holds a .git folder further down; compose never replaces a repository` });
    if (scan === 'too-large') out.push({ code: 'output-too-large', message: `output ${shown} holds more than ${DEEP_SCAN_LIMIT} entries; compose does not replace a folder that large that it did not write`, hint: 'choose a new output folder, or remove it yourself' });
    out.push({
      code: 'output-not-composed',
      message: `output ${shown} is a non-empty folder that compose did not write (no composition.json of adapter-composer, not the output of the lock); compose would replace it`,
      hint: 'choose a new output folder, or pass --force to replace it',
      forcible: true,
    });
  }
  return out;
}

/**
 * The longest output folder name compose can publish: the file system allows 255 bytes, and the
 * staging and backup folders beside it (`.<name>.tmp-<pid>-<stamp>`) add up to 30.
 */
const MAX_OUTPUT_NAME = 220;

/**
 * What keeps compose from creating the output folder at all — a file (or a dangling link) where a
 * folder above it must be, a dangling link at the output itself, a name the file system cannot hold
 * — said at `output:` by check and the editor as compose would fail: it used to pass check and
 * then fail in compose as an internal `EEXIST`/`ENOTDIR`/`ENAMETOOLONG`.
 */
function unwritableOutput(output: string): string | undefined {
  const resolved = path.resolve(output);
  const name = path.basename(resolved);
  if (Buffer.byteLength(name) > MAX_OUTPUT_NAME) {
    return `output ${output}: its folder name is ${Buffer.byteLength(name)} bytes long; compose can write at most ${MAX_OUTPUT_NAME} (the file system allows 255, and the staging folder beside it adds a suffix)`;
  }
  const long = path.dirname(resolved).split(path.sep).find((part) => Buffer.byteLength(part) > 255);
  if (long !== undefined) return `output ${output}: the folder name ${long.slice(0, 40)}… above it is ${Buffer.byteLength(long)} bytes long; the file system allows 255`;
  const dangling = (p: string): string | undefined => {
    try {
      return fs.lstatSync(p).isSymbolicLink() ? fs.readlinkSync(p) : undefined;
    } catch {
      return undefined;
    }
  };
  const statCode = (p: string): string | undefined => {
    try {
      fs.statSync(p);
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  };
  // A link that leads back to itself (a → b → a): stat says ELOOP at it and at every path under it; the
  // loop is the highest such path whose parent resolves. compose failed creating the folder, unlocated.
  const loop = (link: string) => `a symbolic link that loops (it leads back to itself through ${dangling(link) ?? path.basename(link)})`;
  if (!fs.existsSync(resolved)) {
    const code = statCode(resolved);
    if (code === 'ELOOP' && statCode(path.dirname(resolved)) === undefined) return `output ${output} is ${loop(resolved)}`;
    const target = dangling(resolved);
    if (target !== undefined && code !== 'ELOOP') return `output ${output} is a symbolic link to ${path.resolve(path.dirname(resolved), target)}, which does not exist`;
  }
  for (let dir = path.dirname(resolved); ; dir = path.dirname(dir)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        if (path.dirname(dir) !== dir && statCode(path.dirname(dir)) === 'ELOOP') continue;
        return `output ${output} lies under ${dir}, ${loop(dir)}`;
      }
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      const target = dangling(dir);
      if (target !== undefined) return `output ${output} lies under ${dir}, a symbolic link to ${path.resolve(path.dirname(dir), target)}, which does not exist`;
    }
    if (stat) return stat.isDirectory() ? undefined : `output ${output} lies under ${dir}, which is not a folder`;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The target's files as inputs the output must not touch: a features or prototype file, and for
 * each samples glob the folder it starts from (its segments before the first one with a glob
 * character; the file itself when it has none). `compose --force` replaced `data/<task>` — the
 * recipe's own samples — as "a folder compose did not write".
 */
export function targetInputs(target: { source?: string; file?: string; patterns?: string[] }, recipeDir: string): { what: string; path: string }[] {
  if ((target.source === 'features' || target.source === 'prototype') && target.file) return [{ what: `the target's ${target.source} file`, path: path.resolve(target.file) }];
  if (target.source !== 'samples') return [];
  return (target.patterns ?? []).map((pattern) => {
    const parts = pattern.replace(/\\/g, '/').split('/');
    const glob = parts.findIndex((part) => /[*?[\]{}()!]/.test(part));
    const fixed = glob < 0 ? parts : parts.slice(0, glob);
    return { what: 'the target\'s samples', path: path.resolve(recipeDir, fixed.join('/') || '.') };
  });
}

/** The target's inputs and the built-in evaluator's model, data and labels (resolved from the recipe's folder). */
export function recipeInputs(
  target: { source?: string; file?: string; patterns?: string[] },
  evaluate: { builtin?: { model: string; data: string; labels: string } } | undefined,
  recipeDir: string,
): { what: string; path: string }[] {
  const builtin = evaluate?.builtin;
  const evaluator = builtin
    ? (['model', 'data', 'labels'] as const).filter((k) => typeof builtin[k] === 'string' && builtin[k] !== '').map((k) => ({ what: `the evaluator's ${k}`, path: path.resolve(recipeDir, builtin[k]) }))
    : [];
  return [...targetInputs(target, recipeDir), ...evaluator];
}

/** Throws the first hazard (a --force-able one only without `force`) as a ComposerError at `location`. */
export function requireSafeOutput(ctx: OutputContext, location: SourceLocation | undefined, force = false): void {
  const first = outputHazards(ctx).find((h) => !(force && h.forcible));
  if (first) throw new ComposerError('recipe', first.message, location, first.hint ?? 'choose an output folder of its own, e.g. ../out/<name>');
}

/** Walks `folder` (symlinks not followed) looking for a `.git`, up to DEEP_SCAN_LIMIT entries. */
function scanForGit(folder: string): 'clean' | 'git' | 'too-large' {
  const stack = [folder];
  let seen = 0;
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > DEEP_SCAN_LIMIT) return 'too-large';
      if (e.name === '.git') return 'git';
      if (e.isDirectory()) stack.push(path.join(dir, e.name));
    }
  }
  return 'clean';
}

/** Something (a link included, dangling or not) is at `p`: never followed. */
export function somethingAt(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** `verify`: hash the files a composition.json lists (compose); the editor checks names only. */
function existingState(output: string, verify: boolean): 'absent' | 'empty' | 'ours' | 'foreign' | 'not-a-folder' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(output);
  } catch {
    return 'absent';
  }
  if (!stat.isDirectory()) return 'not-a-folder';
  // one entry is enough to know it is not empty (a folder of a million files costs the same)
  let empty: boolean;
  try {
    const dir = fs.opendirSync(output);
    try {
      empty = dir.readSync() === null;
    } finally {
      dir.closeSync();
    }
  } catch {
    return 'foreign';
  }
  if (empty) return 'empty';
  return hasCompositionMarker(output, verify) ? 'ours' : 'foreign';
}

/** Every entry of the folder is a regular file with a name compose writes (at most a handful: bounded). */
function onlyComposedFiles(folder: string): boolean {
  try {
    const dir = fs.opendirSync(folder);
    try {
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        if (!e.isFile() || !COMPOSED_FILES.has(e.name)) return false;
      }
    } finally {
      dir.closeSync();
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holds only files compose writes, and a composition.json of adapter-composer that lists
 * every other file in it (`files`, written since the fourth hostile round) and, with `verify` (compose,
 * before it replaces the folder),
 * each listed file still has its recorded sha256. A pull request can commit a composition.json into a
 * user's folder whose weights are git-ignored, but cannot know those weights' hash. A composition.json
 * without `files` (an older composite) no longer makes a folder compose's own: its lock still can.
 */
export function hasCompositionMarker(folder: string, verify = true): boolean {
  if (!onlyComposedFiles(folder)) return false;
  const text = readSmallRegularFile(path.join(folder, 'composition.json'));
  if (text === undefined) return false;
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    return false;
  }
  if (json === null || typeof json !== 'object' || (json as Record<string, unknown>).tool !== COMPOSITION_TOOL) return false;
  const files = (json as Record<string, unknown>).files;
  return Array.isArray(files) && holdsExactly(folder, files, verify, 'composition.json');
}

/**
 * The folder holds exactly the recorded `files` (`{path, sha256}` entries of a lock or a
 * composition.json, checked here) and `besides`, nothing else; with `verify`, each recorded file is a
 * regular file with its sha256. What makes a record claim a folder: a list naming one committed file
 * (whose hash anyone knows) does not claim the git-ignored files beside it.
 */
function holdsExactly(folder: string, files: unknown[], verify: boolean, besides?: string): boolean {
  const root = path.resolve(folder);
  const listed = new Map<string, string>();
  for (const f of files) {
    const entry = f as { path?: unknown; sha256?: unknown } | null;
    if (typeof entry?.path !== 'string' || typeof entry.sha256 !== 'string' || entry.path === besides || !within(path.resolve(root, entry.path), root)) return false;
    listed.set(entry.path, entry.sha256);
  }
  if (listed.size === 0) return false;
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return false;
  }
  if (entries.length !== listed.size + (besides === undefined ? 0 : 1) || !entries.every((e) => e === besides || listed.has(e))) return false;
  if (!verify) return true;
  return [...listed].every(([name, sha256]) => {
    const file = path.resolve(root, name);
    try {
      return fs.lstatSync(file).isFile() && sha256FileSync(file) === sha256;
    } catch {
      return false;
    }
  });
}

function readSmallRegularFile(file: string): string | undefined {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > MAX_MARKER_BYTES) return undefined;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The previous lock records this output (and, when verifying, every recorded file still matches). */
function ownedByLock(ctx: OutputContext): boolean {
  if (!ctx.lockFile) return false;
  const text = readSmallRegularFile(ctx.lockFile);
  if (text === undefined) return false;
  let lock: { output?: { path?: unknown; files?: unknown } };
  try {
    lock = JSON.parse(text) as typeof lock; // every field is checked below before use
  } catch {
    return false;
  }
  const recorded = lock?.output?.path;
  const files = lock?.output?.files;
  if (typeof recorded !== 'string' || !Array.isArray(files) || files.length === 0) return false;
  if (realLocation(path.resolve(path.dirname(ctx.lockFile), recorded)) !== realLocation(ctx.output)) return false;
  // the editor checks the recorded path only; compose, before replacing, the folder's every file
  return !ctx.verifyHashes || holdsExactly(ctx.output, files, true);
}
