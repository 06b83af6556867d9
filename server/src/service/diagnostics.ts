/** Engine problems → LSP diagnostics (exact ranges, source, code, data for quick fixes). */
import { DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver-types';
import type { Diagnostic } from 'vscode-languageserver-types';
import type { PlanProblem } from '../engine/planner';
import { MAX_RECIPE_BYTES } from './recipeDocument';
import type { RecipeView } from './recipeView';

export const DIAGNOSTIC_SOURCE = 'adapter-composer';

const SEVERITY: Record<PlanProblem['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function diagnostics(view: RecipeView): Diagnostic[] {
  const { document, outcome } = view;
  if (document.tooLarge) {
    return [note(`File is larger than ${MAX_RECIPE_BYTES / 1024 / 1024} MB: recipes are small (a few KB), so Adapter Composer does not check it (edits to it are not tracked past ${(2 * MAX_RECIPE_BYTES) / 1024 / 1024} MB; reopen it once it is smaller).`, 'too-large')];
  }
  if (document.tooDeep) {
    const at = document.positionAt(document.tooDeep.offset);
    return [{ range: { start: at, end: { line: at.line, character: at.character + 1 } }, severity: DiagnosticSeverity.Error, source: DIAGNOSTIC_SOURCE, code: 'too-deep', message: `the document nests ${document.tooDeep.kind === 'flow' ? 'brackets' : 'blocks'} too deeply to read (over ${document.tooDeep.depth - 1} levels); a recipe needs only a few` }];
  }
  if (!outcome) return [];
  if (!outcome.isRecipe) {
    // Not ours: never an error, only one note saying why nothing else shows.
    const own = outcome.problems.filter((p) => p.severity === 'information' || p.severity === 'hint');
    return own.length ? own.map((p) => toDiagnostic(view, p)) : [note('Not a compose recipe (no top-level `compose:` key): Adapter Composer ignores this file.', 'not-a-recipe')];
  }
  if (outcome.problems.length <= MAX_DIAGNOSTICS) return outcome.problems.map((p) => toDiagnostic(view, p));
  // A recipe of 100,000 unknown keys: 100,000 diagnostics (25 MB of JSON on every edit) help nobody
  const shown = outcome.problems.slice(0, MAX_DIAGNOSTICS).map((p) => toDiagnostic(view, p));
  return [...shown, note(`${outcome.problems.length - MAX_DIAGNOSTICS} more problems are not shown (the first ${MAX_DIAGNOSTICS} are); \`adapter-composer check\` lists them all.`, 'more-problems')];
}

/** Diagnostics sent for one document at most (plus one note saying how many more there are). */
export const MAX_DIAGNOSTICS = 1000;

export function toDiagnostic(view: RecipeView, p: PlanProblem): Diagnostic {
  const data = p.data && typeof p.data === 'object' ? (p.data as Record<string, unknown>) : undefined;
  const hint = typeof data?.hint === 'string' ? data.hint : undefined;
  const d: Diagnostic = {
    range: clampRange(view, p.range),
    severity: SEVERITY[p.severity] ?? DiagnosticSeverity.Error,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    message: hint ? `${p.message}\nhint: ${hint}` : p.message,
  };
  if (data?.unnecessary === true) d.tags = [DiagnosticTag.Unnecessary];
  // Quick fixes read the suggestion and the recipe path back from here.
  if (data || p.path) d.data = { ...(data ?? {}), ...(p.path ? { path: p.path } : {}) };
  return d;
}

function clampRange(view: RecipeView, r: PlanProblem['range']): Diagnostic['range'] {
  const doc = view.document;
  const clamp = (pos: { line: number; character: number }) => doc.positionAt(doc.offsetAt({ line: Math.max(0, pos.line | 0), character: Math.max(0, pos.character | 0) }));
  const start = clamp(r?.start ?? { line: 0, character: 0 });
  const end = clamp(r?.end ?? r?.start ?? { line: 0, character: 0 });
  return end.line < start.line || (end.line === start.line && end.character < start.character) ? { start, end: start } : { start, end };
}

function note(message: string, code: string): Diagnostic {
  return { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Information, source: DIAGNOSTIC_SOURCE, code, message };
}
