/**
 * Completion: keys and enum values from the schema, adapter names from the library where adapters are
 * named, file paths for the keys that take a path. The cursor's place is read from the line text and
 * the indentation above it, because a half-typed line is rarely valid YAML.
 */
import * as path from 'node:path';
import { CompletionItemKind, InsertTextFormat, MarkupKind } from 'vscode-languageserver-types';
import type { CompletionItem, CompletionList, Position, Range } from 'vscode-languageserver-types';
import { adapterCard, adapterSummary } from './adapterCard';
import type { RecipeDocument, YamlPath } from './recipeDocument';
import type { JsonSchema, RecipeSchema } from './recipeSchema';
import { distanceTo } from './recipeView';
import type { FileSystemView, RecipeView } from './recipeView';

/** Keys whose values (or list items) are paths relative to the recipe. */
export const PATH_KEYS = new Set(['samples', 'features', 'prototype', 'output', 'library', 'encoder', 'lock']);
const ADAPTER_LIST_KEYS = new Set(['exclude', 'adapters']);
const MAX_ADAPTER_ITEMS = 200;
const MAX_FILE_ITEMS = 500;
const MAX_RANKED_BY_DISTANCE = 5000;

export type CursorPlace =
  | { kind: 'key'; parent: YamlPath; word: string; indent: number }
  | { kind: 'value'; path: YamlPath; word: string }
  | { kind: 'item'; parent: YamlPath; word: string }
  | { kind: 'none' };

export function completion(view: RecipeView, position: Position, schema: RecipeSchema | undefined, files: FileSystemView | undefined): CompletionList {
  const empty: CompletionList = { isIncomplete: false, items: [] };
  const doc = view.document;
  if (doc.tooLarge) return empty;
  const place = cursorPlace(doc, position);
  const wordRange: Range = { start: { line: position.line, character: position.character - ('word' in place ? place.word.length : 0) }, end: position };
  switch (place.kind) {
    case 'key': {
      const parentKey = place.parent[place.parent.length - 1];
      if (parentKey === 'manual') return adapterItems(view, place.word, wordRange, 'manual');
      if (!doc.isRecipe && place.parent.length === 0) {
        return { isIncomplete: false, items: [{ label: 'compose', kind: CompletionItemKind.Property, detail: 'Make this file a compose recipe', textEdit: { range: wordRange, newText: 'compose: ' } }] };
      }
      return { isIncomplete: false, items: schema ? keyItems(doc, schema, place.parent, place.word, wordRange, place.indent) : [] };
    }
    case 'item': {
      const parentKey = place.parent[place.parent.length - 1];
      if (typeof parentKey === 'string' && ADAPTER_LIST_KEYS.has(parentKey)) return adapterItems(view, place.word, wordRange, 'list');
      if (typeof parentKey === 'string' && PATH_KEYS.has(parentKey) && files) return fileItems(view, place.word, position, files);
      return { isIncomplete: false, items: schema ? valueItems(schema, [...place.parent, 0], wordRange) : [] };
    }
    case 'value': {
      const key = place.path[place.path.length - 1];
      if (typeof key === 'string' && PATH_KEYS.has(key) && files) return fileItems(view, place.word, position, files);
      return { isIncomplete: false, items: schema ? valueItems(schema, place.path, wordRange) : [] };
    }
    default:
      return empty;
  }
}

/** Where the cursor is: a key to type, a value of a key, or an item of a list (block or flow). */
export function cursorPlace(doc: RecipeDocument, position: Position): CursorPlace {
  const line = doc.lineText(position.line);
  const prefix = line.slice(0, position.character);
  if (/^\s*#/.test(prefix) || prefix.includes(' #')) return { kind: 'none' };
  let m: RegExpExecArray | null;
  // `key: [a, b, par|`
  if ((m = /^(\s*)(-\s+)?([^\s:#[\]{},][^:#[\]{},]*?)\s*:\s*\[(?:[^\]]*,)?\s*["']?([^,\]"']*)$/.exec(prefix))) {
    return { kind: 'item', parent: [...lineParent(doc, position.line, m[1], m[2]), m[3]], word: m[4] };
  }
  // `key: {a: 1, na|`
  if ((m = /^(\s*)(-\s+)?([^\s:#[\]{},][^:#[\]{},]*?)\s*:\s*\{(?:[^}]*,)?\s*["']?([^,}:"']*)$/.exec(prefix))) {
    const keyIndent = m[1].length + (m[2]?.length ?? 0);
    return { kind: 'key', parent: [...lineParent(doc, position.line, m[1], m[2]), m[3]], word: m[4].trim(), indent: keyIndent + 2 };
  }
  // `  - item|`
  if ((m = /^(\s*)-\s+["']?([^"':#{[]*)$/.exec(prefix)) || (m = /^(\s*)-()$/.exec(prefix))) {
    // +1: a list may sit at its key's own indentation (`exclude:` / `- a` aligned).
    return { kind: 'item', parent: parentPath(doc, position.line, m[1].length + 1), word: m[2] };
  }
  // `  key: val|`
  if ((m = /^(\s*)(-\s+)?([^\s:#[\]{},"'][^:#[\]{},]*?)\s*:\s+["']?([^"'#]*)$/.exec(prefix)) || (m = /^(\s*)(-\s+)?([^\s:#[\]{},"'][^:#[\]{},]*?)\s*:()$/.exec(prefix))) {
    return { kind: 'value', path: [...lineParent(doc, position.line, m[1], m[2]), m[3]], word: m[4] };
  }
  // `  ke|`
  if ((m = /^(\s*)(-\s+)?([\w.-]*)$/.exec(prefix))) {
    const keyIndent = m[1].length + (m[2]?.length ?? 0);
    return { kind: 'key', parent: lineParent(doc, position.line, m[1], m[2]), word: m[3], indent: keyIndent };
  }
  return { kind: 'none' };
}

/**
 * The chain of block keys above `lineIndex` whose indentation is less than `indent`
 * (`- ` items contribute index 0: the schema only needs "an item").
 */
export function parentPath(doc: RecipeDocument, lineIndex: number, indent: number): YamlPath {
  const out: YamlPath = [];
  let limit = indent;
  for (let i = lineIndex - 1; i >= 0 && limit > 0; i--) {
    const text = doc.lineText(i);
    if (!text.trim() || /^\s*#/.test(text)) continue;
    const lineIndent = text.length - text.trimStart().length;
    const dash = /^(\s*)(-\s+)/.exec(text);
    const keyMatch = /^(\s*)(?:-\s+)?([^\s:#[\]{},"'][^:#]*?)\s*:(\s|$)/.exec(text);
    const keyIndent = dash ? dash[0].length : lineIndent;
    if (dash) {
      // An item line: keys written after its dash are siblings of the cursor's key when aligned.
      if (keyMatch && keyIndent < limit) {
        out.push(keyMatch[2]);
        out.push(0);
        limit = lineIndent;
      } else if (keyIndent <= limit && lineIndent < limit) {
        out.push(0);
        limit = lineIndent;
      }
      continue;
    }
    if (lineIndent >= limit) continue;
    if (keyMatch) out.push(keyMatch[2]);
    limit = lineIndent;
  }
  return out.reverse();
}

/** The map that holds a key written on this line: the item of a `- ` line, else found by indentation. */
function lineParent(doc: RecipeDocument, lineIndex: number, indent: string, dash: string | undefined): YamlPath {
  return dash ? [...parentPath(doc, lineIndex, indent.length + 1), 0] : parentPath(doc, lineIndex, indent.length);
}

function keyItems(doc: RecipeDocument, schema: RecipeSchema, parent: YamlPath, word: string, range: Range, indent: number): CompletionItem[] {
  const present = new Set(doc.children(parent).map((e) => e.key?.text).filter((k): k is string => !!k));
  const required = new Set(schema.required(parent));
  const items: CompletionItem[] = [];
  for (const [name, sub] of schema.properties(parent)) {
    if (present.has(name) && name !== word) continue;
    const subs = schema.at([...parent, name]);
    const isBlock = subs.some((s) => typeOf(s).includes('object')) && !subs.some((s) => typeOf(s).some((t) => t !== 'object' && t !== 'null'));
    const isList = subs.some((s) => typeOf(s).includes('array')) && subs.every((s) => typeOf(s).includes('array') || typeOf(s).length === 0);
    const childIndent = ' '.repeat(indent + 2);
    const newText = isBlock ? `${name}:\n${childIndent}` : isList ? `${name}:\n${childIndent}- ` : `${name}: `;
    const docs = schema.documentation(subs.length ? subs : [sub]);
    items.push({
      label: name,
      kind: CompletionItemKind.Property,
      detail: required.has(name) ? 'required' : typeSummary(subs),
      documentation: docs ? { kind: MarkupKind.Markdown, value: docs } : undefined,
      textEdit: { range, newText },
      insertTextFormat: InsertTextFormat.PlainText,
      sortText: `${required.has(name) ? '0' : '1'}${name}`,
    });
  }
  return items;
}

function valueItems(schema: RecipeSchema, at: YamlPath, range: Range): CompletionItem[] {
  return schema.choices(at).map((c, i) => ({
    label: String(c.value),
    kind: CompletionItemKind.EnumMember,
    documentation: c.description ? { kind: MarkupKind.Markdown, value: c.description } : undefined,
    textEdit: { range, newText: String(c.value) },
    sortText: String(i).padStart(4, '0'),
  }));
}

function adapterItems(view: RecipeView, word: string, range: Range, where: 'list' | 'manual'): CompletionList {
  const adapters = view.outcome?.adapters ?? [];
  const listed = new Set(
    view.document.entries
      .filter((e) => (where === 'manual' ? e.path[e.path.length - 2] === 'manual' : typeof e.path[e.path.length - 1] === 'number' && ADAPTER_LIST_KEYS.has(String(e.path[e.path.length - 2]))))
      .map((e) => (where === 'manual' ? e.key?.text : String(e.value?.scalar ?? ''))),
  );
  const lowered = word.toLowerCase();
  const matching = adapters.filter((a) => (!lowered || a.name.toLowerCase().includes(lowered)) && (!listed.has(a.name) || a.name === word));
  // Nearest to the target first, then by name (distances only where affordable: huge libraries rank by name).
  const affordable = matching.length <= MAX_RANKED_BY_DISTANCE;
  const ranked = matching
    .map((a) => ({ a, d: affordable ? distanceTo(view, a.name) : view.outcome?.plan?.candidates.find((c) => c.name === a.name)?.distance }))
    .sort((x, y) => (x.d ?? Infinity) - (y.d ?? Infinity) || x.a.name.localeCompare(y.a.name));
  const items = ranked.slice(0, MAX_ADAPTER_ITEMS).map(({ a }, i) => ({
    label: a.name,
    kind: CompletionItemKind.Value,
    detail: adapterSummary(view, a),
    documentation: { kind: MarkupKind.Markdown, value: adapterCard(view, a) },
    textEdit: { range, newText: where === 'manual' ? `${a.name}: ` : a.name },
    filterText: a.name,
    sortText: String(i).padStart(5, '0'),
  }));
  return { isIncomplete: ranked.length > items.length, items };
}

function fileItems(view: RecipeView, word: string, position: Position, files: FileSystemView): CompletionList {
  const slash = word.lastIndexOf('/');
  const dirPart = slash >= 0 ? word.slice(0, slash + 1) : '';
  const namePart = slash >= 0 ? word.slice(slash + 1) : word;
  const base = path.resolve(path.dirname(view.file), dirPart || '.');
  const range: Range = { start: { line: position.line, character: position.character - namePart.length }, end: position };
  let entries: { name: string; isDirectory: boolean }[];
  try {
    entries = files.readDirectory(base);
  } catch {
    return { isIncomplete: false, items: [] };
  }
  const items = entries
    .filter((e) => (namePart.startsWith('.') || !e.name.startsWith('.')) && e.name !== 'node_modules')
    .sort((a, b) => Number(b.isDirectory) - Number(a.isDirectory) || a.name.localeCompare(b.name))
    .slice(0, MAX_FILE_ITEMS)
    .map((e) => ({
      label: e.isDirectory ? `${e.name}/` : e.name,
      kind: e.isDirectory ? CompletionItemKind.Folder : CompletionItemKind.File,
      textEdit: { range, newText: e.isDirectory ? `${e.name}/` : e.name },
      filterText: e.name,
    }));
  return { isIncomplete: false, items };
}

function typeOf(s: JsonSchema): string[] {
  return Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ['object'] : [];
}

function typeSummary(subs: JsonSchema[]): string | undefined {
  const types = [...new Set(subs.flatMap(typeOf))];
  return types.length ? types.join(' | ') : undefined;
}
