/**
 * Workspace Trust: an untrusted workspace gets validation and planning (they only read the recipe and the
 * library), but nothing that writes adapters or runs a recipe's evaluator command.
 */
import * as vscode from 'vscode';

/** True when trusted; otherwise says why `action` is refused and offers to manage trust. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(
    `${action} is disabled in an untrusted workspace: it reads adapter weights, writes a new adapter and may run the recipe's evaluate command. Trust this workspace to ${action.toLowerCase()}.`,
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
