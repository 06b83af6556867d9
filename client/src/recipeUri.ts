/** Which recipe a command acts on (the code lens's argument, else the active editor's recipe, else one the user picks), and document URI keys. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClientCommands, LanguageId } from '../../server/src/protocol';

export function recipeUriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) return vscode.Uri.parse(arg);
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId === LanguageId) return editor.document.uri;
  return vscode.window.visibleTextEditors.find((e) => e.document.languageId === LanguageId)?.document.uri;
}

/** At most this many recipes are offered when a command needs one and none is open. */
const MAX_OFFERED = 500;

/**
 * The recipe a command acts on; with none given or open, a way forward instead of a dead end: a pick of
 * the workspace's recipes (the chosen one opens, and the command goes on with it), or, with none in the
 * workspace, a warning offering New Composition Recipe… and Build Demo Workspace. `action` titles the pick.
 */
export async function requireRecipeUri(arg: unknown, action = 'Adapter Composer'): Promise<vscode.Uri | undefined> {
  const uri = recipeUriOf(arg);
  if (uri) return uri;
  const found = await vscode.workspace.findFiles('**/*.compose.{yaml,yml}', '**/node_modules/**', MAX_OFFERED);
  if (found.length === 0) {
    const create = 'New Composition Recipe…';
    const demo = 'Build Demo Workspace';
    const choice = await vscode.window.showWarningMessage(`${action} needs a *.compose.yaml recipe, and this workspace has none.`, create, demo);
    if (choice === create) void vscode.commands.executeCommand(ClientCommands.newRecipe);
    if (choice === demo) void vscode.commands.executeCommand(ClientCommands.buildDemo);
    return undefined;
  }
  const items = found
    .map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)), uri: u }))
    .sort((a, b) => `${a.description}/${a.label}`.localeCompare(`${b.description}/${b.label}`));
  const picked = await vscode.window.showQuickPick(items, { title: `${action}: which recipe?`, placeHolder: 'No recipe is open: pick one from the workspace', matchOnDescription: true });
  if (!picked) return undefined;
  await vscode.window.showTextDocument(picked.uri, { preview: false });
  return picked.uri;
}

/** Same document, same key: the server may encode `file:///a%20b` where VS Code writes `file:///a b`. */
export function uriKey(uri: vscode.Uri | string): string {
  return (typeof uri === 'string' ? vscode.Uri.parse(uri) : uri).toString();
}

export function sameUri(a: vscode.Uri | string, b: vscode.Uri | string): boolean {
  return uriKey(a) === uriKey(b);
}
