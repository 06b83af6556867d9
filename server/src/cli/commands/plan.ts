import * as fs from 'node:fs';
import * as path from 'node:path';
import { predictTruncation } from '../../engine/lora/truncationPrediction';
import { ComposerError } from '../../engine/errors';
import { createPlanner } from '../../engine/planner';
import { formatProblem, hasErrors, problemHint } from '../../engine/recipe/problem';
import { workspaceHelp, workspaceOptionsOf, WORKSPACE_OPTIONS } from '../workspaceOptions';
import { STRATEGIES, type Strategy } from '../../engine/types';
import { formatOption, requirePositional, stringOption, toJson, type Command } from '../command';
import { planMarkdown, planTable } from '../planReport';
import { displayPath } from '../recipeFiles';
import { readTextSafe } from '../../engine/safeRead';

export const planCommand: Command = {
  name: 'plan',
  summary: 'retrieve candidates and compute the weights of every strategy',
  help: `Usage: adapter-composer plan <recipe> [options]

Computes the target prototype, retrieves the k nearest adapters and solves every weighting strategy
(avg, sim, lin, sparse, convex, nearest, and manual when given). Reads no adapter tensors.

Options:
  --json               the plan as one JSON object (recipe, target, candidates, candidate_distances,
                       strategies, strategy, lambda_path, merge, lambda_paths, library, provider,
                       warnings)
  --format F           table (default) | markdown (for a pull-request comment) | json
  --strategy S         override the recipe's strategy (${STRATEGIES.join(' | ')})
  --provider P         encoder execution provider: auto | cpu | cuda | tensorrt | webgpu (default auto)
${workspaceHelp(23)}
  --debug              show stack traces of internal errors
  -h, --help           this help`,
  options: { format: { type: 'string' }, strategy: { type: 'string' }, provider: { type: 'string' }, ...WORKSPACE_OPTIONS },
  async run(args, io) {
    const file = path.resolve(io.cwd, requirePositional(args, 0, 'the recipe file', 'plan'));
    if (!fs.existsSync(file)) throw new ComposerError('io', `no such file: ${file}`, { file });
    const format = formatOption(args, ['table', 'markdown', 'json']);
    const override = stringOption(args, 'strategy');
    if (override !== undefined && !(STRATEGIES as readonly string[]).includes(override)) {
      throw new ComposerError('usage', `unknown strategy '${override}' (${STRATEGIES.join(', ')})`);
    }
    const planner = createPlanner();
    try {
      const shown = displayPath(file, io.cwd);
      const outcome = await planner.plan(readTextSafe(file, 'recipe', 'recipe'), file, {
        // the workspace compose would use (check = plan = compose)
        ...workspaceOptionsOf(args, io, file),
        provider: stringOption(args, 'provider'),
      });
      if (!outcome.isRecipe) throw new ComposerError('recipe', 'not an Adapter Composer recipe (no `compose:` key)', { file: shown });
      for (const p of outcome.problems) if (p.severity === 'error' || p.severity === 'warning') io.err(formatProblem(p, shown));
      if (!outcome.plan || hasErrors(outcome.problems)) return 1;
      const plan = { ...outcome.plan, recipe: shown };
      if (override) plan.strategy = override as Strategy;
      plan.warnings = outcome.problems.filter((p) => p.severity === 'warning').map((p) => (problemHint(p) ? `${p.message} (hint: ${problemHint(p)})` : p.message));
      // A truncating svd merge: what it would lose, from the factors, before anything is composed.
      if (plan.merge && plan.merge.method === 'svd' && !plan.merge.exact && plan.merge.rank !== undefined) {
        const weights = plan.strategies[plan.strategy]?.weights ?? {};
        const byName = new Map(outcome.candidates!.map((c) => [c.name, c]));
        const inputs = Object.entries(weights).filter(([, w]) => w !== 0).map(([name, weight]) => ({ name, path: byName.get(name)!.path, weight }));
        const predicted = await predictTruncation(inputs, plan.merge.rank);
        plan.merge = {
          ...plan.merge,
          exact: predicted.truncatedModules === 0,
          predicted: { energy_kept: predicted.energyKept, relative_error: predicted.relativeError, truncated_modules: predicted.truncatedModules, modules: predicted.modules },
        };
      }
      io.out(format === 'json' ? toJson(plan) : format === 'markdown' ? planMarkdown(plan) : planTable(plan));
      return 0;
    } finally {
      await planner.dispose();
    }
  },
};
