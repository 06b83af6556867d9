/**
 * Compose: runs the server's compose command with a work-done token and shows its `$/progress` in a
 * cancellable notification; then offers to reveal the composite adapter and open the lock file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands, ServerCommands } from '../../server/src/protocol';
import { composeSummary, type ComposeSummaryInput } from './composeSummary';
import { runServerCommand, serverMessage } from './serverCommands';
import { withServerProgress } from './serverProgress';
import { requireTrust } from './workspaceTrust';
import { sameUri } from './recipeUri';

/** What the server's compose returns; only the fields the client uses, read tolerantly. */
export interface ComposeResult {
  output?: string;
  lock?: string;
  [key: string]: unknown;
}

export async function composeRecipe(client: LanguageClient, uri: vscode.Uri, output: vscode.LogOutputChannel): Promise<ComposeResult | undefined> {
  if (!requireTrust('Compose')) return undefined;
  const document = vscode.workspace.textDocuments.find((d) => sameUri(d.uri, uri));
  if (document?.isDirty) await document.save(); // the lock records the recipe as saved on disk
  const name = path.basename(uri.fsPath);
  output.info(`compose ${uri.fsPath}`);
  const started = Date.now();
  try {
    const result = await withServerProgress(client, {
      title: `Composing ${name}`,
      kind: 'compose',
      onReport: (message) => { if (message) output.debug(`compose: ${message}`); },
      onCancel: () => output.info('compose cancelled by the user'),
    }, (workDoneToken, cancel) => runServerCommand(client, ServerCommands.compose, [uri.toString()], { workDoneToken, cancel }));
    // read tolerantly: a server of another version may name the fields differently
    const composed = normalizeResult({ ...(result ?? {}) }, uri);
    output.info(`composed ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s → ${composed.output ?? '(no output reported)'}`);
    void offerResults(composed, uri);
    return composed;
  } catch (e) {
    const message = serverMessage(e);
    if (/cancel/i.test(message)) {
      void vscode.window.showInformationMessage(`Compose of ${name} was cancelled.`);
      return undefined;
    }
    output.error(`compose ${name}: ${message}`);
    const show = 'Show Output';
    void vscode.window.showErrorMessage(`Compose failed: ${message}`, show).then((c) => { if (c === show) output.show(true); });
    return undefined;
  }
}

function pick(result: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof result[k] === 'string' && result[k]) return result[k];
  return undefined;
}

function normalizeResult(result: Record<string, unknown>, uri: vscode.Uri): ComposeResult {
  const lockDefault = uri.fsPath.replace(/(\.compose)?\.ya?ml$/i, '') + '.compose.lock';
  const output = pick(result, 'output', 'outputDir', 'output_dir', 'path');
  return {
    ...result,
    output: output && !path.isAbsolute(output) ? path.resolve(path.dirname(uri.fsPath), output) : output,
    lock: pick(result, 'lock', 'lockFile', 'lock_file', 'lockPath') ?? lockDefault,
  };
}

/** The size of the files compose wrote (paths relative to the output folder, or absolute). */
function writtenBytes(result: ComposeResult): number | undefined {
  const files = Array.isArray(result.files) ? (result.files as { path?: unknown }[]) : [];
  let total = 0;
  let any = false;
  for (const f of files) {
    if (typeof f?.path !== 'string') continue;
    try {
      total += fs.statSync(path.isAbsolute(f.path) ? f.path : path.resolve(result.output ?? '', f.path)).size;
      any = true;
    } catch { /* a file that went away is not counted */ }
  }
  return any ? total : undefined;
}

async function offerResults(result: ComposeResult, uri: vscode.Uri): Promise<void> {
  const reveal = 'Reveal Adapter';
  const openLock = 'Open Lock File';
  const metrics = 'Show Metrics';
  const evaluation = (result as ComposeSummaryInput).evaluation;
  const choice = await vscode.window.showInformationMessage(
    composeSummary(result as ComposeSummaryInput, result.output ? path.basename(result.output) : 'the adapter', writtenBytes(result)) + '.',
    ...(evaluation ? [metrics] : []),
    ...(result.output ? [reveal] : []),
    ...(result.lock ? [openLock] : []),
  );
  if (choice === metrics) {
    // The weights panel's "Evaluation runs" section charts this run beside the earlier ones.
    await vscode.commands.executeCommand(ClientCommands.showChart, uri);
  } else if (choice === reveal && result.output) {
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.output)).then(undefined, () =>
      vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.output as string)));
  } else if (choice === openLock && result.lock) {
    await vscode.window.showTextDocument(vscode.Uri.file(result.lock), { preview: false });
  }
}
