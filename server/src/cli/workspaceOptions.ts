/**
 * The workspace options of the commands that read a recipe's paths (check, plan, compose, and eval
 * --with-evaluator): one option spec, one help text and one reader, so the four cannot drift apart
 * (they used to spell the same flags four times). What the options mean is the engine's
 * (recipe/workspaceConfinement.ts).
 */
import * as path from 'node:path';
import { defaultWorkspaceRoot, type ConfinementOptions } from '../engine/recipe/workspaceConfinement';
import { stringOption, type CliIO, type Options, type ParsedArgs } from './command';

export const WORKSPACE_OPTIONS: Options = {
  workspace: { type: 'string' },
  'read-root': { type: 'string', multiple: true },
  'allow-outside-workspace': { type: 'boolean' },
};

/** The options' help, its descriptions starting at column `column` (the command's own layout). */
export function workspaceHelp(column: number): string {
  const row = (flag: string, lines: string[]) => {
    const head = `  ${flag}`;
    const first = head.length < column ? [`${head.padEnd(column)}${lines[0]}`] : [head, `${' '.repeat(column)}${lines[0]}`];
    return [...first, ...lines.slice(1).map((l) => `${' '.repeat(column)}${l}`)].join('\n');
  };
  return [
    row('--workspace DIR', ['the folder the recipe\'s output, library, target, samples and adapters must stay', 'in (symlinks followed; default: the current folder, or for a recipe outside it the', 'nearest folder above it with .git/.vscode, else the folder above the recipe\'s)']),
    row('--read-root DIR', ['a folder outside the workspace the recipe may also read (a shared library or', 'adapter store); never written to. Repeatable']),
    row('--allow-outside-workspace', ['trust the recipe\'s paths outside the workspace']),
  ].join('\n');
}

/**
 * The confinement a command applies: `--workspace DIR` (relative to the current folder) or, given a
 * recipe, compose's default workspace for it (undefined otherwise: the engine picks one per recipe);
 * every `--read-root` resolved; `--allow-outside-workspace`.
 */
export function workspaceOptionsOf(args: ParsedArgs, io: Pick<CliIO, 'cwd'>, recipeFile?: string): ConfinementOptions {
  const given = stringOption(args, 'workspace');
  const workspaceRoot = given !== undefined ? path.resolve(io.cwd, given) : recipeFile !== undefined ? defaultWorkspaceRoot(recipeFile, io.cwd) : undefined;
  return {
    ...(workspaceRoot !== undefined ? { workspaceRoot } : {}),
    // each given as it is (a path may hold a comma)
    readRoots: [args.values['read-root']].flat().filter((r): r is string => typeof r === 'string' && r !== '').map((r) => path.resolve(io.cwd, r)),
    allowOutsideWorkspace: Boolean(args.values['allow-outside-workspace']),
  };
}
