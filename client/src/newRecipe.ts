/**
 * "New Composition Recipe…": pick a library (those the workspace uses, or a folder), a target (samples
 * folder or file), a strategy and a file name, then `adapter-composer new` writes the commented recipe
 * and it opens. The CLI does the work (same text as on the command line).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { LibraryRequests, type LibrarySummary } from '../../server/src/protocol';
import { request } from './serverCommands';
import { cliError, runCli } from './cliProcess';
import { DEFAULT_STRATEGY, recipeFilePath, strategyItems } from './newRecipeChoices';

export async function newRecipe(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  let known: LibrarySummary[];
  try {
    known = (await request(client, LibraryRequests.list, {})).filter((l) => !l.error);
  } catch {
    known = [];
  }
  const browse = { label: '$(folder-opened) Choose a library folder…', uri: undefined as string | undefined };
  const picks = [...known.map((l) => ({ label: path.basename(l.uri), description: `${l.size} adapters · ${l.uri}`, uri: l.uri })), browse];
  const pickedLibrary = picks.length === 1 ? browse : await vscode.window.showQuickPick(picks, { title: 'New recipe (1/4): the adapter library' });
  if (!pickedLibrary) return undefined;
  let library = pickedLibrary.uri;
  if (!library) {
    const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as Library', title: 'Adapter library (a LanceDB folder)', defaultUri: folder });
    library = chosen?.[0]?.fsPath;
  }
  if (!library) return undefined;
  const target = await vscode.window.showOpenDialog({
    canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Use as Target', defaultUri: folder,
    title: 'New recipe (2/4): the target — a folder of samples, a sample file, or an .npy prototype / features',
  });
  if (!target?.[0]) return undefined;
  const picked = await vscode.window.showQuickPick(strategyItems(), { title: 'New recipe (3/4): the weights strategy', placeHolder: `${DEFAULT_STRATEGY} (the default, first) picks few adapters`, matchOnDescription: true });
  if (!picked) return undefined;
  const strategy = picked.label;
  const file = await vscode.window.showSaveDialog({
    title: 'New recipe (4/4): where to save it', saveLabel: 'Create Recipe',
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${path.basename(target[0].fsPath).replace(/\.[^.]+$/, '') || 'composite'}.compose.yaml`) : undefined,
    // `yaml`, not `compose.yaml`: code-server's dialog compared the filter with the last extension only and
    // appended it again (grammar-02.compose.yaml.compose.yaml); recipeFilePath makes the name end right
    filters: { 'Composition recipe': ['yaml'] },
  });
  if (!file) return undefined;
  const fsPath = recipeFilePath(file.fsPath);
  const result = await runCli(context, ['new', fsPath, '--library', library, '--target', target[0].fsPath, '--strategy', strategy], path.dirname(fsPath));
  output.info(`new ${fsPath}: exit ${result.code}`);
  if (result.code !== 0) {
    void vscode.window.showErrorMessage(`Could not create the recipe: ${cliError(result)}`);
    return undefined;
  }
  const uri = vscode.Uri.file(fsPath);
  await vscode.window.showTextDocument(uri);
  return uri;
}
