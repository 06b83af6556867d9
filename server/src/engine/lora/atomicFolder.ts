/**
 * Writing a folder atomically: build it under a temporary name next to the target, then rename it
 * into place (an existing target is swapped out by rename and removed only after the swap), so a
 * failure or crash at any point leaves the previous output untouched. Between compose's checks and
 * the renames, a local writer can swap the output, or a folder above it, for a symbolic link: the
 * staging folder is created only where the output's folder really is inside `within` (the
 * workspace), and publish renames (or discard removes) only while that folder and the staging folder
 * are still the ones created — a link at the output itself is renamed away, never followed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError, ioError } from '../errors';
import { processAlive } from '../singleWriter';
import { hasCompositionMarker, somethingAt } from '../outputGuard';
import { isOutsideWorkspace, realLocation } from '../recipe/workspaceConfinement';

/** Each staging folder's identity when created: its real parent folder, device and inode. */
const created = new Map<string, { parent: string; dev: number; ino: number; within?: string }>();

/**
 * A staging folder next to `target`. An existing `target` must be a folder compose wrote itself (its
 * composition.json, see outputGuard.ts) or empty, unless the caller has already decided that it may be
 * replaced (`checked`: compose, after the recipe-level output checks and --force).
 */
export function createStagingFolder(target: string, options: { checked?: boolean; /** The folder the output must really lie in (compose: the workspace). */ within?: string } = {}): string {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  if (options.within) requireWithin(target, options.within);
  fs.mkdirSync(parent, { recursive: true });
  recoverInterruptedPublish(resolved);
  if (fs.existsSync(resolved)) {
    const stat = fs.statSync(resolved);
    if (!stat.isDirectory()) throw new ComposerError('io', `output ${target} exists and is not a folder`, { file: target });
    const entries = fs.readdirSync(resolved);
    if (!options.checked && entries.length > 0 && !hasCompositionMarker(resolved)) {
      throw new ComposerError('io', `refusing to replace ${target}: it exists and was not written by compose (no composition.json of adapter-composer)`, { file: target }, 'choose a new output folder, or remove it yourself');
    }
  }
  const staging = path.join(parent, `.${path.basename(resolved)}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(staging);
  const st = fs.lstatSync(staging);
  created.set(staging, { parent: fs.realpathSync.native(parent), dev: st.dev, ino: st.ino, within: options.within });
  return staging;
}

/**
 * Removes the staging folder — only while it is still the one created where it was created; when it
 * is not, returns the error that says so (a write into it failed because of that: the better reason).
 */
export function discardStagingFolder(staging: string, target?: string): ComposerError | undefined {
  const moved = stagingMoved(staging);
  created.delete(staging);
  if (moved) return changedWhileWriting(target ?? staging, moved); // what is there now is not ours: nothing is removed
  fs.rmSync(staging, { recursive: true, force: true });
  return undefined;
}

function changedWhileWriting(target: string, why: string): ComposerError {
  return new ComposerError('io', `the output ${target} changed while compose wrote it: ${why}; nothing was published`, { file: target }, 'compose again once nothing else writes that folder');
}

/** Why `staging` is not the folder createStagingFolder made, where it made it (undefined: it is). */
function stagingMoved(staging: string): string | undefined {
  const made = created.get(staging);
  if (!made) return undefined;
  const parent = realLocation(path.dirname(staging));
  if (parent !== made.parent) return `the folder ${path.dirname(staging)} now resolves to ${parent} (it was ${made.parent})`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(staging);
  } catch (e) {
    return `${staging} is gone (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  if (!st.isDirectory() || st.dev !== made.dev || st.ino !== made.ino) return `${staging} was replaced`;
  return undefined;
}

function requireWithin(target: string, within: string): void {
  if (isOutsideWorkspace(target, within)) {
    throw new ComposerError('io', `output ${target} now resolves to ${realLocation(target)}, outside the workspace ${realLocation(within)}: it, or a folder above it, was replaced by a symbolic link after compose checked it; nothing was written there`, { file: target }, 'make the output a folder of the workspace, then compose again');
  }
}

/** Moves the finished staging folder to `target`, replacing what was there by rename-swap. */
export function publishStagingFolder(staging: string, target: string): void {
  const resolved = path.resolve(target);
  const made = created.get(staging);
  const moved = stagingMoved(staging);
  if (moved) throw changedWhileWriting(target, moved);
  if (made?.within) requireWithin(target, made.within);
  created.delete(staging);
  let previous: string | undefined;
  if (somethingAt(resolved)) {
    previous = path.join(path.dirname(resolved), `.${path.basename(resolved)}.old-${process.pid}-${Date.now().toString(36)}`);
    fs.renameSync(resolved, previous);
  }
  try {
    fs.renameSync(staging, resolved);
  } catch (e) {
    if (previous) fs.renameSync(previous, resolved);
    throw ioError('cannot move the new adapter into', target, e);
  }
  if (previous) fs.rmSync(previous, { recursive: true, force: true });
  syncDirectory(path.dirname(resolved));
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not every platform can fsync a directory; the rename itself is still atomic
  }
}

/**
 * A publish killed between its two renames leaves the previous output as `.<name>.old-<pid>-…` and
 * nothing at the target: put the newest such folder back. Staging and old folders of dead
 * processes are removed. Called before every compose of the target (under its output lock).
 */
export function recoverInterruptedPublish(target: string): void {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  const prefix = `.${path.basename(resolved)}.`;
  let entries: string[];
  try {
    entries = fs.readdirSync(parent).filter((e) => e.startsWith(prefix));
  } catch {
    return;
  }
  // only this target's own leftovers: `.<name>.old-<pid>-<stamp>` / `.<name>.tmp-<pid>-<stamp>` exactly (the
  // leftovers of a sibling output `<name>.x` or a folder of the user's are never touched)
  const own = new RegExp(`^${escapeRegExp(prefix)}(old|tmp)-(\\d+)-[0-9a-z]+$`);
  const leftovers = entries
    .map((e) => ({ name: e, match: own.exec(e) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null && !processAlive(Number(e.match[2])));
  const olds = leftovers.filter((e) => e.match[1] === 'old').map((e) => path.join(parent, e.name));
  if (!fs.existsSync(resolved) && olds.length > 0) {
    const newest = olds.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    fs.renameSync(newest, resolved);
  }
  for (const e of leftovers) fs.rmSync(path.join(parent, e.name), { recursive: true, force: true });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const WRITE_ERRNO: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file grew beyond the allowed size (file-size limit)',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an I/O error',
  ENAMETOOLONG: 'a file name is longer than the file system allows',
};

/** A failed write (disk full, quota, read-only, …) as a located ComposerError; other errors unchanged. */
export function writeFailure(e: unknown, target: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !(code in WRITE_ERRNO)) return e;
  return new ComposerError('io', `cannot write ${target}: ${WRITE_ERRNO[code]} (${code}); nothing was replaced`, { file: target }, code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' ? 'free some space (or raise the limit) and compose again' : undefined);
}
