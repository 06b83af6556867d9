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
import { isRemoteUri } from '../../server/src/engine/location';
import { chooseLibrary } from './libraryChoice';


/** The library in play: the active recipe's (from its plan), the server's status, then the setting. */
export function currentLibrary(plans: PlanStore, status: StatusItem): string | undefined {
  const recipe = recipeUriOf(undefined);
  return chooseLibrary({
    fromPlan: recipe ? plans.get(recipe)?.plan?.library?.uri : undefined,
    fromStatus: status.last?.libraryUri,
    setting: readSettings(recipe).libraryUri,
    recipeFile: recipe?.fsPath,
    // the server's workspace root: the first folder
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
}

async function askLibrary(plans: PlanStore, status: StatusItem): Promise<string | undefined> {
  const known = currentLibrary(plans, status);
  if (known) return known;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as Library', title: 'Adapter library (a LanceDB folder)' });
  return picked?.[0]?.fsPath;
}

export async function openLibrary(context: vscode.ExtensionContext, plans: PlanStore, status: StatusItem, output: vscode.LogOutputChannel): Promise<AdapterRecord[] | undefined> {
  const library = await askLibrary(plans, status);
  if (!library) return undefined;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Reading the adapter library' },
    () => runCli(context, ['library', 'ls', library, '--json']));
  if (result.code !== 0) {
    output.error(`library ls ${library}: ${result.stderr.trim()}`);
    void vscode.window.showErrorMessage(`Cannot open the library ${library}: ${cliError(result)}`);
    return undefined;
  }
  let adapters: AdapterRecord[];
  try {
    const parsed = JSON.parse(result.stdout) as AdapterRecord[] | { adapters: AdapterRecord[] };
    adapters = Array.isArray(parsed) ? parsed : parsed.adapters ?? [];
  } catch {
    output.error(result.stdout.slice(0, 2000));
    void vscode.window.showErrorMessage(`The adapter list of ${library} is not JSON; see the output.`);
    return undefined;
  }
  const items = adapters.map((a) => ({
    label: a.name,
    description: `${a.base} · rank ${a.rank} · ${a.format}`,
    detail: [a.description, a.tags?.length ? `tags: ${a.tags.join(', ')}` : ''].filter(Boolean).join(' — ') || a.path,
    adapter: a,
  }));
  // Not awaited: the command resolves with the list (tests, other extensions) while the pick stays open.
  void vscode.window.showQuickPick(items, {
    title: `Library ${path.basename(library)}: ${adapters.length} adapter${adapters.length === 1 ? '' : 's'}`,
    placeHolder: 'Pick an adapter to reveal its files',
    matchOnDescription: true, matchOnDetail: true,
  }).then((pick) => {
    if (pick?.adapter.path && !isRemoteUri(pick.adapter.path)) return vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(pick.adapter.path));
    return undefined;
  });
  return adapters;
}

export async function addAdapter(context: vscode.ExtensionContext, plans: PlanStore, status: StatusItem, output: vscode.LogOutputChannel): Promise<boolean> {
  if (!requireTrust('Adding an adapter', 'it runs the library\'s encoder on your samples and writes to the library')) return false;
  const adapter = await vscode.window.showOpenDialog({
    canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Add to Library',
    title: 'LoRA adapter (a PEFT folder or a .safetensors file)',
  });
  if (!adapter?.[0]) return false;
  const adapterPath = adapter[0].fsPath;
  const name = await vscode.window.showInputBox({
    title: 'Adapter name', value: path.basename(adapterPath).replace(/\.(safetensors|bin|npz)$/i, ''),
    validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'letters, digits, ".", "-" and "_" only'),
  });
  if (!name) return false;
  const base = await vscode.window.showInputBox({ title: 'Base model', placeHolder: 'e.g. meta-llama/Llama-3.2-1B (empty: read it from adapter_config.json)' });
  if (base === undefined) return false;
  const source = await askPrototypeSource();
  if (!source) return false;
  const library = await askLibrary(plans, status);
  if (!library) return false;

  // adapter-composer library add <uri> <adapter-path> --name N [--base B] (--prototype | --features | --samples)
  const args = ['library', 'add', library, adapterPath, '--name', name, source.flag, source.value];
  if (base) args.push('--base', base);
  if (source.flag === '--samples') args.push('--provider', readSettings().executionProvider);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Adding ${name} to the library`, cancellable: true },
    (_progress, cancel) => runCli(context, args, isRemoteUri(library) ? undefined : path.dirname(library), cancel),
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

/** Where the new adapter's prototype comes from: samples of its task (encoded), a features matrix, or the vector. */
async function askPrototypeSource(): Promise<{ flag: '--samples' | '--features' | '--prototype'; value: string } | undefined> {
  const kinds = [
    { label: 'Samples of the task', description: 'a folder or file of texts, images or .npy rows, run through the library encoder', flag: '--samples' as const },
    { label: 'Features', description: 'an .npy matrix of encoded samples (rows are averaged)', flag: '--features' as const },
    { label: 'Prototype', description: 'an .npy vector: the prototype itself', flag: '--prototype' as const },
  ];
  const kind = await vscode.window.showQuickPick(kinds, { title: "The adapter's prototype", placeHolder: 'What describes the task this adapter was trained for?' });
  if (!kind) return undefined;
  const samples = kind.flag === '--samples';
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true, canSelectFolders: samples, canSelectMany: false, openLabel: 'Use for the Prototype', title: kind.label,
    ...(samples ? {} : { filters: { 'NumPy array': ['npy'] } }),
  });
  const uri = picked?.[0];
  if (!uri) return undefined;
  // --samples takes a glob: a folder means every file in it
  const isFolder = samples && (await vscode.workspace.fs.stat(uri)).type === vscode.FileType.Directory;
  return { flag: kind.flag, value: isFolder ? `${uri.fsPath.replace(/\\/g, '/')}/*` : uri.fsPath };
}
