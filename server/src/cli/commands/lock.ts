/**
 * `adapter-composer lock show <file>`: a lock as a short readable summary. Also the git textconv for
 * `*.compose.lock`, so that `git diff` and `git log -p` of a lock read like a review (docs/review.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { oneLine } from '../../engine/recipe/problem';
import { ComposerError } from '../../engine/errors';
import { parseLockText, stableJson } from '../../engine/lock';
import { readTextSafe } from '../../engine/safeRead';
import { requirePositional, type Command } from '../command';
import { lockSummary } from '../diffReport';

export const lockCommand: Command = {
  name: 'lock',
  summary: 'show a lock file as a short readable summary (also a git textconv)',
  help: `Usage: adapter-composer lock show <file.compose.lock> [--json]

Prints the recipe, strategy and parameters, merge, library, encoder and target, the adapters with
their weights (largest first) and shortened sha256, and the output files — one fact per line.

As a git textconv, so that \`git diff\` of a lock shows these lines:
  echo '*.compose.lock diff=compose-lock' >> .gitattributes
  git config diff.compose-lock.textconv "adapter-composer lock show"

A file that is not a readable lock (e.g. with merge-conflict markers) is printed as it is after a
line saying why, and the exit code is still 0, so \`git diff\` keeps working.

Options:
  --json              the parsed lock, as stable JSON
  -h, --help          this help`,
  options: {},
  async run(args, io) {
    const sub = requirePositional(args, 0, 'a subcommand (show)', 'lock');
    if (sub !== 'show') throw new ComposerError('usage', `unknown subcommand 'lock ${sub}'`, undefined, 'see `adapter-composer lock --help`');
    const given = requirePositional(args, 1, 'the lock file', 'lock');
    const file = path.resolve(io.cwd, given);
    if (!fs.existsSync(file)) throw new ComposerError('io', `cannot read ${given}: no such file`, { file: given });
    // regular files only, at most the lock cap: a FIFO or a link to /dev/zero is refused, never read
    const text = readTextSafe(file, 'lock', 'lock file');
    let lock;
    try {
      lock = parseLockText(text, given);
    } catch (e) {
      if (args.values.json) throw e;
      io.out(`# not a readable lock (${(e as Error).message}); shown as it is:`);
      // line by line with visible escapes: a pull request's lock that does not parse must not write
      // ESC sequences (a clipboard write, a cursor move) or bidi overrides to the reviewer's terminal
      io.out(text.replace(/\r?\n$/, '').split(/\r?\n/).map(oneLine).join('\n'));
      return 0;
    }
    io.out(args.values.json ? stableJson(lock).trimEnd() : lockSummary(lock));
    return 0;
  },
};
