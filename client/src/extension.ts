/**
 * Adapter Composer for VS Code: a thin client. The language server (dist/cli.js lsp) does the work;
 * this file wires its notifications to the status bar and the weights panel, and registers the commands.
 */
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ClientCommands, CompareRequest, LanguageId, PlanNotification, ServerCommands, StatusNotification, type CommandArgs, type CommandResult, type CompareResult, type ServerCommand,
} from '../../server/src/protocol';
import { STRATEGIES, type Strategy } from '../../server/src/engine/types';
import { composeRecipe, type ComposeResult } from './composeCommand';
import { createLanguageClient } from './languageClient';
import { addAdapter, openLibrary } from './libraryCommands';
import { LibraryMapPanel } from './libraryMapPanel';
import { registerLibraryView } from './libraryTree';
import { newRecipe } from './newRecipe';
import { buildDemo } from './demoCommand';
import { PlanStore } from './planStore';
import { requireRecipeUri } from './recipeUri';
import { onNotification, request, runServerCommand, serverMessage } from './serverCommands';
import { StartupTimes, type StartupMark } from './startupTimes';
import { StatusItem } from './statusItem';
import { WeightsPanel } from './weightsPanel';
import { refusals, requireTrust, WRITE_BACK_REASON } from './workspaceTrust';

/** What activate() returns: for extension-host tests and other extensions. */
export interface AdapterComposerApi {
  client: LanguageClient;
  plans: PlanStore;
  status: StatusItem;
  weightsPanel(): WeightsPanel | undefined;
  libraryMap(): LibraryMapPanel | undefined;
  /** The Workspace Trust refusals shown so far (why, and how to trust), newest last. */
  trustRefusals(): readonly string[];
  /** Milliseconds from activate() to: server ready, library shown, first recipe opened, first code lens (those reached so far). */
  startupTimes(): Partial<Record<StartupMark, number>>;
  /** The extension's log folder (the output channel's log file, with the startup times, is written there). */
  logUri: vscode.Uri;
  /** `workspace/executeCommand` on the server (ServerCommands, typed by protocol.ts). */
  runServerCommand<C extends ServerCommand>(command: C, args: CommandArgs<C>): Promise<CommandResult<C> | null>;
}

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<AdapterComposerApi> {
  const activated = performance.now();
  // LanguageClient needs a log channel (it calls output.error/info).
  const output = vscode.window.createOutputChannel('Adapter Composer', { log: true });
  const startup = new StartupTimes(activated, output);
  const plans = new PlanStore();
  const status = new StatusItem();
  client = createLanguageClient(context, output, {
    didOpen: (document, next) => {
      if (document.languageId === LanguageId) startup.mark('recipeOpened', vscode.workspace.asRelativePath(document.uri));
      return next(document);
    },
    provideCodeLenses: async (document, token, next) => {
      const lenses = await next(document, token);
      // the first lens of a plan (the unplanned recipe gets a lens without a command)
      if (lenses?.some((l) => l.command?.command === ClientCommands.compose)) startup.mark('lens', vscode.workspace.asRelativePath(document.uri));
      return lenses;
    },
  });
  const lc = client;
  // Start the server first: its process boots while the rest of activate() (synchronous, up to the
  // await below) registers the handlers, commands and views; no notification is handled before that.
  const starting = lc.start();
  context.subscriptions.push(output, plans, status);

  context.subscriptions.push(
    onNotification(lc, StatusNotification, (params) => {
      status.update(params);
      if (params.librarySize !== undefined) startup.mark('library', `${params.librarySize} adapters`);
      libraryTree.noteStatus(params);
    }),
    onNotification(lc, PlanNotification, (params) => plans.accept(params)),
    lc.onDidChangeState((e) => {
      if (e.newState === State.Stopped) status.update({ state: 'error', message: 'The language server stopped. See the output.' });
    }),
    vscode.workspace.onDidCloseTextDocument((d) => plans.forget(d.uri)),
    // Trust unlocks Compose and evaluators on the server side too: restart it with the new trust.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      lc.clientOptions.initializationOptions = { ...(lc.clientOptions.initializationOptions as Record<string, unknown> | undefined), trusted: true };
      void lc.restart();
    }),
  );

  const command = (id: string, run: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, run));

  command(ClientCommands.compose, async (arg): Promise<ComposeResult | undefined> => {
    const uri = await requireRecipeUri(arg, 'Compose');
    if (!uri) return undefined;
    const result = await composeRecipe(lc, uri, output);
    if (result) void WeightsPanel.open?.refreshHistory();
    return result;
  });
  command(ClientCommands.showChart, async (arg) => {
    const uri = await requireRecipeUri(arg, 'Show Weights Chart');
    return WeightsPanel.show(context, lc, plans, output, uri);
  });
  command(ClientCommands.pinWeights, async (arg, strategy) => {
    const uri = await requireRecipeUri(arg, 'Pin Weights');
    if (!uri) return undefined;
    if (!requireTrust('Pin Weights', WRITE_BACK_REASON)) return undefined;
    try {
      // the server ignores a strategy it does not know; only a known one is sent
      return await runServerCommand(lc, ServerCommands.pinWeights, isStrategy(strategy) ? [uri.toString(), strategy] : [uri.toString()]);
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not pin the weights: ${serverMessage(e)}`);
      return undefined;
    }
  });
  command(ClientCommands.evaluate, async (arg) => {
    const uri = await requireRecipeUri(arg, 'Run Leave-One-Out Evaluation');
    if (!uri) return undefined;
    return WeightsPanel.show(context, lc, plans, output, uri).evaluate(uri);
  });
  command(ClientCommands.compareWithHead, async (arg): Promise<CompareResult | undefined> => {
    const uri = await requireRecipeUri(arg, 'Compare with HEAD');
    if (!uri) return undefined;
    try {
      const result = await request(lc, CompareRequest, { uri: uri.toString(), revision: 'HEAD' });
      await WeightsPanel.show(context, lc, plans, output, uri).showComparison(uri, result);
      return result;
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not compare with HEAD: ${serverMessage(e)}`);
      return undefined;
    }
  });
  // Declared here, read by the status handler above: notifications are handled only after activate() awaits.
  const libraryTree = registerLibraryView(context, lc, output);
  command(ClientCommands.addAdapter, async () => {
    const added = await addAdapter(context, plans, status, output);
    if (added) libraryTree.refresh();
    return added;
  });
  command(ClientCommands.showLibraryMap, async (arg) => {
    const uri = await requireRecipeUri(arg, 'Show Library Map');
    if (!uri) return undefined;
    const panel = LibraryMapPanel.show(context, lc, plans, uri);
    return panel.refresh();
  });
  command(ClientCommands.newRecipe, () => newRecipe(context, lc, output));
  command(ClientCommands.buildDemo, () => buildDemo(context, output));
  command(ClientCommands.openLibrary, () => openLibrary(context, plans, status, output));
  command(ClientCommands.showOutput, () => output.show(true));

  try {
    await starting;
    status.update({ state: 'idle', message: 'ready' });
    startup.mark('ready');
  } catch (e) {
    status.update({ state: 'error', message: `The language server did not start: ${serverMessage(e)}` });
    output.error(`language server did not start: ${serverMessage(e)}`);
    void vscode.window.showErrorMessage(`Adapter Composer: the language server did not start (${serverMessage(e)}).`, 'Show Output')
      .then((c) => { if (c) output.show(true); });
  }
  return {
    client: lc, plans, status,
    weightsPanel: () => WeightsPanel.open,
    libraryMap: () => LibraryMapPanel.open,
    trustRefusals: () => refusals,
    startupTimes: () => startup.snapshot(),
    logUri: context.logUri,
    runServerCommand: (command, args) => runServerCommand(lc, command, args),
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

function isStrategy(value: unknown): value is Strategy {
  return typeof value === 'string' && (STRATEGIES as readonly string[]).includes(value);
}
