/**
 * Document URIs (LSP `textDocument.uri`, command arguments) and files: the one mapping the language
 * server and the service use. User-written locations (`library:`, settings) are engine/location.ts's.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The file a document URI names on this machine: a `file:` URI only, and only one this machine can
 * map (not another host's); undefined otherwise. What commands may read from, or compose, on disk.
 */
export function savedFileOf(uri: string): string | undefined {
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/**
 * Where an open document is planned from: its file, or for a buffer that is not one (`untitled:`, another
 * host) a name in the workspace, so its relative paths resolve there. Never a file to read: see savedFileOf.
 */
export function planningFileOf(uri: string, workspaceRoot: string | undefined): string {
  const saved = savedFileOf(uri);
  if (saved) return saved;
  const name = uri.replace(/^[a-z]+:/i, '').replace(/[^\w.-]+/g, '_') || 'untitled.compose.yaml';
  return path.join(workspaceRoot ?? process.cwd(), name);
}

/** The `file:` URI of a local file. */
export function documentUri(file: string): string {
  return pathToFileURL(file).toString();
}
