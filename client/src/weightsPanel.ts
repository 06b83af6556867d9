/**
 * The weights chart panel: a webview that follows the active recipe. It holds no logic: it gets a ViewState
 * (plan + history + trust + the leave-one-out evaluation) and posts back the λ the user picks, which the server
 * writes into the recipe, and the requests to run or cancel the evaluation.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands, LanguageId, ServerCommands, type CompareResult, type EvaluationResult, type EvaluationView, type HostMessage, type RunHistoryEntry, type ViewMessage, type ViewState } from '../../server/src/protocol';
import type { PlanStore } from './planStore';
import { evaluateRecipe } from './evaluateCommand';
import { runServerCommand, serverMessage } from './serverCommands';
import { sameUri } from './recipeUri';
import { requireTrust, WRITE_BACK_REASON } from './workspaceTrust';

export class WeightsPanel implements vscode.Disposable {
  static readonly viewType = 'adapterCompose.weights';
  private static current: WeightsPanel | undefined;

  private uri: vscode.Uri | undefined;
  private history: RunHistoryEntry[] = [];
  private lockSha256: string | undefined;
  private comparison: CompareResult | undefined;
  /** The leave-one-out evaluation per recipe URI (kept while the panel lives), and the cancel of the running one. */
  private readonly evaluations = new Map<string, EvaluationView>();
  private readonly running = new Map<string, vscode.CancellationTokenSource>();
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

  /** Runs the leave-one-out evaluation of `uri` and shows its progress and result here. */
  async evaluate(uri: vscode.Uri): Promise<EvaluationResult | undefined> {
    const key = uri.toString();
    if (this.running.has(key)) return undefined;
    if (this.uri?.toString() !== key) await this.follow(uri);
    const source = new vscode.CancellationTokenSource();
    this.running.set(key, source);
    const previous = this.evaluations.get(key);
    const kept = previous && 'result' in previous ? previous.result : undefined;
    try {
      return await evaluateRecipe(this.client, uri, this.output, {
        cancel: source.token,
        onState: (view) => {
          // A failed or cancelled run keeps the last result on screen, marked as such.
          this.evaluations.set(key, (view.state === 'failed' || view.state === 'cancelled') && kept ? { ...view, result: kept } : view);
          if (this.uri?.toString() === key) this.post();
        },
      });
    } finally {
      this.running.delete(key);
      source.dispose();
      if (this.evaluations.get(key)?.state === 'running') this.evaluations.delete(key); // refused: nothing ran
      if (this.uri?.toString() === key) this.post();
    }
  }

  /** Cancels the running evaluation of `uri` (the panel's Cancel button); false when none runs. */
  cancelEvaluation(uri: vscode.Uri | string): boolean {
    const source = this.running.get(uri.toString());
    source?.cancel();
    return Boolean(source);
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
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { script: 'webview.js', style: 'webview.css', title: 'Adapter Weights' });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: ViewMessage) => this.receive(m)),
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
      ...(this.evaluations.has(this.uri.toString()) ? { evaluation: this.evaluations.get(this.uri.toString()) } : {}),
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

  /** A message from the webview (public so the extension-host tests can act as the webview). */
  async receive(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post();
        return;
      case 'setLambda':
        if (!requireTrust('Writing ρ/λ into the recipe', WRITE_BACK_REASON)) return;
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
      case 'evaluate':
        await this.evaluate(vscode.Uri.parse(message.uri));
        return;
      case 'cancelEvaluation':
        this.cancelEvaluation(message.uri);
        return;
    }
  }

  dispose(): void {
    WeightsPanel.current = undefined;
    for (const source of this.running.values()) source.cancel();
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
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
