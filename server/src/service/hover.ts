/** Hover: schema documentation for keys and values; an adapter card for adapter names. */
import { MarkupKind } from 'vscode-languageserver-types';
import type { Hover, Position } from 'vscode-languageserver-types';
import { mdText } from '../engine/markdownText';
import { adapterCard } from './adapterCard';
import { weightText } from './numberText';
import type { RecipeSchema } from './recipeSchema';
import { adapterByName, adapterNameAt } from './recipeView';
import type { RecipeView } from './recipeView';

export function hover(view: RecipeView, position: Position, schema?: RecipeSchema): Hover | null {
  const doc = view.document;
  if (!doc.isRecipe) return null;
  const hit = doc.at(doc.offsetAt(position));
  if (!hit) return null;
  const { entry, part } = hit;
  const name = adapterNameAt(entry, part);
  if (name !== undefined) {
    const adapter = adapterByName(view, name);
    const span = part === 'key' ? entry.key!.span : entry.value!.span;
    const value = adapter ? adapterCard(view, adapter) : `**${mdText(name)}** — not in the library${view.outcome?.adapters ? '' : ' (library not loaded)'}`;
    return { contents: { kind: MarkupKind.Markdown, value }, range: doc.rangeOf(span) };
  }
  if (!schema) return null;
  const schemas = schema.at(entry.path);
  if (schemas.length === 0) return null;
  const label = entry.path.filter((s) => typeof s === 'string').join('.');
  const parts = [`**${label}**`];
  if (part === 'value' && entry.value?.kind === 'scalar') {
    const choice = schema.choices(entry.path).find((c) => c.value === entry.value?.scalar);
    if (choice?.description) parts.push(`\`${String(choice.value)}\`: ${choice.description}`);
  }
  const docs = schema.documentation(schemas);
  if (docs) parts.push(docs);
  // On `weights:`, the full list the code lens trims to its top adapters.
  const plan = view.outcome?.plan;
  const chosen = plan?.strategies[plan.strategy];
  if (part === 'key' && entry.path.length === 1 && entry.path[0] === 'weights' && plan && chosen) {
    const rows = Object.entries(chosen.weights).sort((a, b) => b[1] - a[1]).map(([n, w]) => `| ${n} | ${weightText(w)} |`);
    parts.splice(1, 0, `Planned weights (${plan.strategy}):\n\n| adapter | weight |\n|---|---:|\n${rows.join('\n')}`);
  }
  if (parts.length === 1) return null;
  const span = part === 'key' && entry.key ? entry.key.span : entry.value!.span;
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') }, range: doc.rangeOf(span) };
}
