/**
 * "Compare with HEAD": a recipe's lock in the working tree against the same lock at a git revision,
 * as the CompareResult the weights panel draws (the engine's review + diffLocks; labels relative to
 * the workspace). No transport here: lsp/commands.ts answers the request with it.
 */
import * as path from 'node:path';
import { reviewAgainstRevision } from '../engine/review';
import type { HistoryConfinement } from '../engine/history/runHistory';
import type { CompareResult } from '../protocol';

function label(file: string, root: string | undefined): string {
  const rel = root ? path.relative(root, file) : path.basename(file);
  return (rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file).split(path.sep).join('/');
}

/** `confine`: the workspace and read roots the recipe's run history (the metrics) may be read from. */
export async function compareWithRevision(recipeFile: string, revision: string, workspaceRoot: string | undefined, confine: HistoryConfinement): Promise<CompareResult> {
  const review = await reviewAgainstRevision(recipeFile, revision, { workspaceRoot, confine });
  return {
    old: `${revision}:${label(review.old.file, workspaceRoot)}`,
    new: label(review.new.file, workspaceRoot),
    ...review.diff,
  };
}
