/**
 * Run Leave-One-Out Evaluation: the server's evaluate command (the library's leave-one-out protocol with the
 * recipe's k, ρ/λ and base, and its evaluator's metrics per strategy) with its `$/progress` shown both in a
 * cancellable notification and in the weights panel, which can cancel it too.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ServerCommands, type EvaluationResult, type EvaluationView } from '../../server/src/protocol';
import { runServerCommand, serverMessage } from './serverCommands';
import { withServerProgress } from './serverProgress';
import { requireTrust } from './workspaceTrust';

export interface EvaluationHooks {
  /** Every change: running (with progress), done, failed, cancelled. */
  onState(view: EvaluationView): void;
  /** Cancels the run when requested (the panel's Cancel button). */
  cancel?: vscode.CancellationToken;
}

export async function evaluateRecipe(client: LanguageClient, uri: vscode.Uri, output: vscode.LogOutputChannel, hooks: EvaluationHooks): Promise<EvaluationResult | undefined> {
  if (!requireTrust('The leave-one-out evaluation', 'it reads every adapter of the library and runs the recipe\'s evaluator')) return undefined;
  const name = path.basename(uri.fsPath);
  output.info(`leave-one-out evaluation of ${uri.fsPath}`);
  hooks.onState({ state: 'running', message: 'starting', percentage: 0 });
  let cancelled = false;
  try {
    const result = await withServerProgress(client, {
      title: `Leave-one-out evaluation of ${name}`,
      kind: 'evaluate',
      cancel: hooks.cancel,
      onReport: (message, percentage) => hooks.onState({ state: 'running', message, percentage }),
      onCancel: () => { cancelled = true; output.info('evaluation cancelled by the user'); },
    }, (workDoneToken, cancel) => runServerCommand(client, ServerCommands.evaluate, [uri.toString()], { workDoneToken, cancel }));
    if (!result) throw new Error('the server answered no evaluation');
    output.info(`evaluated ${name} in ${(result.total_ms / 1000).toFixed(1)} s: ${result.leaveOneOut.targets.length} held-out adapters`);
    hooks.onState({ state: 'done', result });
    return result;
  } catch (e) {
    const message = serverMessage(e);
    if (cancelled || /cancel/i.test(message)) {
      hooks.onState({ state: 'cancelled', message: 'Cancelled: nothing was kept.' });
      void vscode.window.showInformationMessage(`The leave-one-out evaluation of ${name} was cancelled.`);
      return undefined;
    }
    output.error(`evaluate ${name}: ${message}`);
    hooks.onState({ state: 'failed', message });
    void vscode.window.showErrorMessage(`Leave-one-out evaluation failed: ${message}`);
    return undefined;
  }
}
