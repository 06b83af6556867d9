/**
 * Checks a schema cannot express and that need no library: parameters that have no effect with the
 * chosen strategy or method, manual weights, and where the output goes.
 */
import * as path from 'node:path';
import { closestMatch } from './didYouMean';
import type { Recipe } from './parse';
import { isUri, resolveFromRecipe } from './paths';
import type { Problem, ProblemData, RecipePath, Severity } from './problem';
import { STRATEGIES } from '../types';
import { EVALUATE_PLACEHOLDERS, RECIPE_DEFAULTS } from './spec';

export interface SemanticOptions {
  /** The workspace folder; an output outside it draws a warning. */
  workspaceRoot?: string;
}

/** Tolerance for "the manual weights sum to 1". */
export const MANUAL_SUM_TOLERANCE = 1e-6;

export function semanticProblems(recipe: Recipe, options: SemanticOptions = {}): Problem[] {
  const out: Problem[] = [];
  const push = (severity: Severity, code: string, message: string, path: RecipePath, part: 'value' | 'key' | 'pair', data?: ProblemData) =>
    out.push({ severity, code, message, range: recipe.problemRange(path, part), path, ...(data ? { data } : {}) });

  const data = recipe.data;
  const weights = record(data.weights);
  const retrieve = record(data.retrieve);
  const merge = record(data.merge);
  const strategy = typeof weights.strategy === 'string' ? weights.strategy : RECIPE_DEFAULTS.strategy;
  // An invalid strategy is a schema error already; "unused with strategy `spars`" would only add noise.
  const strategyValid = (STRATEGIES as readonly string[]).includes(strategy);
  const given = (o: Record<string, unknown>, k: string) => o[k] !== undefined && o[k] !== null;

  // Manual weights.
  const manual = weights.manual;
  if (strategy === 'manual' && !given(weights, 'manual')) {
    push('error', 'manual-missing', 'strategy `manual` needs `weights.manual`: adapter name → weight, e.g. { prostate-b: 0.5, prostate-f: 0.5 }', ['weights', 'strategy'], 'value');
  }
  if (strategyValid && given(weights, 'manual') && strategy !== 'manual') {
    push('warning', 'unused-parameter', `\`manual\` is unused: strategy is \`${strategy}\` (manual weights apply to \`manual\` only)`, ['weights', 'manual'], 'key', { unnecessary: true });
  }
  const manualRecord = record(manual);
  const entries = Object.entries(manualRecord);
  if (strategy === 'manual' && entries.length > 0 && entries.every(([, w]) => typeof w === 'number' && Number.isFinite(w))) {
    const sum = entries.reduce((s, [, w]) => s + (w as number), 0);
    if (Math.abs(sum - 1) > MANUAL_SUM_TOLERANCE) {
      const normalized = sum !== 0 ? Object.fromEntries(entries.map(([n, w]) => [n, (w as number) / sum])) : undefined;
      push('warning', 'manual-sum', `manual weights sum to ${roundForMessage(sum)}, not 1`, ['weights', 'manual'], 'key', { sum, ...(normalized ? { normalized } : {}) });
    }
  }
  const pinned = Array.isArray(retrieve.adapters) ? retrieve.adapters.filter((a): a is string => typeof a === 'string') : undefined;
  const excluded = Array.isArray(retrieve.exclude) ? retrieve.exclude.filter((a): a is string => typeof a === 'string') : [];
  for (const [name] of entries) {
    if (excluded.includes(name)) {
      push('warning', 'manual-excluded', `\`${name}\` has a manual weight but \`retrieve.exclude\` excludes it`, ['weights', 'manual', name], 'key');
    } else if (pinned && !pinned.includes(name)) {
      const suggestion = closestMatch(name, pinned);
      push('warning', 'manual-not-candidate', `\`${name}\` is not among \`retrieve.adapters\`${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`, ['weights', 'manual', name], 'key', suggestion ? { suggestion } : undefined);
    }
  }

  // Parameters that the chosen strategy or method ignores.
  if (given(weights, 'lambda') && given(weights, 'rho')) {
    push('error', 'lambda-and-rho', 'give either `lambda` (absolute λ) or `rho` (relative, λ = ρ·λ*), not both', ['weights', 'rho'], 'key', { hint: 'keep `rho`: it does not depend on the scale of the features' });
  }
  for (const [key, symbol] of [['lambda', 'λ'], ['rho', 'ρ'], ['form', 'the form']] as const) {
    if (strategyValid && given(weights, key) && strategy !== 'sparse') {
      push('warning', 'unused-parameter', `\`${key}\` is unused: strategy is \`${strategy}\` (${symbol} applies to \`sparse\` only)`, ['weights', key], 'key', { unnecessary: true });
    }
  }
  if (strategyValid && given(weights, 'temperature') && strategy !== 'sim') {
    push('warning', 'unused-parameter', `\`temperature\` is unused: strategy is \`${strategy}\` (τ applies to \`sim\` only)`, ['weights', 'temperature'], 'key', { unnecessary: true });
  }
  if (given(merge, 'rank') && merge.method === 'cat') {
    push('warning', 'unused-parameter', '`rank` is unused: `cat` keeps every factor exactly (rank Σrᵢ)', ['merge', 'rank'], 'key', { unnecessary: true });
  }
  const entrywise = ['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'].includes(merge.method as string);
  for (const key of ['density', 'normalize'] as const) {
    if (given(merge, key) && !entrywise) push('warning', 'unused-parameter', `\`${key}\` is unused: it applies to the entry-wise methods (ties, dare_linear, dare_ties, magnitude_prune) only`, ['merge', key], 'key', { unnecessary: true });
  }
  if (given(merge, 'seed') && merge.method !== 'dare_linear' && merge.method !== 'dare_ties') {
    push('warning', 'unused-parameter', '`seed` is unused: only dare_linear and dare_ties draw random masks', ['merge', 'seed'], 'key', { unnecessary: true });
  }
  if (given(retrieve, 'k') && pinned) {
    push('warning', 'unused-parameter', '`k` is unused: `adapters` pins the candidates', ['retrieve', 'k'], 'key', { unnecessary: true });
  }
  if (pinned) {
    for (const name of pinned) {
      if (excluded.includes(name)) push('warning', 'pinned-excluded', `\`${name}\` is both pinned and excluded`, ['retrieve', 'adapters', pinned.indexOf(name)], 'value');
    }
  }

  // Where the output goes.
  if (typeof data.output === 'string' && data.output.length > 0 && !isUri(data.output)) {
    const output = resolveFromRecipe(data.output, recipe.file);
    if (options.workspaceRoot && !within(path.resolve(options.workspaceRoot), output)) {
      const root = path.resolve(options.workspaceRoot);
      const rel = path.relative(root, output);
      if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
        push('warning', 'output-outside-workspace', `output \`${data.output}\` resolves to ${output}, outside the workspace ${root}`, ['output'], 'value');
      }
    }
    if (options.workspaceRoot && within(path.resolve(options.workspaceRoot), output)) {
      push('error', 'output-contains-workspace', `output \`${data.output}\` is or contains the workspace ${path.resolve(options.workspaceRoot)}; compose replaces its output folder as a whole`, ['output'], 'value');
    }
    if (typeof data.library === 'string' && data.library.length > 0 && !isUri(data.library)) {
      const library = resolveFromRecipe(data.library, recipe.file);
      if (within(output, library) || within(library, output)) {
        push('error', 'output-in-library', `output \`${data.output}\` overlaps the library folder ${library}; write composites elsewhere`, ['output'], 'value');
      }
    }
    if (within(path.resolve(recipe.file), output)) {
      push('error', 'output-contains-recipe', `output \`${data.output}\` is the recipe's own folder or one above it; compose replaces its output folder as a whole and would delete the recipe`, ['output'], 'value');
    }
  }

  // An evaluator is either a program or a built-in one with its files.
  const evaluate = record(data.evaluate);
  if (data.evaluate !== undefined && data.evaluate !== null && Object.keys(evaluate).length > 0) {
    if (evaluate.command !== undefined && evaluate.builtin !== undefined) {
      push('error', 'evaluate-both', '`evaluate` gives both `command` and `builtin`; give one of them', ['evaluate', 'builtin'], 'key');
    } else if (evaluate.command === undefined && evaluate.builtin === undefined) {
      out.push({ severity: 'error', code: 'missing-key', message: '`evaluate` is missing required key `command` (an external program) or `builtin` (classification)', range: recipe.problemRange(['evaluate'], 'key'), path: ['evaluate', 'command'], data: { missingKey: 'command' } });
    } else if (evaluate.builtin !== undefined) {
      for (const key of ['model', 'data', 'labels']) {
        if (evaluate[key] === undefined) out.push({ severity: 'error', code: 'missing-key', message: `\`evaluate\` is missing required key \`${key}\` (the built-in classification evaluator needs model, data and labels)`, range: recipe.problemRange(['evaluate'], 'key'), path: ['evaluate', key], data: { missingKey: key } });
      }
    } else {
      for (const key of ['model', 'data', 'labels']) if (evaluate[key] !== undefined) push('warning', 'unused-key', `\`evaluate.${key}\` is only read by a built-in evaluator (\`builtin: classification\`)`, ['evaluate', key], 'key');
    }
  }
  // Evaluator placeholders.
  if (Array.isArray(evaluate.command)) {
    evaluate.command.forEach((arg, i) => {
      if (typeof arg !== 'string') return;
      for (const m of arg.matchAll(/\{([^{}]*)\}/g)) {
        const name = m[1];
        if ((EVALUATE_PLACEHOLDERS as readonly string[]).includes(name)) continue;
        const suggestion = closestMatch(name, EVALUATE_PLACEHOLDERS);
        push(
          'warning',
          'unknown-placeholder',
          `unknown placeholder \`{${name}}\`${suggestion ? ` — did you mean \`{${suggestion}}\`?` : ''} (known: ${EVALUATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`,
          ['evaluate', 'command', i],
          'value',
          suggestion ? { suggestion: arg.replace(m[0], `{${suggestion}}`) } : undefined,
        );
      }
    });
  }
  return out;
}

/** `inner` is `outer` or lies inside it (absolute paths, compared as written). */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function roundForMessage(x: number): string {
  return String(Number(x.toPrecision(6)));
}
