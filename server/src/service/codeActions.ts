/**
 * Quick fixes: the nearest name for an unknown adapter/key (the engine's suggestion), the missing
 * required keys; and a rewrite that pins the computed weights as `manual`.
 */
import { CodeActionKind } from 'vscode-languageserver-types';
import type { CodeAction, Diagnostic, Range, TextEdit } from 'vscode-languageserver-types';
import { pinWeightsEdit, roundWeights } from './commands';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { replaceTopLevelEdit, setValueEdit, topLevelValue } from './recipeEdits';
import type { JsonSchema, RecipeSchema } from './recipeSchema';
import type { RecipeView } from './recipeView';

interface FixData {
  suggestion?: unknown;
  suggestions?: unknown;
  /** The engine's missing-key problems: the key, and the problem's path (parent path + key). */
  missingKey?: unknown;
  path?: unknown;
  /** manual-sum: the same weights scaled to sum to 1. */
  normalized?: unknown;
}

export function codeActions(view: RecipeView, _range: Range, diagnostics: Diagnostic[], schema?: RecipeSchema): CodeAction[] {
  const doc = view.document;
  if (!doc.isRecipe) return [];
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE || !d.data || typeof d.data !== 'object') continue;
    const data = d.data as FixData;
    const suggestions = [data.suggestion, ...(Array.isArray(data.suggestions) ? (data.suggestions as unknown[]) : [])].filter((s): s is string => typeof s === 'string' && s.length > 0);
    for (const s of [...new Set(suggestions)].slice(0, 3)) {
      actions.push({
        title: `Change to '${s}'`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: s === suggestions[0],
        edit: { changes: { [view.uri]: [{ range: d.range, newText: s }] } },
      });
    }
    if (data.normalized && typeof data.normalized === 'object' && !Array.isArray(data.normalized)) {
      const weights = topLevelValue(doc, 'weights');
      if (weights && typeof weights === 'object') {
        actions.push({
          title: 'Normalize manual weights to sum to 1',
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: true,
          edit: { changes: { [view.uri]: [replaceTopLevelEdit(doc, 'weights', { ...weights, manual: roundWeights(data.normalized as Record<string, number>) })] } },
        });
      }
    }
    const missing = typeof data.missingKey === 'string' ? [data.missingKey] : [];
    if (missing.length) {
      const full = Array.isArray(data.path) ? data.path : [];
      const parent = (full[full.length - 1] === missing[0] ? full.slice(0, -1) : full).filter((p): p is string => typeof p === 'string');
      actions.push({ title: `Add missing key${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, kind: CodeActionKind.QuickFix, diagnostics: [d], edit: { changes: { [view.uri]: addKeysEdits(view, parent, missing, schema) } } });
    }
  }
  if (schema && !actions.some((a) => a.title.startsWith('Add missing'))) {
    const absent = schema.required([]).filter((k) => !doc.topLevel.has(k));
    if (absent.length) {
      const related = diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE && absent.some((k) => (typeof d.message === 'string' ? d.message : d.message.value).includes(k)));
      actions.push({
        title: `Add missing required key${absent.length > 1 ? 's' : ''}: ${absent.join(', ')}`,
        kind: CodeActionKind.QuickFix,
        diagnostics: related.length ? related : undefined,
        edit: { changes: { [view.uri]: addKeysEdits(view, [], absent, schema) } },
      });
    }
  }
  const plan = view.outcome?.plan;
  if (plan && plan.strategy !== 'manual') {
    const edit = pinWeightsEdit(view);
    if (edit) actions.push({ title: `Pin weights (${plan.strategy} → manual)`, kind: CodeActionKind.RefactorRewrite, edit });
  }
  return actions;
}

/** One edit per missing key, each with a placeholder from the schema (default, example, first enum). */
function addKeysEdits(view: RecipeView, parent: string[], keys: string[], schema?: RecipeSchema): TextEdit[] {
  // Inserts at one position apply in array order (LSP), so each key gets its own edit.
  return keys.map((k) => setValueEdit(view.document, [...parent, k], placeholder(schema?.at([...parent, k]) ?? [])));
}

function placeholder(schemas: JsonSchema[]): string | number | boolean {
  for (const s of schemas) {
    for (const v of [s.default, s.examples?.[0], s.enum?.[0], s.const]) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    }
  }
  return '';
}
