/** The recipe: parse, check, resolve paths, edit. */
export { parseRecipe, Recipe, MAX_RECIPE_BYTES, MAX_NESTING, MAX_ALIAS_COUNT, type ParseResult, type RangePart } from './parse';
export { checkRecipe, type CheckResult, type CheckOptions } from './check';
export { schemaProblems, labelOf, COMPOSE_SCHEMA } from './schemaCheck';
export { semanticProblems, MANUAL_SUM_TOLERANCE } from './semanticCheck';
export { resolveRecipePaths, lockPathFor, isUri, resolveFromRecipe, type RecipePaths, type ResolvedTarget } from './paths';
export { setValueEdit, applyEdit, flowText, type TextEdit, type EditValue } from './edit';
export { formatProblem, hasErrors, problemToError, sortProblems, type Problem, type ProblemData, type Position, type Range, type RecipePath, type Severity } from './problem';
export { LineIndex } from './lineIndex';
export { closestMatch, editDistance } from './didYouMean';
export * from './spec';
