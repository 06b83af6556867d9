/**
 * Where a recipe's relative paths point. Everything in a recipe is relative to the recipe's folder;
 * remote URIs (s3://…, gs://…, memory://…) are left as they are, `file://` URIs are local paths (read
 * by engine/location.ts, the one parser of locations).
 */
import * as path from 'node:path';
import { isRemoteUri, resolveLocation } from '../location';
import type { TargetSource } from '../types';
import type { Recipe } from './parse';
import { targetSource, type RecipeSpec } from './spec';

export interface ResolvedTarget {
  source?: TargetSource;
  /** samples: absolute glob patterns (the recipe folder escaped for glob syntax, `/` separators). */
  globs?: string[];
  /** samples: the globs as written, to run with `cwd` instead of `globs`. */
  patterns?: string[];
  /** features / prototype: absolute file path. */
  file?: string;
  /** text: the description. */
  text?: string;
}

export interface RecipePaths {
  recipeFile: string;
  recipeDir: string;
  /** Absolute folder, or the URI untouched. */
  library: string;
  libraryIsUri: boolean;
  target: ResolvedTarget;
  /** Absolute output folder (or the URI untouched). */
  output: string;
  /** `<dir>/<recipe name>.compose.lock`, next to the recipe. */
  lock: string;
}

/**
 * A folder path as a glob prefix: glob characters escaped, `/` separators; the rules of tinyglobby's
 * convertPathToPattern (inlined: bundling tinyglobby's ESM build breaks under esbuild's CJS output).
 */
export function pathToGlobPrefix(folder: string): string {
  if (process.platform === 'win32') {
    return folder.replace(/(?<!\\)([()[\]{}]|^!|[!+@](?=\())/g, '\\$&').replace(/\\(?![()[\]{}!+@])/g, '/');
  }
  return folder.replace(/(?<!\\)([()[\]{}*?|]|^!|[!+@](?=\()|\\(?![()[\]{}!*+?@|]))/g, '\\$&');
}

/** A remote URI (not a folder of this machine; `file://` is local). See engine/location.ts. */
export function isUri(location: string): boolean {
  return isRemoteUri(location);
}

/** A recipe-relative location made absolute (`file://` URIs too; remote URIs untouched). */
export function resolveFromRecipe(location: string, recipeFile: string): string {
  return resolveLocation(location, path.dirname(path.resolve(recipeFile)));
}

/** `<dir>/<name-of-recipe-file-without .compose.yaml>.compose.lock`. */
export function lockPathFor(recipeFile: string): string {
  const abs = path.resolve(recipeFile);
  const base = path.basename(abs).replace(/(\.compose)?\.ya?ml$/i, '');
  return path.join(path.dirname(abs), `${base}.compose.lock`);
}

export function resolveRecipePaths(recipe: Recipe | RecipeSpec, recipeFile: string): RecipePaths {
  const spec = 'spec' in recipe ? recipe.spec : recipe;
  const recipeAbs = path.resolve(recipeFile);
  const recipeDir = path.dirname(recipeAbs);
  const source = targetSource(spec.target ?? {});
  const target: ResolvedTarget = { source };
  if (source === 'samples') {
    const patterns = (spec.target.samples ?? []).filter((g): g is string => typeof g === 'string');
    target.patterns = patterns;
    const dirPattern = pathToGlobPrefix(recipeDir).replace(/\/$/, '');
    target.globs = patterns.map((g) => (path.isAbsolute(g) ? g.replace(/\\/g, '/') : `${dirPattern}/${g.replace(/^\.\//, '')}`));
  } else if (source === 'features' || source === 'prototype') {
    target.file = resolveFromRecipe(String(spec.target[source]), recipeAbs);
  } else if (source === 'text') {
    target.text = spec.target.text;
  }
  const library = String(spec.library ?? '');
  return {
    recipeFile: recipeAbs,
    recipeDir,
    library: resolveFromRecipe(library, recipeAbs),
    libraryIsUri: isUri(library),
    target,
    output: resolveFromRecipe(String(spec.output ?? ''), recipeAbs),
    lock: lockPathFor(recipeAbs),
  };
}

/** compose writes a local folder only: the refusal of an empty or URI output (compose and check both use it). */
export function outputRefusal(writtenOutput: unknown, resolvedOutput: string): string | undefined {
  if (resolvedOutput === '' || /^[a-z][a-z0-9+.-]+:\/\//i.test(resolvedOutput)) return `output must be a local folder, got '${String(writtenOutput)}'`;
  return undefined;
}
