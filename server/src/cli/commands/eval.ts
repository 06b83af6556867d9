import { ComposerError } from '../../engine/errors';
import { evaluateLibrary } from '../../engine/eval/evaluateLibrary';
import { EVAL_STRATEGIES } from '../../engine/eval/leaveOneOut';
import { isUri } from '../../engine/recipe/paths';
import { resolveLocation } from '../../engine/location';
import { SPARSE_FORMS, type SparseForm, type Strategy } from '../../engine/types';
import { formatOption, listOption, numberOption, requirePositional, stringOption, toJson, type Command } from '../command';
import { evalMarkdown, evalText } from '../evalReport';
import { displayPath, expandRecipeArgs, skippedLinkWarning } from '../recipeFiles';
import { withLibrary } from '../../engine/library/library';
import { DEFAULT_RHO, squaredDistance } from '../../engine/weights';
import { formatNumber } from '../planReport';
import { mdText } from '../../engine/markdownText';
import { oneLine } from '../../engine/recipe/problem';
import { evaluateRecipes, type RecipeEvalResult } from '../../engine/eval/recipeLeaveOneOut';
import { recipeEvalDefaults } from '../../engine/eval/recipeEvaluation';
import { workspaceHelp, workspaceOptionsOf, WORKSPACE_OPTIONS } from '../workspaceOptions';
import * as path from 'node:path';
import { defaultWorkspaceRoot, isReadable, OUTSIDE_HINT, outsideWhat, realLocation } from '../../engine/recipe/workspaceConfinement';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'leave-one-out evaluation of every strategy on a library',
  help: `Usage: adapter-composer eval <library | recipe> --leave-one-out [options]
       adapter-composer eval --leave-one-out --with-evaluator <recipes, folders, globs…> [--allow-exec]

The paper's protocol: each adapter in turn is the target (its stored prototype) and is composed from
the OTHER adapters of its base model — the k nearest prototypes, weighted by every strategy. As the
held-out adapter is known, each composition is scored by the relative Frobenius distance and cosine
between Σ wᵢ·sᵢ·BᵢAᵢ and the held-out ΔW, computed from the low-rank factors (each adapter is read
once; no dense matrix is formed), next to the prototype residual the weights minimise.

<library> is a library folder or URI, as a recipe's \`library:\`. Given a recipe instead, its library,
base model, k and λ are used (flags still override).

With --with-evaluator, the arguments are leave-one-out recipes (the target's own adapter first in
retrieve.exclude) with an \`evaluate:\` block: every strategy's composite (cat merge, Σ wᵢΔWᵢ) is scored
by the recipe's evaluator — task metrics instead of ΔW distances. The built-in classification evaluator
also scores the base model and the held-out adapter; an external command needs --allow-exec.

Options:
  --leave-one-out      the protocol (the default and, for now, the only one)
  --strategies LIST    comma-separated, of ${EVAL_STRATEGIES.join(', ')} (default: all)
  --k N                candidates per held-out adapter (default 5)
  --lambda X           absolute sparse penalty λ ≥ 0, or auto: λ = ρ·λ* with ρ picked on the OTHER targets'
                       λ-curve
  --rho X              sparse at λ = ρ·λ* of each problem (scale-free; not with --lambda). Default: the
                       recipe's, else ${DEFAULT_RHO} (the recipe default)
  --form F             sparse form: constrained (default) | lasso
  --temperature T      sim softmax temperature (default: each problem's median distance)
  --base B             only adapters of this base model
  --distances          also print the target × adapter matrix of squared prototype distances ‖pₜ − pᵢ‖²
                       (the paper's Table 8; rows: held-out targets, columns: adapters of the same base;
                       JSON: distances {names, squared_l2})
  --lambda-curve       also print the mean ΔW error along λ = ρ·λ*, ρ ∈ [0, 1] (what \`lambda: auto\` minimises)
  --format F           table (default) | markdown | json
  --json               the same as --format json:
                       {targets: [{target, candidates, strategies: {avg: {residual, nonzero, delta_rel_error,
                       delta_cosine, weights}, …}}], summary: {avg: {mean_delta_rel_error, …, wins}}, lambda_curve?, …}
  --with-evaluator     score each recipe's composites with its evaluator (see above)
  --allow-exec         --with-evaluator: let recipes run their external evaluator command
  (with --with-evaluator, as for compose:)
${workspaceHelp(23)}
  --products P         onnx (default: ONNX Runtime for large products) | js
  --debug              show stack traces of internal errors
  -h, --help           this help`,
  options: {
    'leave-one-out': { type: 'boolean' },
    strategies: { type: 'string', multiple: true },
    k: { type: 'string' },
    lambda: { type: 'string' },
    rho: { type: 'string' },
    form: { type: 'string' },
    temperature: { type: 'string' },
    base: { type: 'string' },
    'lambda-curve': { type: 'boolean' },
    distances: { type: 'boolean' },
    format: { type: 'string' },
    products: { type: 'string' },
    'with-evaluator': { type: 'boolean' },
    'allow-exec': { type: 'boolean' },
    ...WORKSPACE_OPTIONS,
  },
  async run(args, io) {
    if (args.values['with-evaluator']) return withEvaluator(args, io);
    const given = requirePositional(args, 0, 'the library (folder or URI) or a recipe', 'eval');
    const format = formatOption(args, ['table', 'markdown', 'json']);
    const products = stringOption(args, 'products') ?? 'onnx';
    if (products !== 'onnx' && products !== 'js') throw new ComposerError('usage', `unknown --products '${products}' (onnx | js)`);

    const fromRecipe = recipeEvalDefaults(given, io.cwd);
    const library = fromRecipe?.library ?? resolveLocation(given, io.cwd);
    // the rows' adapter paths (and a recipe's library) are data: read where compose would
    const where = workspaceOptionsOf(args, io, fromRecipe ? path.resolve(io.cwd, given) : undefined);
    const confine = where.allowOutsideWorkspace ? undefined : { workspaceRoot: where.workspaceRoot ?? (isUri(library) ? io.cwd : defaultWorkspaceRoot(path.join(library, '__manifest'), io.cwd)), readRoots: where.readRoots ?? [] };
    if (confine && fromRecipe && !isUri(library) && !isReadable(library, confine.workspaceRoot, confine.readRoots)) {
      throw new ComposerError('recipe', `the recipe's library ${library} resolves to ${realLocation(library)}, ${outsideWhat(confine.workspaceRoot, confine.readRoots)}`, { file: path.resolve(io.cwd, given) }, OUTSIDE_HINT);
    }

    const strategies = listOption(args, 'strategies');
    for (const s of strategies) {
      if (!(EVAL_STRATEGIES as readonly string[]).includes(s)) throw new ComposerError('usage', `unknown strategy '${s}' for --strategies (${EVAL_STRATEGIES.join(', ')})`);
    }
    const k = numberOption(args, 'k') ?? fromRecipe?.k ?? 5;
    if (!Number.isInteger(k) || k < 1) throw new ComposerError('usage', `--k expects a positive integer, got ${k}`);
    const lambdaText = stringOption(args, 'lambda');
    let lambda: number | 'auto' | undefined = fromRecipe?.lambda;
    if (lambdaText !== undefined) {
      lambda = lambdaText === 'auto' ? 'auto' : Number(lambdaText);
      if (lambda !== 'auto' && !(Number.isFinite(lambda) && lambda >= 0)) throw new ComposerError('usage', `--lambda expects a number ≥ 0 or auto, got '${lambdaText}'`);
    }
    const rhoFlag = numberOption(args, 'rho');
    if (rhoFlag !== undefined && lambdaText !== undefined) throw new ComposerError('usage', 'give either --lambda or --rho, not both');
    if (rhoFlag !== undefined && !(rhoFlag >= 0)) throw new ComposerError('usage', `--rho expects a number ≥ 0, got ${rhoFlag}`);
    const rho = rhoFlag ?? (lambdaText === undefined && fromRecipe?.lambda === undefined ? fromRecipe?.rho : undefined);
    const form = stringOption(args, 'form') ?? fromRecipe?.form;
    if (form !== undefined && !(SPARSE_FORMS as readonly string[]).includes(form)) throw new ComposerError('usage', `unknown --form '${form}' (${SPARSE_FORMS.join(' | ')})`);
    const temperature = numberOption(args, 'temperature');
    if (temperature !== undefined && !(temperature > 0)) throw new ComposerError('usage', `--temperature expects a positive number, got ${temperature}`);

    const curve = Boolean(args.values['lambda-curve']);
    const result = await evaluateLibrary(library, {
      k,
      ...(lambda !== undefined ? { lambda } : {}),
      ...(rho !== undefined ? { rho } : {}),
      ...(form !== undefined ? { form: form as SparseForm } : {}),
      strategies: strategies.length ? (strategies as Strategy[]) : undefined,
      base: stringOption(args, 'base') ?? fromRecipe?.base,
      temperature,
      lambdaCurve: curve,
      products,
      confine,
      onProgress: io.isTTY ? (m) => process.stderr.write(`\r${m}\x1b[K`) : undefined,
    });
    if (io.isTTY) process.stderr.write('\r\x1b[K');
    const shown = isUri(library) ? library : displayPath(library, io.cwd);
    const distances = args.values.distances ? await distanceMatrix(library, result.targets.map((t) => t.target)) : undefined;
    if (format === 'json') io.out(toJson(distances ? { ...result, distances } : result));
    else if (format === 'markdown') io.out(evalMarkdown(result, shown, { curve }) + (distances ? `\n\n${distanceMarkdown(distances)}` : ''));
    else io.out(evalText(result, shown, { curve }) + (distances ? `\n\n${distanceText(distances)}` : ''));
    return 0;
  },
};

interface DistanceMatrix {
  /** Row names: the held-out targets. */
  targets: string[];
  /** Column names: every adapter evaluated. */
  names: string[];
  /** squared_l2[t][i] = ‖p_t − p_i‖² (float64 prototypes); null across base models. */
  squared_l2: (number | null)[][];
}

/** The target × adapter matrix of squared prototype distances (the paper's Table 8). */
async function distanceMatrix(uri: string, targets: string[]): Promise<DistanceMatrix> {
  return withLibrary(uri, async (library) => {
    const records = await library.list();
    const byName = new Map(records.map((r) => [r.name, r]));
    const names = [...targets];
    const squared = targets.map((t) => {
      const a = byName.get(t)!;
      return names.map((n) => {
        const b = byName.get(n)!;
        return a.base === b.base ? squaredDistance(a.prototype, b.prototype) : null;
      });
    });
    return { targets, names, squared_l2: squared };
  });
}

function distanceRows(d: DistanceMatrix): string[][] {
  return d.targets.map((t, r) => [oneLine(t), ...d.squared_l2[r].map((x) => (x === null ? '–' : formatNumber(x)))]);
}

function distanceText(d: DistanceMatrix): string {
  // names are library rows (another tool's): visible escapes, one line each
  const header = ['target \\ adapter', ...d.names.map(oneLine)];
  const rows = distanceRows(d);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return ['Squared prototype distances ‖pₜ − pᵢ‖² (rows: held-out targets):', '', line(header), ...rows.map(line)].join('\n');
}

/** Names are library rows another author wrote: Markdown-escaped text (a pull-request comment). */
function distanceMarkdown(d: DistanceMatrix): string {
  const rows = distanceRows(d).map(([target, ...cells]) => `| ${mdText(target)} | ${cells.join(' | ')} |`);
  return ['Squared prototype distances ‖pₜ − pᵢ‖² (rows: held-out targets):', '', `| target | ${d.names.map(mdText).join(' | ')} |`, `| --- | ${d.names.map(() => '---:').join(' | ')} |`, ...rows].join('\n');
}

async function withEvaluator(args: Parameters<Command['run']>[0], io: Parameters<Command['run']>[1]): Promise<number> {
  if (args.positionals.length === 0) throw new ComposerError('usage', 'eval --with-evaluator needs recipes (files, folders or globs)');
  const format = formatOption(args, ['table', 'markdown', 'json']);
  const files = await expandRecipeArgs(args.positionals, io.cwd, skippedLinkWarning(io));
  const strategies = listOption(args, 'strategies');
  const result = await evaluateRecipes(files, {
    strategies: strategies.length ? (strategies as Strategy[]) : undefined,
    allowExec: Boolean(args.values['allow-exec']),
    ...workspaceOptionsOf(args, io),
    cwd: io.cwd,
    onProgress: io.isTTY ? (m) => process.stderr.write(`\r${m}\x1b[K`) : undefined,
  });
  if (io.isTTY) process.stderr.write('\r\x1b[K');
  io.out(format === 'json' ? toJson(result) : recipeEvalTable(result, format === 'markdown'));
  return 0;
}

function recipeEvalTable(result: RecipeEvalResult, markdown: boolean): string {
  const lines: string[] = [`${result.targets.length} held-out targets, each composed from the others and scored by its recipe's evaluator (mean over targets)`, ''];
  for (const [metric, entries] of Object.entries(result.summary)) {
    if (markdown) {
      // metric names are the evaluator's output: Markdown-escaped text
      lines.push(`| ${mdText(metric)} | mean | targets |`, '| --- | ---: | ---: |');
      for (const [entry, m] of Object.entries(entries)) lines.push(`| ${mdText(entry)} | ${m.mean.toFixed(4)} | ${m.count} |`);
    } else {
      lines.push(`${metric}:`);
      for (const [entry, m] of Object.entries(entries)) lines.push(`  ${entry.padEnd(10)} ${m.mean.toFixed(4).padStart(8)}  (${m.count} targets)`);
    }
    lines.push('');
  }
  const failed = result.targets.flatMap((t) => Object.entries(t.strategies).filter(([, r]) => r.status !== 'ok').map(([s, r]) => `${t.name} ${s}: ${r.status}${r.message ? ` (${r.message})` : ''}`));
  if (failed.length) lines.push('Not scored:', ...failed.map((f) => `  ${f}`), '');
  lines.push(`${(result.total_ms / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
