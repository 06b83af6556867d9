/** `workspace/executeCommand` requests to the server, with an optional work-done token and cancellation. */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type ProgressToken } from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';

export function runServerCommand<T>(
  client: LanguageClient,
  command: string,
  args: unknown[],
  options: { workDoneToken?: ProgressToken; cancel?: vscode.CancellationToken } = {},
): Promise<T> {
  const params = { command, arguments: args, ...(options.workDoneToken === undefined ? {} : { workDoneToken: options.workDoneToken }) };
  return options.cancel
    ? client.sendRequest(ExecuteCommandRequest.type, params, options.cancel) as Promise<T>
    : client.sendRequest(ExecuteCommandRequest.type, params) as Promise<T>;
}

/** The server's message of a failed request, without the stack or the JSON-RPC wrapping. */
export function serverMessage(error: unknown): string {
  const message = (error as { message?: unknown })?.message;
  const text = typeof message === 'string' && message ? message : String(error);
  return text.replace(/^Request \S+ failed with message: /, '').split('\n    at ')[0];
}
