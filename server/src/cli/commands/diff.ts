/**
 * `adapter-composer diff`: what changed between two compositions — two lock files, or a recipe's lock
 * against the same lock at a git revision — as text, Markdown for a pull-request comment, or JSON.
 */
import * as path from 'node:path';
import { ComposerError } from '../../engine/errors';
import { reviewAgainstRevision, reviewLockFiles } from '../../engine/review';
import { formatOption, stringOption, toJson, type Command } from '../command';
import { diffJson, diffMarkdown, diffText } from '../diffReport';
import { displayPath } from '../recipeFiles';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two compositions: weights old → new, added/removed adapters, changed fields',
  help: `Usage: adapter-composer diff <old.compose.lock> <new.compose.lock> [options]
       adapter-composer diff <recipe | lock> --against <git revision> [options]

Compares two locks: adapters added and removed, every weight old → new with Δ (sorted by |Δ|, then
name), every other recorded field that changed (strategy, parameters such as lambda and k, merge,
hashes of candidates, encoder, target and output files), and the evaluator's metrics old → new when
the run history recorded them for those exact locks. With --against, the old side is the recipe's
lock at that revision (\`git show <rev>:<lock>\`), the new side the lock in the working tree.

Options:
  --against REV       a branch, tag or commit (e.g. main, HEAD~1)
  --format F          text (default) | markdown (a pull-request comment) | json
  --json              same as --format json: {old, new, weights: [{adapter, old, new, delta}],
                      added, removed, changed: [{field, old, new}], metrics: [{metric, old, new}], same}
  --exit-code         exit 1 when the locks differ, 0 when they are the same (as git diff --exit-code)
  --workspace DIR     the workspace whose run history holds the metrics (default: the current folder)
  --debug             show stack traces of internal errors
  -h, --help          this help`,
  options: { against: { type: 'string' }, format: { type: 'string' }, workspace: { type: 'string' }, 'exit-code': { type: 'boolean' } },
  async run(args, io) {
    const format = formatOption(args, ['text', 'markdown', 'json']);
    const against = stringOption(args, 'against');
    const workspaceRoot = path.resolve(io.cwd, stringOption(args, 'workspace') ?? '.');
    const given = args.positionals.map((p) => path.resolve(io.cwd, p));
    const usage = 'give two lock files, or one recipe and --against <revision>; see `adapter-composer diff --help`';
    if (against !== undefined ? given.length !== 1 : given.length !== 2) throw new ComposerError('usage', `expected ${against !== undefined ? 'one recipe or lock with --against' : 'two lock files'}, got ${given.length} argument${given.length === 1 ? '' : 's'}`, undefined, usage);
    const review = against !== undefined
      ? await reviewAgainstRevision(given[0], against, { workspaceRoot })
      : await reviewLockFiles(given[0], given[1], { workspaceRoot });
    const shown = (file: string) => displayPath(file, io.cwd).split(path.sep).join('/');
    const labels = {
      old: review.old.revision !== undefined ? `${review.old.revision}:${review.old.gitPath ?? shown(review.old.file)}` : shown(review.old.file),
      new: shown(review.new.file),
    };
    if (review.historyNote) io.err(`note: ${review.historyNote}`);
    io.out(format === 'json' ? toJson(diffJson(review.diff, labels)) : format === 'markdown' ? diffMarkdown(review.diff, labels) : diffText(review.diff, labels));
    return args.values['exit-code'] && !review.diff.same ? 1 : 0;
  },
};
