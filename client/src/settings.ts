/**
 * The `adapterCompose.*` settings of a scope, read through the server's reader (server/src/lsp/settings.ts):
 * one set of defaults and one validation for the client, the server and the manifest.
 */
import * as vscode from 'vscode';
import { readSettings as readSection, type ServerSettings } from '../../server/src/lsp/settings';

export type Settings = ServerSettings;

/** Keys the client passes on (trust comes from Workspace Trust, not from settings). */
const KEYS = ['libraryUri', 'executionProvider', 'debounceMs', 'logLevel', 'libraryPollMs', 'readRoots'] as const;

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('adapterCompose', scope);
  return readSection(Object.fromEntries(KEYS.map((k) => [k, c.get(k)])));
}
