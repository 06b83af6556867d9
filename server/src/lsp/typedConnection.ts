/**
 * The server's side of the contract in server/src/protocol.ts: custom requests and notifications,
 * typed by method. Handlers receive the client's parameters as `Untrusted` (every field still to be
 * checked) and must answer the declared result; notifications must carry the declared parameters.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { CommandResult, NotificationMethod, NotificationTypes, RequestMethod, RequestParams, RequestResult, ServerCommand, Untrusted } from '../protocol';

export function onRequest<M extends RequestMethod>(connection: Connection, method: M, handler: (params: Untrusted<RequestParams<M>>) => Promise<RequestResult<M>>): void {
  connection.onRequest(method, (params: unknown) => handler((params ?? {}) as Untrusted<RequestParams<M>>));
}

export function notify<M extends NotificationMethod>(connection: Connection, method: M, params: NotificationTypes[M]): void {
  void connection.sendNotification(method, params);
}

/** A command's answer, checked against its declared result (the executeCommand handler itself is untyped). */
export function commandResult<C extends ServerCommand>(_command: C, result: CommandResult<C>): CommandResult<C> {
  return result;
}
