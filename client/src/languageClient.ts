/** Starts the bundled language server (dist/cli.js lsp) over node IPC. */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type Middleware, type ServerOptions } from 'vscode-languageclient/node';
import { LanguageId } from '../../server/src/protocol';
import { readSettings, type Settings } from './settings';

/** What the server reads from `initializationOptions` (and again on every configuration change). */
export type ServerInitOptions = Settings;

export function initOptions(): ServerInitOptions {
  return { ...readSettings(), trusted: vscode.workspace.isTrusted };
}

export function createLanguageClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel, middleware?: Middleware): LanguageClient {
  const module = context.asAbsolutePath('dist/cli.js');
  // TransportKind.ipc appends --node-ipc and --clientProcessId=… itself.
  const serverOptions: ServerOptions = {
    // MALLOC_ARENA_MAX: LanceDB's worker threads would each get a glibc arena; two keep the server ~30 MB smaller.
    run: { module, transport: TransportKind.ipc, args: ['lsp'], options: { env: { ...process.env, MALLOC_ARENA_MAX: '2' } } },
    debug: { module, transport: TransportKind.ipc, args: ['lsp'], options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: LanguageId }],
    outputChannel: output,
    initializationOptions: initOptions(),
    synchronize: {
      configurationSection: 'adapterCompose',
      fileEvents: [
        vscode.workspace.createFileSystemWatcher('**/*.compose.yaml'),
        // a library commit (CLI `library add`) writes a new manifest
        vscode.workspace.createFileSystemWatcher('**/*.lance/_versions/*.manifest'),
      ],
    },
    markdown: { isTrusted: false, supportHtml: false },
    ...(middleware ? { middleware } : {}),
  };
  return new LanguageClient('adapterCompose', 'Adapter Composer', serverOptions, clientOptions);
}
