/**
 * The client's side of the contract in server/src/protocol.ts: requests, notifications and
 * `workspace/executeCommand` calls, typed by method (parameters in, result out). The only place the
 * client sends or listens for a custom method.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type ProgressToken } from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { CommandArgs, CommandResult, NotificationMethod, NotificationTypes, RequestMethod, RequestParams, RequestResult, ServerCommand } from '../../server/src/protocol';

/** A server command; its result, or null when the server answers nothing. */
export function runServerCommand<C extends ServerCommand>(
  client: LanguageClient,
  command: C,
  args: CommandArgs<C>,
  options: { workDoneToken?: ProgressToken; cancel?: vscode.CancellationToken } = {},
): Promise<CommandResult<C> | null> {
  const params = { command, arguments: args, ...(options.workDoneToken === undefined ? {} : { workDoneToken: options.workDoneToken }) };
  return (options.cancel
    ? client.sendRequest(ExecuteCommandRequest.type, params, options.cancel)
    : client.sendRequest(ExecuteCommandRequest.type, params)) as Promise<CommandResult<C> | null>;
}

/** A custom request (protocol.ts RequestTypes). */
export function request<M extends RequestMethod>(client: LanguageClient, method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
  return client.sendRequest<RequestResult<M>>(method, params);
}

/** Listens for a custom notification (protocol.ts NotificationTypes). */
export function onNotification<M extends NotificationMethod>(client: LanguageClient, method: M, handler: (params: NotificationTypes[M]) => void): vscode.Disposable {
  return client.onNotification(method, handler);
}

/** The server's message of a failed request, without the stack or the JSON-RPC wrapping. */
export function serverMessage(error: unknown): string {
  const message = (error as { message?: unknown })?.message;
  const text = typeof message === 'string' && message ? message : String(error);
  return text.replace(/^Request \S+ failed with message: /, '').split('\n    at ')[0];
}
