/** Expands the CLI's file arguments: plain paths, folders (their *.compose.yaml) and globs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../engine/errors';
import { oneLine } from '../engine/recipe/problem';
import { confinedGlob, isOutsideWorkspace } from '../engine/recipe/workspaceConfinement';

/**
 * The recipe files the arguments name. A folder's recipes and a glob's matches are found without
 * following a link out of the folder (or the glob's fixed part) and the working folder: a repository
 * that holds `recipes/x → /` would otherwise have `check recipes/` walk the whole disk and check files
 * from outside it. Such a link is skipped and given to `onSkipped`.
 */
export async function expandRecipeArgs(args: string[], cwd: string, onSkipped?: (link: string, real: string) => void): Promise<string[]> {
  const out: string[] = [];
  const allowed = (real: string, base: string) => !isOutsideWorkspace(real, base) || !isOutsideWorkspace(real, cwd);
  const walk = async (pattern: string, options: { cwd: string; ignore?: string[] }) => {
    const { files, linksOut } = await confinedGlob([pattern], allowed, options);
    for (const l of linksOut) onSkipped?.(l.link, l.real);
    return files;
  };
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
      out.push(...(await walk('**/*.compose.yaml', { cwd: abs, ignore: ['**/node_modules/**'] })));
    } else if (fs.existsSync(abs)) {
      out.push(abs);
    } else if (/[*?[{]/.test(arg)) {
      const matches = await walk(arg, { cwd });
      if (matches.length === 0) throw new ComposerError('io', `no file matches ${arg}`);
      out.push(...matches);
    } else {
      throw new ComposerError('io', `no such file: ${arg}`, { file: arg });
    }
  }
  return [...new Set(out)];
}

/** The warning a skipped link gets (stderr): where it leads, and that it was not followed. */
export function skippedLinkWarning(io: { err: (text: string) => void; cwd: string }): (link: string, real: string) => void {
  return (link, real) => io.err(`warning: ${oneLine(displayPath(link, io.cwd))} leads to ${oneLine(real)}, outside the folder given and the working folder: not followed`);
}

/**
 * How a path is shown: relative to the working folder when inside it, else absolute (never `../../…`,
 * which reads as a path into the working folder's parents). A folder named `..x` is inside.
 */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel) ? rel : path.resolve(cwd, file);
}
