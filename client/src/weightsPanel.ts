/**
 * The weights chart panel: a webview that follows the active recipe. It holds no logic: it gets a ViewState
 * (plan + history + trust) and posts back the λ the user picks, which the server writes into the recipe.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands, LanguageId, ServerCommands, type CompareResult, type HostMessage, type RunHistoryEntry, type ViewMessage, type ViewState } from '../../server/src/protocol';
import type { PlanStore } from './planStore';
import { runServerCommand, serverMessage } from './serverCommands';
import { sameUri } from './recipeUri';

export class WeightsPanel implements vscode.Disposable {
  static readonly viewType = 'adapterCompose.weights';
  private static current: WeightsPanel | undefined;

  private uri: vscode.Uri | undefined;
  private history: RunHistoryEntry[] = [];
  private lockSha256: string | undefined;
  private comparison: CompareResult | undefined;
  private ready = false;
  /** The last message sent to the webview (extension-host tests read it). */
  lastMessage: HostMessage | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(context: vscode.ExtensionContext, client: LanguageClient, plans: PlanStore, output: vscode.LogOutputChannel, uri?: vscode.Uri): WeightsPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    if (WeightsPanel.current) {
      WeightsPanel.current.panel.reveal(column, true);
    } else {
      const panel = vscode.window.createWebviewPanel(WeightsPanel.viewType, 'Adapter Weights', { viewColumn: column, preserveFocus: true }, {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist')],
      });
      WeightsPanel.current = new WeightsPanel(panel, context, client, plans, output);
    }
    if (uri) void WeightsPanel.current.follow(uri);
    return WeightsPanel.current;
  }

  static get open(): WeightsPanel | undefined {
    return WeightsPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    context: vscode.ExtensionContext,
    private readonly client: LanguageClient,
    private readonly plans: PlanStore,
    private readonly output: vscode.LogOutputChannel,
  ) {
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'icons', 'recipe-dark.svg');
    panel.webview.html = panelHtml(panel.webview, context.extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: ViewMessage) => this.onMessage(m)),
      panel.onDidChangeViewState(() => { if (panel.visible) this.post(); }),
      plans.onDidChange((p) => { if (this.uri && p.uri && sameUri(p.uri, this.uri)) this.post(); }),
      vscode.window.onDidChangeActiveTextEditor((e) => { if (e?.document.languageId === LanguageId) void this.follow(e.document.uri); }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.post()),
    );
    const active = vscode.window.activeTextEditor?.document;
    if (active?.languageId === LanguageId) void this.follow(active.uri);
  }

  /** Shows `uri`'s plan: from the store when the server already sent one, else asked for. */
  async follow(uri: vscode.Uri): Promise<void> {
    const changed = this.uri?.toString() !== uri.toString();
    this.uri = uri;
    if (changed) {
      this.history = [];
      this.comparison = undefined;
    }
    this.post();
    if (!this.plans.get(uri)?.plan) {
      try {
        const plan = await runServerCommand(this.client, ServerCommands.plan, [uri.toString()]);
        if (plan && !this.plans.get(uri)?.plan) this.plans.accept({ uri: uri.toString(), version: -1, plan });
      } catch (e) {
        this.output.warn(`plan of ${uri.fsPath}: ${serverMessage(e)}`);
      }
    }
    if (changed) await this.refreshHistory();
  }

  async refreshHistory(): Promise<void> {
    const uri = this.uri;
    if (!uri) return;
    try {
      const runs = await runServerCommand(this.client, ServerCommands.history, [uri.toString()]);
      this.history = Array.isArray(runs) ? runs : [];
    } catch (e) {
      this.output.debug(`history of ${uri.fsPath}: ${serverMessage(e)}`);
      this.history = [];
    }
    this.lockSha256 = lockHash(uri);
    this.post();
  }

  /** Shows a comparison of `uri`'s lock (the panel follows `uri` first). */
  async showComparison(uri: vscode.Uri, comparison: CompareResult): Promise<void> {
    if (this.uri?.toString() !== uri.toString()) await this.follow(uri);
    this.comparison = comparison;
    this.post();
  }

  private state(): ViewState | undefined {
    if (!this.uri) return undefined;
    const held = this.plans.get(this.uri);
    return {
      uri: this.uri.toString(),
      fileName: this.uri.path.split('/').pop() ?? this.uri.path,
      version: held?.version,
      plan: held?.plan ?? null,
      stale: Boolean(held?.error && held.plan),
      error: held?.error,
      history: this.history,
      ...(this.lockSha256 ? { lockSha256: this.lockSha256 } : {}),
      trusted: vscode.workspace.isTrusted,
      ...(this.comparison ? { comparison: this.comparison } : {}),
    };
  }

  private post(): void {
    if (!this.ready) return;
    const state = this.state();
    const message: HostMessage = state ? { type: 'state', state } : { type: 'empty', message: 'Open a *.compose.yaml recipe to see its weights.' };
    this.lastMessage = message;
    if (state) this.panel.title = `Weights: ${state.fileName}`;
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post();
        return;
      case 'setLambda':
        try {
          await runServerCommand(this.client, ServerCommands.setLambda, [message.uri, message.lambda]);
        } catch (e) {
          void vscode.window.showErrorMessage(`Could not set λ: ${serverMessage(e)}`);
        }
        return;
      case 'compose':
        await vscode.commands.executeCommand(ClientCommands.compose, message.uri);
        await this.refreshHistory();
        return;
    }
  }

  dispose(): void {
    WeightsPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = Array.from({ length: 32 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 62)]).join('');
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', name));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('webview.css')}">
<title>Adapter Weights</title>
</head>
<body>
<main id="root"></main>
<script nonce="${nonce}" src="${asset('webview.js')}"></script>
</body>
</html>`;
}

/** sha256 of the recipe's lock file (`x.compose.yaml` → `x.compose.lock`), as the run history records it. */
function lockHash(recipe: vscode.Uri): string | undefined {
  if (recipe.scheme !== 'file') return undefined;
  try {
    return createHash('sha256').update(fs.readFileSync(recipe.fsPath.replace(/(\.compose)?\.ya?ml$/i, '') + '.compose.lock')).digest('hex');
  } catch {
    return undefined; // no lock yet
  }
}
