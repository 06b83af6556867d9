/** Document symbols: the recipe's keys as an outline (top-level keys with their nested keys). */
import { SymbolKind } from 'vscode-languageserver-types';
import type { DocumentSymbol } from 'vscode-languageserver-types';
import type { RecipeEntry } from './recipeDocument';
import type { RecipeView } from './recipeView';

const MAX_SYMBOLS = 5000;

export function documentSymbols(view: RecipeView): DocumentSymbol[] {
  const doc = view.document;
  if (!doc.isRecipe) return [];
  const roots: DocumentSymbol[] = [];
  const byPath = new Map<string, DocumentSymbol>();
  let count = 0;
  for (const entry of doc.entries) {
    if (count++ >= MAX_SYMBOLS) break;
    const symbol: DocumentSymbol = {
      name: entry.key ? entry.key.text || '""' : `[${String(entry.path[entry.path.length - 1])}]`,
      detail: detailOf(entry),
      kind: kindOf(entry),
      range: doc.rangeOf({ start: entry.start, end: entry.end }),
      selectionRange: doc.rangeOf(entry.key?.span ?? entry.value?.span ?? { start: entry.start, end: entry.start }),
      children: [],
    };
    byPath.set(JSON.stringify(entry.path), symbol);
    const parent = byPath.get(JSON.stringify(entry.path.slice(0, -1)));
    (parent ? parent.children! : roots).push(symbol);
  }
  return roots;
}

function kindOf(entry: RecipeEntry): SymbolKind {
  switch (entry.value?.kind) {
    case 'map':
      return SymbolKind.Module;
    case 'seq':
      return SymbolKind.Array;
    case 'scalar': {
      const v = entry.value.scalar;
      return typeof v === 'number' ? SymbolKind.Number : typeof v === 'boolean' ? SymbolKind.Boolean : SymbolKind.String;
    }
    default:
      return SymbolKind.Null;
  }
}

function detailOf(entry: RecipeEntry): string | undefined {
  if (entry.value?.kind === 'scalar') {
    const text = String(entry.value.scalar);
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  }
  return undefined;
}
