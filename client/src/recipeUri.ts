/** Which recipe a command acts on (the code lens's argument, else the active editor's recipe), and document URI keys. */
import * as vscode from 'vscode';
import { LanguageId } from '../../server/src/protocol';

export function recipeUriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) return vscode.Uri.parse(arg);
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === LanguageId) return editor.document.uri;
  return vscode.window.visibleTextEditors.find((e) => e.document.languageId === LanguageId)?.document.uri;
}

export async function requireRecipeUri(arg: unknown): Promise<vscode.Uri | undefined> {
  const uri = recipeUriOf(arg);
  if (!uri) void vscode.window.showWarningMessage('Open a *.compose.yaml recipe first.');
  return uri;
}

/** Same document, same key: the server may encode `file:///a%20b` where VS Code writes `file:///a b`. */
export function uriKey(uri: vscode.Uri | string): string {
  return (typeof uri === 'string' ? vscode.Uri.parse(uri) : uri).toString();
}

export function sameUri(a: vscode.Uri | string, b: vscode.Uri | string): boolean {
  return uriKey(a) === uriKey(b);
}
