import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../../engine/errors';
import { openLibrary } from '../../engine/library/library';
import { isRemoteUri, resolveLocation } from '../../engine/location';
import { readNpyHeader } from '../../engine/prototype/npy';
import { recipeTemplate, type RecipeTemplateOptions } from '../../engine/recipe/template';
import { STRATEGIES } from '../../engine/types';
import { requirePositional, stringOption, toJson, type Command } from '../command';
import { displayPath } from '../recipeFiles';

const HELP = `Usage: adapter-composer new <name> --library <uri> --target <glob|file> [options]

Writes <name>.compose.yaml (or <name> itself when it ends in .compose.yaml): a commented recipe with
the schema's defaults and the library's base model filled in. Refuses to overwrite an existing file.

The target: a glob or a folder → \`samples\`; a 1-d .npy → \`prototype\`; a 2-d .npy → \`features\`;
any other file → \`samples\`. With --text, the target is that text (for a library with a text encoder).

Options:
  --library URI      the adapter library (a LanceDB folder or URI)
  --target G         samples glob, folder or .npy file (relative to the current folder)
  --text T           the target as a description instead of --target
  --base B           the base model (default: the library's most common base)
  --strategy S       avg | sim | lin | sparse | convex | nearest | manual (default: the schema's)
  --output DIR       where compose writes the composite (default: ./out/<name>, beside the recipe)
  --json             print {file, base, target} instead of a sentence
  -h, --help         this help`;

/** How a recipe in `recipeDir` names `location` (relative, forward slashes; URIs untouched). */
function relativeFrom(recipeDir: string, location: string): string {
  if (isRemoteUri(location)) return location;
  const rel = path.relative(recipeDir, location).split(path.sep).join('/');
  return rel === '' ? '.' : rel.startsWith('.') ? rel : `./${rel}`;
}

function targetOf(given: string, cwd: string, recipeDir: string): RecipeTemplateOptions['target'] {
  const hasGlob = /[*?[\]{}]/.test(given);
  const absolute = path.resolve(cwd, given);
  if (hasGlob) return { kind: 'samples', value: relativeFrom(recipeDir, absolute) };
  if (!fs.existsSync(absolute)) throw new ComposerError('io', `no such file or folder: ${given}`, { file: given }, 'give a samples glob, a folder of samples, or an .npy file');
  if (fs.statSync(absolute).isDirectory()) return { kind: 'samples', value: `${relativeFrom(recipeDir, absolute)}/*` };
  if (/\.npy$/i.test(absolute)) {
    const { shape } = readNpyHeader(absolute);
    if (shape.length === 1) return { kind: 'prototype', value: relativeFrom(recipeDir, absolute) };
    if (shape.length === 2) return { kind: 'features', value: relativeFrom(recipeDir, absolute) };
  }
  return { kind: 'samples', value: relativeFrom(recipeDir, absolute) };
}

export const newCommand: Command = {
  name: 'new',
  summary: 'write a new commented recipe for a library and a target',
  help: HELP,
  options: { library: { type: 'string' }, target: { type: 'string' }, text: { type: 'string' }, base: { type: 'string' }, strategy: { type: 'string' }, output: { type: 'string' } },
  async run(args, io) {
    const given = requirePositional(args, 0, 'the recipe name', 'new');
    const libraryArg = stringOption(args, 'library');
    if (!libraryArg) throw new ComposerError('usage', 'give the library: --library <uri>');
    const targetArg = stringOption(args, 'target');
    const text = stringOption(args, 'text');
    if ((targetArg === undefined) === (text === undefined)) throw new ComposerError('usage', 'give one of --target <glob|file> or --text "description"');
    const strategy = stringOption(args, 'strategy');
    if (strategy !== undefined && !(STRATEGIES as readonly string[]).includes(strategy)) {
      throw new ComposerError('usage', `unknown strategy '${strategy}'`, undefined, `strategies: ${STRATEGIES.join(', ')}`);
    }
    const file = path.resolve(io.cwd, /\.compose\.ya?ml$/i.test(given) ? given : `${given}.compose.yaml`);
    const name = path.basename(file).replace(/\.compose\.ya?ml$/i, '');
    if (!/^[\w.-]+$/.test(name)) throw new ComposerError('usage', `the recipe name '${name}' may only hold letters, digits, '.', '-' and '_'`);
    if (fs.existsSync(file)) throw new ComposerError('io', `${displayPath(file, io.cwd)} already exists; not overwriting it`, { file }, 'choose another name or remove the file');
    const recipeDir = path.dirname(file);
    const libraryUri = resolveLocation(libraryArg, io.cwd);

    const library = await openLibrary(libraryUri);
    let bases: { base: string; count: number }[];
    try {
      bases = (await library.groups()).map((g) => ({ base: g.base, count: g.count })).sort((a, b) => b.count - a.count || (a.base < b.base ? -1 : 1));
    } finally {
      library.close();
    }
    const base = stringOption(args, 'base') ?? bases[0]?.base;
    if (!base) throw new ComposerError('usage', `the library at ${libraryArg} holds no adapters, so its base model is unknown; give --base`);
    const target = text !== undefined ? { kind: 'text' as const, value: text } : targetOf(targetArg!, io.cwd, recipeDir);
    const output = stringOption(args, 'output');
    const recipe = recipeTemplate({
      name,
      library: relativeFrom(recipeDir, libraryUri),
      base,
      otherBases: bases.map((b) => b.base).filter((b) => b !== base),
      adaptersOfBase: bases.find((b) => b.base === base)?.count,
      target,
      strategy,
      output: output ? relativeFrom(recipeDir, path.resolve(io.cwd, output)) : undefined,
    });
    fs.mkdirSync(recipeDir, { recursive: true });
    try {
      fs.writeFileSync(file, recipe, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ComposerError('io', `${file} already exists; not overwriting it`, { file });
      throw e;
    }
    io.out(args.values.json ? toJson({ file, name, base, target }) : `wrote ${displayPath(file, io.cwd)} (base ${base}, target ${target.kind})`);
    return 0;
  },
};
