/**
 * The Adapter Libraries view (its own activity-bar container): the libraries the workspace uses, their
 * adapters by base model and by tag, a page at a time from the language server (LibraryRequests), and
 * the context actions (card, files, add to the recipe at the cursor, remove from the library).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ClientCommands, LibraryRequests, ServerCommands,
  type LibraryAdapterRow, type LibraryGroup, type LibrarySummary, type StatusParams,
} from '../../server/src/protocol';
import { cliError, runCli } from './cliProcess';
import { recipeUriOf } from './recipeUri';
import { request, runServerCommand, serverMessage } from './serverCommands';
import { requireTrust, WRITE_BACK_REASON } from './workspaceTrust';
import { isRemoteUri } from '../../server/src/engine/location';

export const LIBRARY_VIEW_ID = 'adapterCompose.libraries';
/** Rows fetched per page (and per "Load more…"). */
const PAGE = 100;

export type LibraryNode =
  | { kind: 'library'; summary: LibrarySummary }
  | { kind: 'base'; library: string; group: LibraryGroup }
  | { kind: 'tags'; library: string; group: LibraryGroup }
  | { kind: 'tag'; library: string; base: string; tag: string; count: number }
  | { kind: 'adapter'; library: string; row: LibraryAdapterRow }
  | { kind: 'more'; library: string; key: string; base?: string; tag?: string; loaded: number; total: number }
  | { kind: 'message'; text: string };

interface Paged {
  rows: LibraryAdapterRow[];
  total: number;
}

export class LibraryTree implements vscode.TreeDataProvider<LibraryNode> {
  private readonly changed = new vscode.EventEmitter<LibraryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly pages = new Map<string, Paged>();

  constructor(private readonly client: LanguageClient) {}

  refresh(): void {
    this.pages.clear();
    this.changed.fire(undefined);
  }

  private lastLibrary: string | undefined;
  /** Redraws when the server reports another library or a new size (an adapter added or removed). */
  noteStatus(status: StatusParams): void {
    if (status.libraryUri === undefined || status.librarySize === undefined) return;
    const key = `${status.libraryUri}\n${status.librarySize}`;
    if (this.lastLibrary !== undefined && key !== this.lastLibrary) this.refresh();
    this.lastLibrary = key;
  }

  getTreeItem(node: LibraryNode): vscode.TreeItem {
    switch (node.kind) {
      case 'library': {
        const s = node.summary;
        const item = new vscode.TreeItem(path.basename(s.uri) || s.uri, s.error ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Expanded);
        item.description = s.error ? 'cannot open' : `${s.size} adapter${s.size === 1 ? '' : 's'} · ${s.dim}-d · v${s.version}`;
        item.tooltip = new vscode.MarkdownString([`**${s.uri}**`, '', s.error ?? '', '', `Used by: ${s.usedBy.map((u) => (u === 'setting' ? 'the adapterCompose.libraryUri setting' : vscode.workspace.asRelativePath(vscode.Uri.parse(u)))).join(', ')}`].join('\n'));
        item.iconPath = new vscode.ThemeIcon(s.error ? 'warning' : 'database');
        item.contextValue = 'library';
        return item;
      }
      case 'base': {
        const item = new vscode.TreeItem(node.group.base || '(no base)', vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${node.group.count}`;
        item.iconPath = new vscode.ThemeIcon('symbol-class');
        item.contextValue = 'base';
        return item;
      }
      case 'tags': {
        const item = new vscode.TreeItem('By tag', vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${Object.keys(node.group.tags).length}`;
        item.iconPath = new vscode.ThemeIcon('tag');
        return item;
      }
      case 'tag': {
        const item = new vscode.TreeItem(node.tag, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = `${node.count}`;
        item.iconPath = new vscode.ThemeIcon('tag');
        return item;
      }
      case 'adapter': {
        const r = node.row;
        const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
        item.description = `r=${r.rank} · α=${r.alpha} · ${r.format} · ${r.modules} module${r.modules === 1 ? '' : 's'}${r.bytes !== undefined ? ` · ${bytesText(r.bytes)}` : ''}`;
        item.tooltip = new vscode.MarkdownString([`**${r.name}**`, r.description, `base ${r.base}`, r.tags.length ? `tags: ${r.tags.join(', ')}` : '', r.path].filter(Boolean).join('\n\n'));
        item.iconPath = new vscode.ThemeIcon('extensions');
        item.contextValue = 'adapter';
        item.command = { command: ClientCommands.showAdapterCard, title: 'Show Card', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load more… (${node.loaded} of ${node.total})`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: ClientCommands.libraryLoadMore, title: 'Load more', arguments: [node] };
        return item;
      }
      case 'message':
        return new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    }
  }

  async getChildren(node?: LibraryNode): Promise<LibraryNode[]> {
    try {
      if (!node) {
        const libraries = await request(this.client, LibraryRequests.list, {});
        if (libraries.length === 0) return [{ kind: 'message', text: 'No library: add `library:` to a recipe or set adapterCompose.libraryUri' }];
        return libraries.map((summary) => ({ kind: 'library', summary }));
      }
      switch (node.kind) {
        case 'library': {
          if (node.summary.error) return [{ kind: 'message', text: node.summary.error }];
          const groups = await request(this.client, LibraryRequests.groups, { library: node.summary.uri });
          return groups.map((group) => ({ kind: 'base', library: node.summary.uri, group }));
        }
        case 'base': {
          const tags: LibraryNode[] = Object.keys(node.group.tags).length ? [{ kind: 'tags', library: node.library, group: node.group }] : [];
          return [...tags, ...(await this.paged(node.library, node.group.base))];
        }
        case 'tags':
          return Object.entries(node.group.tags).map(([tag, count]) => ({ kind: 'tag', library: node.library, base: node.group.base, tag, count }));
        case 'tag':
          return this.paged(node.library, node.base, node.tag);
        default:
          return [];
      }
    } catch (e) {
      return [{ kind: 'message', text: `Cannot read the library: ${serverMessage(e)}` }];
    }
  }

  private async paged(library: string, base?: string, tag?: string): Promise<LibraryNode[]> {
    const key = JSON.stringify([library, base ?? null, tag ?? null]);
    let paged = this.pages.get(key);
    if (!paged) {
      const page = await request(this.client, LibraryRequests.page, { library, base, tag, offset: 0, limit: PAGE });
      paged = { rows: page.rows, total: page.total };
      this.pages.set(key, paged);
    }
    const nodes: LibraryNode[] = paged.rows.map((row) => ({ kind: 'adapter', library, row }));
    if (paged.rows.length < paged.total) nodes.push({ kind: 'more', library, key, base, tag, loaded: paged.rows.length, total: paged.total });
    return nodes;
  }

  /** The next page under a "Load more…" node; the parent redraws with it appended. */
  async loadMore(node: Extract<LibraryNode, { kind: 'more' }>): Promise<void> {
    const paged = this.pages.get(node.key);
    if (!paged) return;
    const page = await request(this.client, LibraryRequests.page, { library: node.library, base: node.base, tag: node.tag, offset: paged.rows.length, limit: PAGE });
    paged.rows.push(...page.rows);
    paged.total = page.total;
    this.changed.fire(undefined);
  }
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Adapter cards are read-only virtual documents: `adapter-composer-card:/<name>.md?library=<uri>`. */
export const CARD_SCHEME = 'adapter-composer-card';

function cardUri(library: string, name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CARD_SCHEME, path: `/${name}.md`, query: new URLSearchParams({ library }).toString() });
}

function adapterOf(node: unknown): Extract<LibraryNode, { kind: 'adapter' }> | undefined {
  const n = node as LibraryNode | undefined;
  return n && n.kind === 'adapter' ? n : undefined;
}

/** Registers the view and its commands. */
export function registerLibraryView(context: vscode.ExtensionContext, client: LanguageClient, output: vscode.LogOutputChannel): LibraryTree {
  const tree = new LibraryTree(client);
  const view = vscode.window.createTreeView(LIBRARY_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const command = (id: string, run: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, run));
  context.subscriptions.push(view);
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(CARD_SCHEME, {
    provideTextDocumentContent: async (uri) => {
      const library = new URLSearchParams(uri.query).get('library') ?? '';
      const name = uri.path.replace(/^\//, '').replace(/\.md$/, '');
      return (await request(client, LibraryRequests.card, { library, name })).markdown;
    },
  }));

  command(ClientCommands.refreshLibraries, () => tree.refresh());
  command(ClientCommands.libraryLoadMore, (node) => tree.loadMore(node as Extract<LibraryNode, { kind: 'more' }>));
  command(ClientCommands.showAdapterCard, async (node) => {
    const a = adapterOf(node);
    if (!a) return undefined;
    try {
      // A read-only document of its own (one tab per adapter, reused): an untitled buffer was opened, dirty,
      // on every click, and closing each asked whether to save it.
      const uri = cardUri(a.library, a.row.name);
      const doc = await vscode.workspace.openTextDocument(uri);
      if (doc.languageId !== 'markdown') await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside });
      return doc.getText();
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot show ${a.row.name}: ${serverMessage(e)}`);
      return undefined;
    }
  });
  command(ClientCommands.revealAdapterFiles, async (node) => {
    const a = adapterOf(node);
    if (!a) return;
    if (isRemoteUri(a.row.path)) {
      void vscode.window.showInformationMessage(`${a.row.name} lives at ${a.row.path}`);
      return;
    }
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(a.row.path));
  });
  const addTo = async (node: unknown, as: 'exclude' | 'manual') => {
    const a = adapterOf(node);
    if (!a) return undefined;
    const recipe = recipeUriOf(undefined);
    if (!recipe) {
      void vscode.window.showWarningMessage('Open the recipe to add the adapter to (a *.compose.yaml) first.');
      return undefined;
    }
    if (!requireTrust(`Adding ${a.row.name} to the recipe`, WRITE_BACK_REASON)) return undefined;
    try {
      return await runServerCommand(client, ServerCommands.addToRecipe, [recipe.toString(), a.row.name, as]);
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot add ${a.row.name}: ${serverMessage(e)}`);
      return undefined;
    }
  };
  command(ClientCommands.addToRecipe, (node) => addTo(node, 'exclude'));
  command(ClientCommands.addManualToRecipe, (node) => addTo(node, 'manual'));
  command(ClientCommands.removeFromLibrary, async (node) => {
    const a = adapterOf(node);
    if (!a) return false;
    if (!requireTrust('Removing an adapter from the library', 'it deletes a row of the library')) return false;
    const yes = 'Remove';
    const choice = await vscode.window.showWarningMessage(
      `Remove ${a.row.name} from the library ${path.basename(a.library)}? Its files stay on disk; recipes that name it will report it unknown.`,
      { modal: true }, yes,
    );
    if (choice !== yes) return false;
    const result = await runCli(context, ['library', 'rm', a.library, a.row.name], isRemoteUri(a.library) ? undefined : path.dirname(a.library));
    output.info(`library rm ${a.row.name}: exit ${result.code}`);
    if (result.code !== 0) {
      void vscode.window.showErrorMessage(`Could not remove ${a.row.name}: ${cliError(result)}`);
      return false;
    }
    tree.refresh();
    return true;
  });
  return tree;
}
