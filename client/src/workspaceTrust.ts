/**
 * Workspace Trust: an untrusted workspace gets validation and planning (they only read the recipe and the
 * library), but nothing that writes adapters, edits recipes for the user, reads every adapter's weights or
 * runs a recipe's evaluator.
 */
import * as vscode from 'vscode';

const DEFAULT_REASON = 'it reads adapter weights, writes a new adapter and may run the recipe\'s evaluate command';

/** Why the write-backs (λ/ρ from the panel, Pin Weights, Add to Recipe) wait for trust. */
export const WRITE_BACK_REASON = 'it edits the recipe for you, and the recipe decides what Compose writes and which evaluator runs';

/** The refusals shown so far in this session, newest last (the extension-host tests read them). */
export const refusals: string[] = [];

/**
 * True when trusted; otherwise says why `action` is refused and how to trust the workspace (without waiting
 * for the user), and returns false.
 */
export function requireTrust(action: string, reason = DEFAULT_REASON): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const message = `${action} is disabled in an untrusted workspace: ${reason}. To enable it, trust this workspace (${manage}, or the Restricted Mode item in the status bar).`;
  refusals.push(message);
  if (refusals.length > 20) refusals.shift();
  void vscode.window.showWarningMessage(message, manage)
    .then((choice) => (choice === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
  return false;
}
