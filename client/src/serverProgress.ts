/**
 * A long server command (compose, evaluate) shown as a cancellable notification: a work-done token of
 * the client's choosing, the server's `$/progress` turned into VS Code's relative increments, and a
 * cancel — from the notification or from the caller (the weights panel's Cancel) — sent to the server
 * as `window/workDoneProgress/cancel` and to the request itself.
 */
import * as vscode from 'vscode';
import { WorkDoneProgress, WorkDoneProgressCancelNotification } from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';

let jobCount = 0;

export interface ServerProgressOptions {
  /** The notification's title. */
  title: string;
  /** Names the token (`adapter-composer-<kind>-<pid>-<n>`; a token, not a method). */
  kind: string;
  /** Each report: the message and the absolute percentage so far. */
  onReport?(message: string | undefined, percentage: number): void;
  /** Logged once when the user cancels. */
  onCancel?(): void;
  /** A second source of cancellation besides the notification's button. */
  cancel?: vscode.CancellationToken;
}

export async function withServerProgress<R>(client: LanguageClient, options: ServerProgressOptions,
  run: (workDoneToken: string, cancel: vscode.CancellationToken) => Promise<R>): Promise<R> {
  const token = `adapter-composer-${options.kind}-${process.pid}-${++jobCount}`;
  const source = new vscode.CancellationTokenSource();
  const external = options.cancel?.onCancellationRequested(() => source.cancel());
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: options.title, cancellable: true }, async (progress, cancel) => {
      let reported = 0;
      const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
        if (value.kind === 'end') return;
        // LSP percentages are absolute; VS Code's increments are relative.
        const increment = value.percentage === undefined ? undefined : Math.max(0, value.percentage - reported);
        if (value.percentage !== undefined) reported = Math.max(reported, value.percentage);
        progress.report({ message: value.message, increment });
        options.onReport?.(value.message, reported);
      });
      const onCancel = cancel.onCancellationRequested(() => source.cancel());
      const notify = source.token.onCancellationRequested(() => {
        options.onCancel?.();
        void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
      });
      try {
        return await run(token, source.token);
      } finally {
        listener.dispose();
        onCancel.dispose();
        notify.dispose();
      }
    });
  } finally {
    external?.dispose();
    source.dispose();
  }
}
