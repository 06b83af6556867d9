/**
 * Run Leave-One-Out Evaluation: the server's evaluate command (the library's leave-one-out protocol with the
 * recipe's k, ρ/λ and base, and its evaluator's metrics per strategy) with its `$/progress` shown both in a
 * cancellable notification and in the weights panel, which can cancel it too.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WorkDoneProgress, WorkDoneProgressCancelNotification } from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ServerCommands, type EvaluationResult, type EvaluationView } from '../../server/src/protocol';
import { runServerCommand, serverMessage } from './serverCommands';
import { requireTrust } from './workspaceTrust';

let evaluationCount = 0;

export interface EvaluationHooks {
  /** Every change: running (with progress), done, failed, cancelled. */
  onState(view: EvaluationView): void;
  /** Cancels the run when requested (the panel's Cancel button). */
  cancel?: vscode.CancellationToken;
}

export async function evaluateRecipe(client: LanguageClient, uri: vscode.Uri, output: vscode.LogOutputChannel, hooks: EvaluationHooks): Promise<EvaluationResult | undefined> {
  if (!requireTrust('The leave-one-out evaluation', 'it reads every adapter of the library and runs the recipe\'s evaluator')) return undefined;
  const name = path.basename(uri.fsPath);
  // a work-done token of the client's choosing (not a method)
  const token = `adapter-composer-evaluate-${process.pid}-${++evaluationCount}`;
  const source = new vscode.CancellationTokenSource();
  const external = hooks.cancel?.onCancellationRequested(() => source.cancel());
  output.info(`leave-one-out evaluation of ${uri.fsPath}`);
  hooks.onState({ state: 'running', message: 'starting', percentage: 0 });
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Leave-one-out evaluation of ${name}`, cancellable: true },
      async (progress, cancel) => {
        let reported = 0;
        const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
          if (value.kind === 'end') return;
          const increment = value.percentage === undefined ? undefined : Math.max(0, value.percentage - reported);
          if (value.percentage !== undefined) reported = Math.max(reported, value.percentage);
          progress.report({ message: value.message, increment });
          hooks.onState({ state: 'running', message: value.message, percentage: reported });
        });
        const onCancel = cancel.onCancellationRequested(() => source.cancel());
        const notify = source.token.onCancellationRequested(() => {
          output.info('evaluation cancelled by the user');
          void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        });
        try {
          return await runServerCommand(client, ServerCommands.evaluate, [uri.toString()], { workDoneToken: token, cancel: source.token });
        } finally {
          listener.dispose();
          onCancel.dispose();
          notify.dispose();
        }
      },
    );
    if (!result) throw new Error('the server answered no evaluation');
    output.info(`evaluated ${name} in ${(result.total_ms / 1000).toFixed(1)} s: ${result.leaveOneOut.targets.length} held-out adapters`);
    hooks.onState({ state: 'done', result });
    return result;
  } catch (e) {
    const message = serverMessage(e);
    if (source.token.isCancellationRequested || /cancel/i.test(message)) {
      hooks.onState({ state: 'cancelled', message: 'Cancelled: nothing was kept.' });
      void vscode.window.showInformationMessage(`The leave-one-out evaluation of ${name} was cancelled.`);
      return undefined;
    }
    output.error(`evaluate ${name}: ${message}`);
    hooks.onState({ state: 'failed', message });
    void vscode.window.showErrorMessage(`Leave-one-out evaluation failed: ${message}`);
    return undefined;
  } finally {
    external?.dispose();
    source.dispose();
  }
}
