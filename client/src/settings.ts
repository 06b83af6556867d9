/** The `adapterCompose.*` settings, with their defaults. */
import * as vscode from 'vscode';

export interface Settings {
  libraryUri: string;
  executionProvider: 'auto' | 'cpu' | 'cuda';
  debounceMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('adapterCompose', scope);
  return {
    libraryUri: c.get<string>('libraryUri', ''),
    executionProvider: c.get<Settings['executionProvider']>('executionProvider', 'auto'),
    debounceMs: c.get<number>('debounceMs', 200),
    logLevel: c.get<Settings['logLevel']>('logLevel', 'info'),
  };
}
