/**
 * A recipe may come from someone else (a pull request, a cloned repository): the folders it writes
 * to and reads from must stay inside the workspace unless the user allows otherwise. Paths are
 * compared after resolving symlinks (fs.realpathSync of the deepest part that exists), so a
 * symlink inside the workspace that points outside counts as outside. URIs (s3://…) are not folders
 * of this machine and are not confined.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import { parseDocument } from 'yaml';
import type { Recipe } from './parse';
import type { RecipePaths } from './paths';
import { isUri } from './paths';
import type { RecipePath } from './problem';
import { ComposerError } from '../errors';
import { readTextSafe } from '../safeRead';

/** The real path of `location`: symlinks resolved in the part that exists, the rest appended. */
export function realLocation(location: string): string {
  let existing = path.resolve(location);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(location);
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** True when `location` (real path) lies outside `workspaceRoot` (real path). */
export function isOutsideWorkspace(location: string, workspaceRoot: string): boolean {
  const rel = path.relative(realLocation(workspaceRoot), realLocation(location));
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

/**
 * The CLI's workspace when none is given: the current folder when the recipe lies inside it; else
 * the nearest folder above the recipe holding .git or .vscode; else the folder above the recipe's
 * (a project's recipes/ folder next to its library/ and out/), never the file-system root or home.
 */
export function defaultWorkspaceRoot(recipeFile: string, cwd: string, home = process.env.HOME): string {
  const recipe = realLocation(recipeFile);
  if (!isOutsideWorkspace(recipe, cwd)) return path.resolve(cwd);
  const recipeDir = path.dirname(recipe);
  for (let dir = recipeDir; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git')) || fs.existsSync(path.join(dir, '.vscode'))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  const above = path.dirname(recipeDir);
  const tooWide = above === path.parse(above).root || (home !== undefined && path.resolve(home) === above);
  return tooWide ? recipeDir : above;
}

/** Where a recipe's paths may lead: the options of every command that reads a recipe (plan, check, compose, eval). */
export interface ConfinementOptions {
  /** The workspace: output, library, target, samples and the adapters they name must resolve inside it (symlinks followed). */
  workspaceRoot?: string;
  /** Trust every path outside the workspace (CLI --allow-outside-workspace): no escape errors. */
  allowOutsideWorkspace?: boolean;
  /** Folders outside the workspace the recipe may read, never write (CLI --read-root, the adapterCompose.readRoots setting). */
  readRoots?: readonly string[];
}

interface Escape {
  path: RecipePath;
  what: string;
  written: string;
  real: string;
}

/**
 * Refuses (ComposerError located at the recipe key) an output, library, target file or sample file
 * that resolves outside `workspaceRoot`. Sample globs are expanded so that a symlinked sample is
 * caught too.
 */
export async function requireInsideWorkspace(recipe: Recipe, paths: RecipePaths, workspaceRoot: string, readRoots: readonly string[] = []): Promise<void> {
  const first = (await workspaceEscapes(recipe, paths, workspaceRoot, readRoots))[0];
  if (!first) return;
  throw new ComposerError('recipe', first.message, recipe.locationOf(first.path), outsideHint(first.path));
}

/** For a read outside the workspace (library, target, samples, adapters, evaluator files). */
export const OUTSIDE_HINT = 'a recipe may only read inside its workspace: name a shared folder it may read with --read-root DIR (in the editor, the adapterCompose.readRoots setting), or pass --allow-outside-workspace (or choose --workspace DIR) if you trust it';

/** For a library's own paths (its rows' adapters, its encoder) outside the workspace, in the library commands. */
export const LIBRARY_OUTSIDE_HINT = 'a library\'s rows and encoder are read only inside the workspace: name a shared folder they may be read from with --read-root DIR, or pass --allow-outside-workspace (or choose --workspace DIR) if you trust the library';

/** For an output outside the workspace: read roots do not apply to writes. */
export const OUTPUT_OUTSIDE_HINT = 'a recipe may only write inside its workspace; pass --allow-outside-workspace (or choose --workspace DIR) if you trust it';

/** The hint for an escape at this recipe path. */
export function outsideHint(recipePath: RecipePath): string {
  return recipePath[0] === 'output' ? OUTPUT_OUTSIDE_HINT : OUTSIDE_HINT;
}

/**
 * True when a recipe may read `location`: inside the workspace, or inside one of `readRoots` — folders
 * outside it that the user (never the recipe) named for reading, such as a shared library or adapter
 * store (`--read-root DIR`, the `adapterCompose.readRoots` setting). Outputs never use read roots.
 */
export function isReadable(location: string, workspaceRoot: string, readRoots: readonly string[] = []): boolean {
  return !isOutsideWorkspace(location, workspaceRoot) || readRoots.some((r) => !isOutsideWorkspace(location, r));
}

/** "outside the workspace /ws" (and the read roots, when there are any), every path real. */
export function outsideWhat(workspaceRoot: string, readRoots: readonly string[]): string {
  const roots = readRoots.map((r) => realLocation(r));
  return `outside the workspace ${realLocation(workspaceRoot)}${roots.length ? ` and the read root${roots.length === 1 ? '' : 's'} ${roots.join(', ')}` : ''}`;
}

/**
 * The one decision about paths leaving the workspace (compose refuses them; check and the editor
 * report them as errors at the recipe key): output (the workspace only), library, target file, each
 * sample file (the workspace or a read root).
 */
export async function workspaceEscapes(recipe: Recipe, paths: RecipePaths, workspaceRoot: string, readRoots: readonly string[] = []): Promise<{ path: RecipePath; message: string }[]> {
  const escapes: (Escape & { write: boolean })[] = [];
  const check = (recipePath: RecipePath, what: string, written: string, location: string, write = false) => {
    if (isUri(location)) return false;
    const outside = write ? isOutsideWorkspace(location, workspaceRoot) : !isReadable(location, workspaceRoot, readRoots);
    if (outside) escapes.push({ path: recipePath, what, written, real: realLocation(location), write });
    return outside;
  };
  const spec = recipe.spec;
  check(['output'], 'output', String(spec.output), paths.output, true);
  if (!paths.libraryIsUri) check(['library'], 'library', String(spec.library), paths.library);
  const source = paths.target.source;
  if ((source === 'features' || source === 'prototype') && paths.target.file) {
    check(['target', source], `target ${source} file`, String(spec.target[source]), paths.target.file);
  }
  if (source === 'samples' && paths.target.globs) {
    const { files, linksOut } = await sampleFiles(paths.target.globs, { workspaceRoot, readRoots });
    // the first escaping sample (a file, or a link the walk did not follow) in path order is named
    const found = [...files.map((f) => ({ at: f, what: 'sample file' })), ...linksOut.map((l) => ({ at: l.link, what: isFolder(l.real) ? 'samples folder' : 'sample file' }))];
    for (const f of found.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) if (check(['target', 'samples'], f.what, f.at, f.at)) break;
  }
  return escapes.map((e) => ({ path: e.path, message: `${e.what} \`${e.written}\` resolves to ${e.real}, ${outsideWhat(workspaceRoot, e.write ? [] : readRoots)}` }));
}

function isFolder(location: string): boolean {
  try {
    return fs.statSync(location).isDirectory();
  } catch {
    return false;
  }
}

/** Characters that make a path segment a pattern (tinyglobby's picomatch syntax). */
const GLOB_MAGIC = /[*?[\]{}()!+@]/;

/**
 * The files a recipe's sample globs match (absolute, sorted), found without walking out of the
 * workspace and the read roots (confinedGlob). A link to `/` in a data folder used to make every plan
 * walk the whole disk before the files it found were refused. Without a workspace, or with
 * `allowOutsideWorkspace`, links are followed as tinyglobby does. `signal` stops the walk.
 */
export async function sampleFiles(globs: readonly string[], confinement: ConfinementOptions, signal?: AbortSignal): Promise<GlobResult> {
  const { workspaceRoot, readRoots = [] } = confinement;
  if (!workspaceRoot || confinement.allowOutsideWorkspace) {
    return { files: (await glob([...globs], { absolute: true, onlyFiles: true, expandDirectories: false, signal })).sort(), linksOut: [] };
  }
  return confinedGlob(globs, (real) => isReadable(real, workspaceRoot, readRoots), { signal });
}

export interface GlobResult {
  files: string[];
  /** Links met on the walk (or a recursive glob's fixed part) that lead where `allowed` says no: not followed. */
  linksOut: { link: string; real: string }[];
}

/**
 * Files matching `patterns` (absolute, sorted) without following a link out of what `allowed` accepts
 * (given a real path and the real path of the pattern's fixed part): a link (to a folder or a file) met below a pattern's fixed part that resolves
 * elsewhere is not followed but listed in `linksOut`, and a recursive glob (`**`) whose fixed part
 * already resolves elsewhere is not walked at all (its folder is listed); a plain glob's fixed part (one
 * folder read per segment) is followed, and the files it lists are the caller's to check.
 */
export async function confinedGlob(patterns: readonly string[], allowed: (real: string, base: string) => boolean, options: { cwd?: string; ignore?: string[]; signal?: AbortSignal } = {}): Promise<GlobResult> {
  const linksOut: { link: string; real: string }[] = [];
  const walked: string[] = [];
  const bases: string[] = [];
  const realBases: string[] = [];
  const cwd = options.cwd ?? process.cwd();
  for (const pattern of patterns) {
    const segments = pattern.split(/[\\/]/);
    const magic = segments.findIndex((x) => GLOB_MAGIC.test(x));
    const fixed = path.resolve(cwd, (magic < 0 ? segments : segments.slice(0, magic)).join('/') || path.parse(pattern).root || '.');
    const realFixed = realLocation(fixed);
    if (magic >= 0 && segments.includes('**') && fs.existsSync(fixed) && !allowed(realFixed, fixed)) {
      linksOut.push({ link: fixed, real: realFixed });
      continue;
    }
    walked.push(pattern);
    bases.push(fixed);
    realBases.push(realFixed);
  }
  // fdir resolves each link it meets through fs.realpath (tinyglobby crawls from a common root and
  // prunes by pattern, so only links strictly below a pattern's fixed part count): one that leads
  // elsewhere answers an error, which fdir skips (suppressErrors), and is remembered
  const baseOf = (link: string) => bases.findIndex((b) => link !== b && link.startsWith(b.endsWith(path.sep) ? b : `${b}${path.sep}`));
  const confinedFs = {
    realpath: (link: string, callback: (error: NodeJS.ErrnoException | null, resolved?: string) => void) => {
      fs.realpath(link, (error, resolved) => {
        if (error) return callback(error);
        const base = baseOf(path.resolve(cwd, link));
        if (base < 0 || allowed(resolved, realBases[base])) return callback(null, resolved);
        linksOut.push({ link: path.resolve(cwd, link), real: resolved });
        callback(Object.assign(new Error(`${link} leads outside`), { code: 'EACCES' }));
      });
    },
  };
  const files = walked.length > 0 ? await glob(walked, { cwd, absolute: true, onlyFiles: true, expandDirectories: false, ignore: options.ignore, signal: options.signal, fs: confinedFs as never }) : [];
  const byPath = (a: { link: string }, b: { link: string }) => (a.link < b.link ? -1 : a.link > b.link ? 1 : 0);
  return { files: files.sort(), linksOut: linksOut.sort(byPath) };
}

/**
 * The adapters a recipe would read, as its library's rows name them: they too must lie inside the
 * workspace or a read root (a committed or shared library can name `/elsewhere/adapter` or `../../…`,
 * and a symlink in the workspace can point out of it). URIs (s3://…) are not confined.
 */
export function adapterEscapes(adapters: readonly { name: string; path: string }[], workspaceRoot: string, readRoots: readonly string[] = []): { name: string; message: string }[] {
  return adapters
    .filter((a) => !isUri(a.path) && !isReadable(a.path, workspaceRoot, readRoots))
    .map((a) => ({ name: a.name, message: `adapter \`${a.name}\` is read from ${realLocation(a.path)} (its library row names ${a.path}), ${outsideWhat(workspaceRoot, readRoots)}` }));
}

/**
 * The encoder files a plan reads for a local library: the encoder its meta row names, the
 * encoder.json beside it, and the tokenizer (with its tokenizer_config.json) that config names. A
 * committed library can name any encoder and its encoder.json any tokenizer (`/home/…/x.json`,
 * `../../…`), and a symlink in the library can point out: each must lie in the workspace (or a read
 * root, as the library may), checked
 * before anything opens (or hashes) it. The config is read (bounded, regular files only) to find the
 * tokenizer, parsed as the encoder reads it (YAML, of which JSON is a subset); a config that cannot be
 * read or parsed is left to the encoder's own located error.
 */
export function encoderEscapes(encoderFile: string, workspaceRoot: string, readRoots: readonly string[] = []): string[] {
  const out: string[] = [];
  const check = (what: string, file: string) => {
    if (!isReadable(file, workspaceRoot, readRoots)) out.push(`${what} resolves to ${realLocation(file)}, ${outsideWhat(workspaceRoot, readRoots)}`);
  };
  check(`the library's encoder \`${encoderFile}\``, encoderFile);
  const configFile = path.join(path.dirname(path.resolve(encoderFile)), 'encoder.json');
  if (out.length > 0 || !fs.existsSync(configFile)) return out;
  check(`the encoder config \`${configFile}\``, configFile);
  if (out.length > 0) return out;
  let raw: unknown;
  try {
    const doc = parseDocument(readTextSafe(configFile, 'config', 'the encoder config'), { prettyErrors: false });
    if (doc.errors.length > 0) return out;
    raw = doc.toJS();
  } catch {
    return out;
  }
  const text = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).text : undefined;
  if (text === null || typeof text !== 'object') return out;
  const named = (text as Record<string, unknown>).tokenizer;
  const tokenizer = path.resolve(path.dirname(configFile), typeof named === 'string' && named !== '' ? named : 'tokenizer.json');
  check(`the tokenizer \`${typeof named === 'string' && named !== '' ? named : 'tokenizer.json'}\` that ${configFile} names`, tokenizer);
  const tokenizerConfig = path.join(path.dirname(tokenizer), 'tokenizer_config.json');
  if (out.length === 0 && fs.existsSync(tokenizerConfig)) check(`the tokenizer config \`${tokenizerConfig}\``, tokenizerConfig);
  return out;
}
