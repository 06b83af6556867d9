/** The status bar item: library size, encoder and execution provider; spins while the server works. */
import * as vscode from 'vscode';
import { ClientCommands, type StatusParams } from '../../server/src/protocol';
import { statusFacts } from './statusText';

export class StatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('adapterCompose.status', vscode.StatusBarAlignment.Left, 10);
  /** The last status the server sent (tests and Open Library read it). */
  last: StatusParams | undefined;

  constructor() {
    this.item.name = 'Adapter Composer';
    this.item.command = ClientCommands.openLibrary;
    this.update({ state: 'busy', message: 'starting the language server' });
    this.item.show();
  }

  update(status: StatusParams): void {
    this.last = { ...this.last, ...status };
    const s = this.last;
    const facts = statusFacts(s);
    const icon = status.state === 'busy' ? '$(sync~spin)' : status.state === 'error' ? '$(error)' : '$(layers)';
    this.item.text = `${icon} ${facts}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown('**Adapter Composer**\n\n');
    if (s.libraryUri) tooltip.appendMarkdown(`Library: \`${s.libraryUri}\`\n\n`);
    if (s.encoder) tooltip.appendMarkdown(`Encoder: ${s.encoder}\n\n`);
    if (s.provider) tooltip.appendMarkdown(`Execution provider: ${s.provider}\n\n`);
    if (status.message) tooltip.appendText(status.message + '\n\n');
    tooltip.appendMarkdown('Click to open the library');
    this.item.tooltip = tooltip;
    this.item.backgroundColor = status.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const detail = facts.replace(/^Adapter Composer( · )?/, '');
    this.item.accessibilityInformation = { label: `Adapter Composer: ${status.state}${detail ? `, ${detail}` : ''}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
