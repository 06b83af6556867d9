/** Go to definition: an adapter name → its adapter_config.json (or file); a path value → that file. */
import * as path from 'node:path';
import type { Location, Position } from 'vscode-languageserver-types';
import { PATH_KEYS } from './completion';
import { adapterByName, adapterNameAt } from './recipeView';
import type { FileSystemView, RecipeView } from './recipeView';
import { localPath } from '../engine/location';
import { documentUri } from './documentUri';

const ORIGIN = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export function definition(view: RecipeView, position: Position, files: FileSystemView): Location[] {
  const doc = view.document;
  if (!doc.isRecipe) return [];
  const hit = doc.at(doc.offsetAt(position));
  if (!hit) return [];
  const { entry, part } = hit;
  const name = adapterNameAt(entry, part);
  if (name !== undefined) {
    const adapter = adapterByName(view, name);
    const target = adapter ? adapterFile(adapter.path, files) : undefined;
    return target ? [{ uri: documentUri(target), range: ORIGIN }] : [];
  }
  const key = [...entry.path].reverse().find((s) => typeof s === 'string');
  if (part === 'value' && typeof key === 'string' && PATH_KEYS.has(key) && typeof entry.value?.scalar === 'string') {
    const file = path.resolve(path.dirname(view.file), entry.value.scalar);
    const target = files.isDirectory(file) ? undefined : files.isFile(file) ? file : undefined;
    return target ? [{ uri: documentUri(target), range: ORIGIN }] : [];
  }
  return [];
}

/** The file an adapter opens as: its adapter_config.json when it is a folder that has one. */
export function adapterFile(adapterPath: string, files: FileSystemView): string | undefined {
  const p = localPath(adapterPath, process.cwd());
  if (p === undefined) return undefined;
  if (files.isDirectory(p)) {
    for (const candidate of ['adapter_config.json', 'config.json']) {
      const inside = path.join(p, candidate);
      if (files.isFile(inside)) return inside;
    }
    const weights = files.readDirectory(p).find((e) => !e.isDirectory && /\.(safetensors|bin|pt)$/.test(e.name));
    return weights ? path.join(p, weights.name) : undefined;
  }
  return files.isFile(p) ? p : undefined;
}

