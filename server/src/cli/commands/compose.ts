import * as os from 'node:os';
import * as path from 'node:path';
import { compose } from '../../engine/compose';
import { ComposerError } from '../../engine/errors';
import { oneLine } from '../../engine/recipe/problem';
import { STRATEGIES, type Strategy } from '../../engine/types';
import { requirePositional, stringOption, toJson, type Command } from '../command';
import { displayPath } from '../recipeFiles';
import { workspaceHelp, workspaceOptionsOf, WORKSPACE_OPTIONS } from '../workspaceOptions';
import { version } from '../version';

export const composeCommand: Command = {
  name: 'compose',
  summary: 'plan, merge and write the composite adapter and its lock file',
  help: `Usage: adapter-composer compose <recipe> [options]

Plans the recipe (as \`plan\`), merges the selected strategy's adapters per module
(ΔW = Σ wᵢ·sᵢ·BᵢAᵢ; \`cat\` exactly, or \`svd\` truncated to the recipe's rank from the factors) and
writes the composite adapter (PEFT folder; kohya layout for kohya inputs) and
<recipe>.compose.lock next to the recipe. Both are written atomically: an interrupted compose
leaves the previous output and lock untouched (Ctrl-C, SIGTERM and SIGHUP cancel it and clean up).
An existing output is replaced only when compose wrote it (its composition.json, or the lock's
record of it).

Options:
  --locked          re-run from the lock: fail if the plan or the output differs from it, naming
                    each differing field with both values; the lock is read, never rewritten
  --strategy S      override the recipe's strategy (${STRATEGIES.join(' | ')})
  --provider P      encoder and merge execution provider: auto | cpu | cuda | tensorrt | webgpu (default auto)
  --allow-exec      run the recipe's \`evaluate\` command afterwards (argv, no shell, with its timeout);
                    its JSON metrics are kept in the run history. Without it such a recipe is refused.
  --skip-evaluate   compose a recipe that has an \`evaluate\` block without running it
${workspaceHelp(20)}
  --force           replace an existing non-empty output folder that compose did not write (never the
                    recipe's folder, the library, the workspace, a .git or an input adapter's folder)
  --json            {output, lock, weights, modules, rank, energy_kept: {min, mean}, …}
  --debug           show stack traces of internal errors
  -h, --help        this help`,
  options: { locked: { type: 'boolean' }, force: { type: 'boolean' }, 'allow-exec': { type: 'boolean' }, 'skip-evaluate': { type: 'boolean' }, strategy: { type: 'string' }, provider: { type: 'string' }, ...WORKSPACE_OPTIONS },
  async run(args, io) {
    const file = path.resolve(io.cwd, requirePositional(args, 0, 'the recipe file', 'compose'));
    const strategy = stringOption(args, 'strategy');
    if (strategy !== undefined && !(STRATEGIES as readonly string[]).includes(strategy)) {
      throw new ComposerError('usage', `unknown strategy '${strategy}' (${STRATEGIES.join(', ')})`);
    }
    // Ctrl-C, a CI job's cancel (SIGTERM) or a closed terminal (SIGHUP) cancels: staging folder and
    // output lock removed, the previous output and lock untouched. Another signal within 2 s (a double
    // Ctrl-C) lets that cleanup finish; one after it ends the process at once (a cancel that hangs). That
    // is safe at any point where a handler runs, since the engine publishes the output and writes the
    // lock in one synchronous step (the default action, killing the process anywhere, was not: between
    // the two it left the new output beside the previous lock, and a staging folder behind).
    const controller = new AbortController();
    let cancelledAt = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (!controller.signal.aborted) {
        cancelledAt = Date.now();
        controller.abort();
      } else if (Date.now() - cancelledAt > CANCEL_GRACE_MS) {
        process.exit(128 + (os.constants.signals[signal] ?? 0));
      }
    };
    for (const signal of CANCEL_SIGNALS) process.on(signal, onSignal);
    let lastLine = '';
    let lastQuarter = -1;
    try {
      const result = await compose(file, {
        locked: Boolean(args.values.locked),
        allowExec: Boolean(args.values['allow-exec']),
        skipEvaluate: Boolean(args.values['skip-evaluate']),
        strategy: strategy as Strategy | undefined,
        provider: stringOption(args, 'provider'),
        ...workspaceOptionsOf(args, io, file),
        force: Boolean(args.values.force),
        signal: controller.signal,
        toolVersion: version,
        onProgress: (p) => {
          const line = `${Math.round(p.fraction * 100)}% ${p.message}`;
          if (line === lastLine) return;
          lastLine = line;
          if (io.isTTY) {
            process.stderr.write(`\r${bar(p.fraction)} ${line}\x1b[K`);
            return;
          }
          // a pipe or a CI log: the start, one line per quarter reached, the end (five lines at most)
          const quarter = p.fraction >= 1 ? 4 : Math.floor(Math.max(0, p.fraction) * 4);
          if (quarter <= lastQuarter) return;
          lastQuarter = quarter;
          io.err(line);
        },
      });
      if (io.isTTY) process.stderr.write('\n');
      if (args.values.json) {
        io.out(toJson(result));
      } else {
        // adapter names come from the library's rows: escaped, so that none starts a line of the CI log
        const w = Object.entries(result.weights).filter(([, v]) => v !== 0).map(([n, v]) => `${oneLine(n)} ${v.toFixed(4)}`).join(', ');
        io.out(`composed ${displayPath(result.output, io.cwd)} (${result.method}, rank ${result.rank}, ${result.modules} modules, ${result.dtype}; energy kept min ${result.energy_kept.min.toFixed(4)} mean ${result.energy_kept.mean.toFixed(4)})`);
        io.out(`  weights (${result.strategy}): ${w}`);
        io.out(`  lock: ${displayPath(result.lock, io.cwd)}`);
        // warnings quote adapter names, bases and the adapters' own module and token names
        for (const warning of result.warnings) io.err(`warning: ${oneLine(warning)}`);
        if (result.evaluation?.status === 'ok') {
          const metrics = Object.entries(result.evaluation.metrics).map(([n, v]) => `${n}=${v}`).join(' ');
          io.out(`  evaluator: ${metrics || '(no numeric metrics)'} (${(result.evaluation.duration_ms / 1000).toFixed(1)} s)`);
        }
      }
      // The composite and lock stand; a failed evaluator still fails the command (CI should notice).
      if (result.evaluation && result.evaluation.status !== 'ok') {
        io.err(`error: the evaluator ${result.evaluation.status === 'timeout' ? 'timed out' : 'failed'}: ${result.evaluation.message ?? result.evaluation.status}`);
        io.err(`  the composite and the lock were written; the run is recorded without metrics`);
        return 1;
      }
      return 0;
    } finally {
      for (const signal of CANCEL_SIGNALS) process.removeListener(signal, onSignal);
    }
  },
};

const CANCEL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long after a cancelling signal further signals wait for the cleanup instead of ending the process. */
const CANCEL_GRACE_MS = 2000;

function bar(fraction: number): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * 24);
  return `[${'#'.repeat(n)}${'.'.repeat(24 - n)}]`;
}
