/**
 * Workspace Trust: an untrusted workspace gets validation and planning (they only read the recipe and the
 * library), but nothing that writes adapters or runs a recipe's evaluate command.
 */
import * as vscode from 'vscode';

/** True when trusted; otherwise says why `action` is refused (without waiting for the user) and returns false. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  void vscode.window.showWarningMessage(
    `${action} is disabled in an untrusted workspace: it reads adapter weights, writes a new adapter and may run the recipe's evaluate command. Trust this workspace to enable it.`,
    manage,
  ).then((choice) => (choice === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
  return false;
}
