import { createPlanner } from '../../engine/planner';
import { formatProblem } from '../../engine/recipe/problem';
import { formatOption, stringOption, toJson, type Command } from '../command';
import { githubCommands, sarifLog } from '../checkReport';
import { displayPath, expandRecipeArgs, skippedLinkWarning } from '../recipeFiles';
import { readTextSafe } from '../../engine/safeRead';
import { workspaceHelp, workspaceOptionsOf, WORKSPACE_OPTIONS } from '../workspaceOptions';
import { version } from '../version';

const INFORMATION_URI = 'https://example.invalid/adapter-composer';

export const checkCommand: Command = {
  name: 'check',
  summary: 'validate recipes against the schema and their library',
  help: `Usage: adapter-composer check <recipe|folder|glob>... [options]

Validates each recipe: YAML, schema, and semantics against its library (adapters, base model,
encoder, sample files, lock file). Prints \`file:line:col: severity: message\`; exits 1 on any error.
A *.compose.yaml without a \`compose:\` key (e.g. Docker Compose) is skipped with a note.

Options:
  --json              one JSON object: {files: [{file, recipe, problems: [...]}], errors, warnings}
  --format F          text (default) | json | github (GitHub Actions annotations: ::error file=…,line=…::…)
                      | sarif (SARIF 2.1.0 for code scanning; rule ids are the problem codes)
${workspaceHelp(22)}
  --provider P        encoder execution provider: auto | cpu | cuda | tensorrt | webgpu (default auto)
  --debug             show stack traces of internal errors
  -h, --help          this help`,
  options: { provider: { type: 'string' }, format: { type: 'string' }, ...WORKSPACE_OPTIONS },
  async run(args, io) {
    if (args.positionals.length === 0) args.positionals.push('.');
    const format = formatOption(args, ['text', 'json', 'github', 'sarif']);
    const files = await expandRecipeArgs(args.positionals, io.cwd, skippedLinkWarning(io));
    const checked = [];
    const planner = createPlanner();
    const results = [];
    let errors = 0;
    let warnings = 0;
    try {
      for (const file of files) {
        const text = readTextSafe(file, 'recipe', 'recipe');
        // the workspace compose would use, so check and compose give the same verdicts
        const outcome = await planner.plan(text, file, { ...workspaceOptionsOf(args, io, file), provider: stringOption(args, 'provider') });
        const shown = displayPath(file, io.cwd);
        for (const p of outcome.problems) {
          if (p.severity === 'error') errors++;
          if (p.severity === 'warning') warnings++;
          if (format === 'text') io.out(formatProblem(p, shown));
        }
        checked.push({ file, problems: outcome.problems });
        results.push({ file: shown, recipe: outcome.isRecipe, problems: outcome.problems });
      }
    } finally {
      await planner.dispose();
    }
    if (format === 'json') io.out(toJson({ files: results, errors, warnings }));
    else if (format === 'sarif') io.out(toJson(sarifLog(checked, { cwd: io.cwd, version, informationUri: INFORMATION_URI })));
    else if (format === 'github') {
      for (const line of githubCommands(checked, io.cwd)) io.out(line);
    }
    if (format !== 'json' && format !== 'sarif') io.err(`${files.length} recipe file${files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
    return errors > 0 ? 1 : 0;
  },
};
