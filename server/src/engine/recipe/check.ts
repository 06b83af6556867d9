/**
 * Everything that can be said about a recipe from its text alone: YAML, schema and semantic checks.
 * No I/O (the library, samples and adapters are checked by the planner). Never throws.
 */
import { parseRecipe, type ParseResult, type Recipe } from './parse';
import { sortProblems, type Problem } from './problem';
import { schemaProblems } from './schemaCheck';
import { semanticProblems, type SemanticOptions } from './semanticCheck';
import { whereProblems } from './whereCheck';

export interface CheckResult {
  /** Present whenever the text is a recipe that YAML could read; `recipe.spec` is reliable only without errors. */
  recipe?: Recipe;
  /** Sorted by position. */
  problems: Problem[];
  notARecipe?: boolean;
}

export type CheckOptions = SemanticOptions;

/**
 * `parsed`: parseRecipe(text, file) already done (the language server parses each buffer version once
 * and shares it); used only when it is of this text and file, with a fresh spec and problem list.
 */
export function checkRecipe(text: string, file: string, options: CheckOptions = {}, parsed: ParseResult = parseRecipe(text, file)): CheckResult {
  if (parsed.of?.text !== text || parsed.of.file !== file) parsed = parseRecipe(text, file);
  if (!parsed.recipe) return { problems: [...parsed.problems], ...(parsed.notARecipe ? { notARecipe: true } : {}) };
  const recipe = parsed.recipe.withFreshSpec();
  try {
    const compose = recipe.data.compose;
    const schema = schemaProblems(recipe);
    // Another format's keys mean something else: report only the version.
    if (typeof compose === 'number' && compose !== 1) {
      return { recipe, problems: sortProblems([...parsed.problems, ...schema.filter((p) => p.code === 'unsupported-format')]) };
    }
    const problems = [...parsed.problems, ...schema, ...semanticProblems(recipe, options), ...whereProblems(recipe)];
    return { recipe, problems: sortProblems(problems) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      recipe,
      problems: [...parsed.problems, { severity: 'error', code: 'internal', message: `could not check the recipe: ${message}`, range: recipe.documentStartRange() }],
    };
  }
}
