/** Expands the CLI's file arguments: plain paths, folders (their *.compose.yaml) and globs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import { ComposerError } from '../engine/errors';

export async function expandRecipeArgs(args: string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
      out.push(...(await glob(['**/*.compose.yaml'], { cwd: abs, absolute: true, ignore: ['**/node_modules/**'] })).sort());
    } else if (fs.existsSync(abs)) {
      out.push(abs);
    } else if (/[*?[{]/.test(arg)) {
      const matches = (await glob([arg], { cwd, absolute: true })).sort();
      if (matches.length === 0) throw new ComposerError('io', `no file matches ${arg}`);
      out.push(...matches);
    } else {
      throw new ComposerError('io', `no such file: ${arg}`, { file: arg });
    }
  }
  return [...new Set(out)];
}

/** How a path is shown: relative to the working folder when inside it. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
