/**
 * Drives the real language server over stdio as an editor would: spawn `adapter-composer lsp --stdio`,
 * talk JSON-RPC (vscode-jsonrpc), record notifications. Used by the protocol tests and the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export const REPO_ROOT = path.resolve(__dirname, '../..');

export interface ServerClientOptions {
  workspace: string;
  /** initializationOptions (settings for clients without workspace/configuration). */
  initializationOptions?: unknown;
  /** Extra client capabilities (merged over a plain client's). */
  capabilities?: Record<string, unknown>;
  /** Answer workspace/applyEdit by applying it to our copy of the text. */
  env?: NodeJS.ProcessEnv;
  /** Run the bundled server (dist/cli.js, what users run) instead of the TypeScript sources. */
  bundled?: boolean;
  /** Initialize without a workspace folder (rootUri null, no workspaceFolders), as for a single file. */
  noWorkspaceFolder?: boolean;
}

interface Published {
  uri: string;
  version?: number;
  diagnostics: Diagnostic[];
}

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity?: number;
  code?: string | number;
  source?: string;
  message: string;
  data?: unknown;
  tags?: number[];
}

export class ServerClient {
  readonly connection: MessageConnection;
  readonly child: ChildProcess;
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly appliedEdits: unknown[] = [];
  readonly progress: unknown[] = [];
  stderr = '';
  lensRefreshes = 0;
  private readonly versions = new Map<string, number>();
  private readonly listeners: Array<() => void> = [];

  constructor(readonly options: ServerClientOptions) {
    const entry = options.bundled ? [path.join(REPO_ROOT, 'dist/cli.js')] : ['--import', 'tsx', path.join(REPO_ROOT, 'server/src/cli/main.ts')];
    this.child = spawn(process.execPath, [...entry, 'lsp', '--stdio'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    this.child.stderr!.on('data', (d) => (this.stderr += String(d)));
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification((method, params) => {
      this.notifications.push({ method, params });
      for (const l of this.listeners.splice(0)) l();
    });
    this.connection.onUnhandledProgress((p) => {
      this.progress.push(p);
      this.notifications.push({ method: '$/progress', params: p });
    });
    this.connection.onRequest('workspace/applyEdit', (params) => {
      this.appliedEdits.push(params);
      return { applied: true };
    });
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => null));
    this.connection.onRequest('workspace/codeLens/refresh', () => {
      this.lensRefreshes++;
      return null;
    });
    this.connection.onRequest('workspace/inlayHint/refresh', () => null);
    this.connection.listen();
  }

  async initialize(): Promise<unknown> {
    const rootUri = this.options.noWorkspaceFolder ? null : pathToFileURL(this.options.workspace).toString();
    const result = await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: rootUri ? [{ uri: rootUri, name: 'ws' }] : null,
      capabilities: { window: { workDoneProgress: true }, ...(this.options.capabilities ?? {}) },
      initializationOptions: this.options.initializationOptions,
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  open(file: string, text: string, languageId = 'adapter-compose'): string {
    const uri = pathToFileURL(file).toString();
    this.versions.set(uri, 1);
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return uri;
  }

  change(uri: string, text: string): number {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  close(uri: string): void {
    void this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  request<R = unknown>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest<R>(method, params);
  }

  /** Waits for a notification matching `predicate` that arrives after `since` (an index into notifications). */
  async waitFor<P = unknown>(method: string, predicate: (p: P) => boolean = () => true, timeoutMs = 20000, since = 0): Promise<P> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = since; i < this.notifications.length; i++) {
        const n = this.notifications[i];
        if (n.method === method && predicate(n.params as P)) return n.params as P;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${method}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.listeners.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  diagnosticsFor(uri: string, version?: number, timeoutMs?: number, since = 0): Promise<Published> {
    return this.waitFor<Published>('textDocument/publishDiagnostics', (p) => p.uri === uri && (version === undefined || p.version === version), timeoutMs, since);
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
      void this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.connection.dispose();
  }
}
