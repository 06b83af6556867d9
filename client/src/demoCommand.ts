/** "Build Demo Workspace" (the walkthrough's first step): `adapter-composer demo --out <workspace>/demo`. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClientCommands } from '../../server/src/protocol';
import { cliError, runCli } from './cliProcess';
import { requireTrust } from './workspaceTrust';

export async function buildDemo(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<string | undefined> {
  if (!requireTrust('Building the demo', 'it writes a workspace of adapters, a library and recipes')) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) {
    void vscode.window.showWarningMessage('Open a folder first: the demo is built in <folder>/demo.');
    return undefined;
  }
  const out = path.join(folder, 'demo');
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Building the Adapter Composer demo', cancellable: true },
    (_p, cancel) => runCli(context, ['demo', '--out', out], folder, cancel),
  );
  output.info(`demo --out ${out}: exit ${result.code}`);
  if (result.code !== 0) {
    void vscode.window.showErrorMessage(`The demo was not built: ${cliError(result)}`);
    return undefined;
  }
  void vscode.commands.executeCommand(ClientCommands.refreshLibraries);
  void vscode.window.showInformationMessage(`Built the demo in ${path.relative(folder, out)}: open a recipe in demo/recipes.`);
  return out;
}
