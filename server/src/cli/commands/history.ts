import * as fs from 'node:fs';
import * as path from 'node:path';
import { oneLine } from '../../engine/recipe/problem';
import { ComposerError } from '../../engine/errors';
import { readHistory, readRecipeHistory } from '../../engine/history/runHistory';
import { isUri } from '../../engine/recipe/paths';
import { resolveLocation } from '../../engine/location';
import type { RunHistoryEntry } from '../../engine/types';
import { numberOption, requirePositional, stringOption, toJson, type Command } from '../command';
import { formatNumber, formatWeight } from '../planReport';

export const historyCommand: Command = {
  name: 'history',
  summary: 'list the recorded compose runs (weights, metrics) of a recipe or a library',
  help: `Usage: adapter-composer history <recipe | library | workspace> [options]

Every compose records one run — recipe and lock hashes, strategy and parameters, weights, and the
metrics of the recipe's evaluator when it ran — in the LanceDB table \`runs\` of the recipe's library
(or, for a remote or read-only library, in <workspace>/.adapter-composer/history).

Options:
  --limit N           the newest N runs
  --workspace DIR     the workspace of a remote/read-only library's history (default: the current folder)
  --json              the runs as a JSON array (RunHistoryEntry[])
  -h, --help          this help`,
  options: { limit: { type: 'string' }, workspace: { type: 'string' } },
  async run(args, io) {
    const given = requirePositional(args, 0, 'a recipe, a library or a workspace folder', 'history');
    const limit = numberOption(args, 'limit');
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new ComposerError('usage', `--limit expects a positive integer, got ${limit}`);
    const workspaceRoot = path.resolve(io.cwd, stringOption(args, 'workspace') ?? '.');
    const target = resolveLocation(given, io.cwd);
    if (!isUri(given) && !fs.existsSync(target)) throw new ComposerError('io', `no such file or folder: ${given}`, { file: given });
    const runs = !isUri(given) && fs.statSync(target).isFile()
      ? await readRecipeHistory(target, { workspaceRoot, limit })
      : await readHistory(target, { workspaceRoot, limit });
    if (args.values.json) {
      io.out(toJson(runs));
      return 0;
    }
    if (runs.length === 0) {
      io.out(`no runs recorded for ${given}`);
      return 0;
    }
    for (const run of runs) io.out(runLine(run));
    return 0;
  },
};

/**
 * Two lines per run. Every field comes from the `runs` table, which is committed with a library (a
 * pull request's rows): each line goes through oneLine, so a row cannot start a line of its own (a
 * `::error::` workflow command) nor write ESC sequences (a clipboard write, a cursor move) or bidi
 * overrides to the terminal.
 */
function runLine(run: RunHistoryEntry): string {
  return runLines(run).map(oneLine).join('\n    ');
}

function runLines(run: RunHistoryEntry): [string, string] {
  const weights = Object.entries(run.weights).filter(([, w]) => w !== 0).map(([n, w]) => `${n} ${formatWeight(w)}`).join(', ');
  const metrics = Object.entries(run.metrics).map(([n, v]) => `${n}=${formatNumber(v)}`).join(' ');
  const evaluation = run.evaluation && run.evaluation.status !== 'ok' ? ` [evaluator ${run.evaluation.status}]` : '';
  return [`${run.time}  ${run.recipe}  ${run.strategy}${run.parameters.rho !== undefined ? ` ρ=${formatNumber(run.parameters.rho as number)}` : ''}${run.parameters.lambda !== undefined ? ` λ=${formatNumber(run.parameters.lambda as number)}` : ''}  ${metrics || '(no metrics)'}${evaluation}`, weights];
}
