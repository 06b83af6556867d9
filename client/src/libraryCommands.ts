/** Open Library (browse its adapters) and Add Adapter to Library, through the CLI's `library` commands. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AdapterRecord } from '../../server/src/engine/types';
import { cliError, runCli } from './cliProcess';
import type { PlanStore } from './planStore';
import { recipeUriOf } from './recipeUri';
import { readSettings } from './settings';
import type { StatusItem } from './statusItem';
import { requireTrust } from './workspaceTrust';

/** The library in play: the active recipe's (from its plan), the server's status, then the setting. */
export function currentLibrary(plans: PlanStore, status: StatusItem): string | undefined {
  const recipe = recipeUriOf(undefined);
  const fromPlan = recipe ? plans.get(recipe)?.plan?.library?.uri : undefined;
  const candidates = [fromPlan, status.last?.libraryUri, readSettings(recipe).libraryUri].filter((x): x is string => Boolean(x));
  const chosen = candidates[0];
  if (!chosen) return undefined;
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(chosen) || path.isAbsolute(chosen)) return chosen;
  const base = recipe ? path.dirname(recipe.fsPath) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return base ? path.resolve(base, chosen) : chosen;
}

async function askLibrary(plans: PlanStore, status: StatusItem): Promise<string | undefined> {
  const known = currentLibrary(plans, status);
  if (known) return known;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as Library', title: 'Adapter library (LanceDB folder)' });
  return picked?.[0]?.fsPath;
}

export async function openLibrary(context: vscode.ExtensionContext, plans: PlanStore, status: StatusItem, output: vscode.LogOutputChannel): Promise<AdapterRecord[] | undefined> {
  const library = await askLibrary(plans, status);
  if (!library) return undefined;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Reading the adapter library' },
    () => runCli(context, ['library', 'list', '--library', library, '--json']));
  if (result.code !== 0) {
    output.error(`library list ${library}: ${result.stderr.trim()}`);
    void vscode.window.showErrorMessage(`Cannot open the library ${library}: ${cliError(result)}`);
    return undefined;
  }
  let adapters: AdapterRecord[];
  try {
    const parsed = JSON.parse(result.stdout) as AdapterRecord[] | { adapters: AdapterRecord[] };
    adapters = Array.isArray(parsed) ? parsed : parsed.adapters ?? [];
  } catch {
    void vscode.window.showErrorMessage(`The library list of ${library} is not JSON; see the output.`);
    output.error(result.stdout.slice(0, 2000));
    return undefined;
  }
  const items = adapters.map((a) => ({
    label: a.name,
    description: `${a.base} · rank ${a.rank} · ${a.format}`,
    detail: [a.description, a.tags?.length ? `tags: ${a.tags.join(', ')}` : ''].filter(Boolean).join(' — ') || a.path,
    adapter: a,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: `Library ${path.basename(library)} — ${adapters.length} adapter${adapters.length === 1 ? '' : 's'}`,
    placeHolder: 'Pick an adapter to reveal its files',
    matchOnDescription: true, matchOnDetail: true,
  });
  if (pick?.adapter.path && !/^[a-z][a-z0-9+.-]+:\/\//i.test(pick.adapter.path)) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(pick.adapter.path));
  }
  return adapters;
}

export async function addAdapter(context: vscode.ExtensionContext, plans: PlanStore, status: StatusItem, output: vscode.LogOutputChannel): Promise<boolean> {
  if (!(await requireTrust('Adding an adapter'))) return false;
  const adapter = await vscode.window.showOpenDialog({
    canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Add to Library',
    title: 'LoRA adapter (a PEFT folder or a .safetensors file)', filters: { 'LoRA adapter': ['safetensors', 'bin', 'npz'] },
  });
  if (!adapter?.[0]) return false;
  const adapterPath = adapter[0].fsPath;
  const name = await vscode.window.showInputBox({
    title: 'Adapter name', value: path.basename(adapterPath).replace(/\.(safetensors|bin|npz)$/i, ''),
    validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'letters, digits, ".", "-" and "_" only'),
  });
  if (!name) return false;
  const base = await vscode.window.showInputBox({ title: 'Base model', placeHolder: 'e.g. meta-llama/Llama-3.2-1B (leave empty to read it from adapter_config.json)' });
  if (base === undefined) return false;
  const samples = await vscode.window.showOpenDialog({
    canSelectFiles: true, canSelectMany: false, openLabel: 'Use for the Prototype',
    title: 'Samples of the adapter\'s task (text lines, .npy features or a prototype vector)',
    filters: { Samples: ['txt', 'jsonl', 'json', 'npy'] },
  });
  if (!samples?.[0]) return false;
  const library = await askLibrary(plans, status);
  if (!library) return false;

  const args = ['library', 'add', adapterPath, '--library', library, '--name', name, '--samples', samples[0].fsPath];
  if (base) args.push('--base', base);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding ${name} to the library`, cancellable: true },
    (_progress, cancel) => runCli(context, args, path.dirname(library), cancel),
  );
  output.info(`library add ${name}: exit ${result.code}`);
  if (result.stderr.trim()) output.info(result.stderr.trim());
  if (result.code !== 0) {
    void vscode.window.showErrorMessage(`Could not add ${name}: ${cliError(result)}`);
    return false;
  }
  void vscode.window.showInformationMessage(`Added ${name} to ${path.basename(library)}.`);
  return true;
}
