/**
 * The connection's lifecycle: initialize (the client's capabilities, workspace folder, settings and
 * trust; the server's capabilities), initialized (dynamic registrations, the library watch, the first
 * settings read and status), shutdown (timers stopped, running jobs aborted, the planner disposed).
 */
import { CodeActionKind, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, TextDocumentSyncKind } from 'vscode-languageserver/node';
import type { InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { ServerCommands } from '../protocol';
import { toolVersion } from '../engine/version';
import { refreshSettings } from './configuration';
import { readSettings } from './settings';
import type { ServerState } from './serverState';

export function registerLifecycle(state: ServerState): void {
  const { connection } = state;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    state.capabilities = params.capabilities;
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    state.workspaceRoot = folder ? state.fileOf(folder) : params.rootPath ?? undefined;
    const init = params.initializationOptions as Record<string, unknown> | undefined;
    const settings = readSettings(init?.settings ?? init);
    // Trust only from initialize, and only when the client says so (top level or in the settings).
    settings.trusted = settings.trusted || init?.trusted === true;
    state.settings = settings;
    state.initiallyTrusted = settings.trusted;
    state.initialSettings = settings;
    state.log.level = settings.logLevel;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: [':', '/'], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: true,
        executeCommandProvider: { commands: Object.values(ServerCommands) },
        workspace: { workspaceFolders: { supported: true } },
      },
      serverInfo: { name: 'adapter-composer', version: toolVersion },
    };
  });

  connection.onInitialized(() => {
    const { capabilities } = state;
    state.libraryWatch.start(state.settings.libraryPollMs);
    if (capabilities.workspace?.didChangeConfiguration?.dynamicRegistration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'adapterCompose' }).catch(() => undefined);
    }
    if (capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      // Samples, prototypes, locks and library tables: any of them changes a plan.
      void connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.{npy,lock,json,jsonl,txt,png,jpg,jpeg,webp,lance,manifest,txn,safetensors,onnx}' }, { globPattern: '**/*.compose.lock.json' }] })
        .catch(() => undefined);
    }
    void refreshSettings(state);
    state.sendStatus({ state: 'idle', provider: state.settings.executionProvider });
  });

  connection.onShutdown(async () => {
    state.libraryWatch.stop();
    state.scheduler.dispose();
    state.libraryViews.dispose();
    for (const c of state.composing.values()) c.abort();
    for (const c of state.evaluating.values()) c.abort();
    await state.planner.dispose().catch(() => undefined);
  });
}
