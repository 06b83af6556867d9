/**
 * The library map panel: asks the server for the map of the active recipe's library (LibraryRequests.map),
 * posts it to the webview (dist/libraryMap.js), redraws when the recipe is re-planned, and turns a click
 * on a point into the server's "toggle in exclude" edit. No logic of its own.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import type { LanguageClient } from 'vscode-languageclient/node';
import { LanguageId, LibraryRequests, ServerCommands, type LibraryMap, type MapHostMessage, type MapViewMessage } from '../../server/src/protocol';
import type { PlanStore } from './planStore';
import { request, runServerCommand, serverMessage } from './serverCommands';
import { sameUri } from './recipeUri';

export class LibraryMapPanel implements vscode.Disposable {
  static readonly viewType = 'adapterCompose.libraryMap';
  private static current: LibraryMapPanel | undefined;
  private uri: vscode.Uri | undefined;
  private ready = false;
  /** The last message sent to the webview (extension-host tests read it). */
  lastMessage: MapHostMessage | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(context: vscode.ExtensionContext, client: LanguageClient, plans: PlanStore, uri?: vscode.Uri): LibraryMapPanel {
    if (LibraryMapPanel.current) LibraryMapPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
    else {
      const panel = vscode.window.createWebviewPanel(LibraryMapPanel.viewType, 'Library Map', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist')],
      });
      LibraryMapPanel.current = new LibraryMapPanel(panel, context, client, plans);
    }
    if (uri) void LibraryMapPanel.current.follow(uri);
    return LibraryMapPanel.current;
  }

  static get open(): LibraryMapPanel | undefined {
    return LibraryMapPanel.current;
  }

  private constructor(private readonly panel: vscode.WebviewPanel, context: vscode.ExtensionContext, private readonly client: LanguageClient, plans: PlanStore) {
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { script: 'libraryMap.js', style: 'libraryMap.css', title: 'Library Map' });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: MapViewMessage) => this.onMessage(m)),
      plans.onDidChange((p) => { if (this.uri && p.uri && sameUri(p.uri, this.uri)) void this.refresh(); }),
      vscode.window.onDidChangeActiveTextEditor((e) => { if (e?.document.languageId === LanguageId) void this.follow(e.document.uri); }),
    );
  }

  async follow(uri: vscode.Uri): Promise<void> {
    this.uri = uri;
    await this.refresh();
  }

  /** Fetches the map of the followed recipe and posts it. */
  async refresh(): Promise<LibraryMap | undefined> {
    if (!this.uri) return undefined;
    let message: MapHostMessage;
    let map: LibraryMap | undefined;
    try {
      map = await request(this.client, LibraryRequests.map, { uri: this.uri.toString() });
      message = { type: 'map', uri: this.uri.toString(), fileName: path.basename(this.uri.fsPath), map };
      this.panel.title = `Library Map: ${path.basename(this.uri.fsPath)}`;
    } catch (e) {
      message = { type: 'empty', message: `No map yet: ${serverMessage(e)}` };
    }
    this.lastMessage = message;
    if (this.ready) void this.panel.webview.postMessage(message);
    return map;
  }

  private async onMessage(m: MapViewMessage): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      if (this.lastMessage) void this.panel.webview.postMessage(this.lastMessage);
      return;
    }
    if (m.type === 'toggleExclude') {
      try {
        await runServerCommand(this.client, ServerCommands.addToRecipe, [m.uri, m.name, 'toggle-exclude']);
      } catch (e) {
        void vscode.window.showErrorMessage(`Could not change exclude: ${serverMessage(e)}`);
      }
    }
  }

  dispose(): void {
    LibraryMapPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}

