/**
 * Reading the two sides of a review: two lock files, or a recipe's lock now against the same lock at
 * a git revision, plus the evaluator metrics the run history recorded for each lock (matched by the
 * sha256 of the lock's bytes, which every compose records). `diff` and the editor's "Compare with
 * HEAD" both come through here; the comparison itself is `diffLocks`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from './errors';
import { readAtRevision } from './gitRevision';
import { readRecipeHistory, type HistoryConfinement } from './history/runHistory';
import { parseLockText, type LockFile } from './lock';
import { diffLocks, type LockDiff } from './lockDiff';
import { sha256Bytes } from './prototype/contentHash';
import { lockPathFor } from './recipe/paths';
import { readTextSafe } from './safeRead';

export interface LockSide {
  lock: LockFile;
  /** sha256 of the lock's bytes (what the run history records). */
  sha256: string;
  /** Absolute path of the lock in the working tree (the file itself, or where it is at `revision`). */
  file: string;
  revision?: string;
  /** At a revision: the lock's path in the repository (git's `<revision>:<gitPath>`). */
  gitPath?: string;
}

export interface Review {
  old: LockSide;
  new: LockSide;
  diff: LockDiff;
  /** The recipe whose run history gave the metrics, when there is one. */
  recipe?: string;
  /** Why there are no metrics when the history could not be read (never fatal). */
  historyNote?: string;
}

export function isLockFile(file: string): boolean {
  return file.endsWith('.compose.lock');
}

function readLockSide(file: string): LockSide {
  if (!fs.existsSync(file)) throw new ComposerError('io', `no lock file ${file}`, { file }, 'compose the recipe first (adapter-composer compose <recipe>), or name an existing lock');
  // regular files only, at most the lock cap: a FIFO or a link to /dev/zero is refused, never read
  const text = readTextSafe(file, 'lock', 'lock file');
  return { lock: parseLockText(text, file), sha256: sha256Bytes(text), file };
}

/** The lock of a recipe (or a lock file given as is). */
export function lockFileOf(recipeOrLock: string): string {
  return isLockFile(recipeOrLock) ? path.resolve(recipeOrLock) : lockPathFor(path.resolve(recipeOrLock));
}

/** Metrics of the newest recorded run that wrote exactly this lock. */
async function metricsOf(recipe: string, sides: LockSide[], options: ReviewOptions): Promise<Record<string, number>[]> {
  const runs = await readRecipeHistory(recipe, options);
  return sides.map((side) => {
    const matching = runs.filter((r) => r.lock_sha256 === side.sha256 && Object.keys(r.metrics).length > 0);
    return matching.length ? matching[matching.length - 1].metrics : {};
  });
}

/** workspaceRoot: where a remote library's history lives; confine: the editor's (see readRecipeHistory). */
export interface ReviewOptions {
  workspaceRoot?: string;
  confine?: HistoryConfinement;
}

async function review(old: LockSide, now: LockSide, recipe: string | undefined, options: ReviewOptions): Promise<Review> {
  let metrics: Record<string, number>[] = [{}, {}];
  let historyNote: string | undefined;
  if (recipe && fs.existsSync(recipe)) {
    try {
      metrics = await metricsOf(recipe, [old, now], options);
    } catch (e) {
      historyNote = `no metrics: ${(e as Error).message}`;
    }
  }
  return { old, new: now, diff: diffLocks(old.lock, now.lock, { old: metrics[0], new: metrics[1] }), recipe, historyNote };
}

/** Two lock files; metrics from the history of the new lock's recipe. */
export async function reviewLockFiles(oldFile: string, newFile: string, options: ReviewOptions = {}): Promise<Review> {
  const old = readLockSide(path.resolve(oldFile));
  const now = readLockSide(path.resolve(newFile));
  const recipe = path.resolve(path.dirname(now.file), now.lock.recipe.path);
  return review(old, now, recipe, options);
}

/** A recipe's lock (or a lock) in the working tree against the same file at a git revision. */
export async function reviewAgainstRevision(recipeOrLock: string, revision: string, options: ReviewOptions = {}): Promise<Review> {
  const file = lockFileOf(recipeOrLock);
  const now = readLockSide(file);
  const { text, gitPath } = await readAtRevision(file, revision);
  const old: LockSide = { lock: parseLockText(text, `${revision}:${gitPath}`), sha256: sha256Bytes(text), file, revision, gitPath };
  const recipe = isLockFile(recipeOrLock) ? path.resolve(path.dirname(file), now.lock.recipe.path) : path.resolve(recipeOrLock);
  return review(old, now, recipe, options);
}
