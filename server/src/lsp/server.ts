/**
 * The language server: capabilities, document sync, per-document planning, the editor features of
 * server/src/service, commands (plan, compose in a worker with progress, pin weights, set λ), status
 * and plan notifications. Any LSP client works (VS Code, Neovim, Helix): nothing here assumes VS Code.
 * Why ~580 lines in one file: every handler closes over the connection's state (open documents, the plan
 * scheduler, settings, running jobs); the features themselves live in server/src/service (one per file),
 * the compose/evaluate jobs in composeRunner.ts, the typed wiring in typedConnection.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  WorkDoneProgressReporter,
  createConnection,
} from 'vscode-languageserver/node';
import type { ClientCapabilities, Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { readRecipeHistory } from '../engine/history/runHistory';
import { createPlanner } from '../engine/planner';
import type { Planner } from '../engine/planner';
import type { Strategy } from '../engine/types';
import { STRATEGIES } from '../engine/types';
import { CompareRequest, LibraryRequests, PlanNotification, ServerCommands, StatusNotification } from '../protocol';
import type { CommandResult, PlanParams, StatusParams } from '../protocol';
import { LibraryViews, addToRecipeEdit, libraryCard, recipeLibraries } from '../service/libraryView';
import { resolveLocation } from '../engine/location';
import { codeActions } from '../service/codeActions';
import { codeLenses } from '../service/codeLens';
import { compareWithRevision } from '../service/compare';
import { pinWeightsEdit, setLambdaEdit } from '../service/commands';
import { completion } from '../service/completion';
import { definition } from '../service/definition';
import { diagnostics } from '../service/diagnostics';
import { hover } from '../service/hover';
import { inlayHints } from '../service/inlayHints';
import { documentUri, planningFileOf, savedFileOf } from '../service/documentUri';
import { RecipeDocument } from '../service/recipeDocument';
import { RecipeSchema, loadRecipeSchema } from '../service/recipeSchema';
import { documentSymbols } from '../service/symbols';
import type { RecipeView } from '../service/recipeView';
import { ComposeFailure, runCompose, runEvaluation } from './composeRunner';
import { diskFiles } from './diskFiles';
import { LibraryWatch } from './libraryWatch';
import { PlanScheduler } from './planScheduler';
import type { TrackedRecipe } from './planScheduler';
import { ServerLog, describeError } from './serverLog';
import { commandResult, notify, onRequest } from './typedConnection';
import { DEFAULT_SETTINGS, readSettings, settingLibrary } from './settings';
import type { ServerSettings } from './settings';
import { toolVersion } from '../engine/version';
import { readTextSafe } from '../engine/safeRead';
import { boundedDocuments } from './boundedDocuments';
import { isComposerError } from '../engine/errors';

export interface LanguageServerOptions {
  /** The engine to plan with (tests pass a fake); default: the engine's planner. */
  planner?: Planner;
}

/** How long a lens / inlay-hint / code-action request waits for the plan of the current text. */
const FRESH_PLAN_WAIT_MS = 3000;

export function startLanguageServer(argv: string[] = process.argv.slice(2), options: LanguageServerOptions = {}): Connection {
  // createConnection picks the transport from process.argv (and patches console for --stdio).
  for (const flag of ['--stdio', '--node-ipc']) if (argv.includes(flag) && !process.argv.includes(flag)) process.argv.push(flag);
  const socket = argv.find((a) => a.startsWith('--socket=') || a.startsWith('--pipe='));
  if (socket && !process.argv.includes(socket)) process.argv.push(socket);

  const connection = createConnection(ProposedFeatures.all);
  const log = new ServerLog(connection.console);
  // Bounded: a huge buffer's edits cost O(1) and it is reported as too large, never parsed.
  const documents = new TextDocuments(boundedDocuments);
  const planner = options.planner ?? createPlanner();
  const schemaJson = loadRecipeSchema();
  const schema = schemaJson ? new RecipeSchema(schemaJson) : undefined;

  let settings: ServerSettings = { ...DEFAULT_SETTINGS };
  let capabilities: ClientCapabilities = {};
  let workspaceRoot: string | undefined;
  let initiallyTrusted = false;
  let initialSettings: ServerSettings = { ...DEFAULT_SETTINGS };
  let lastStatus: StatusParams = { state: 'idle' };
  const composing = new Map<string, AbortController>();
  const evaluating = new Map<string, AbortController>();
  /**
   * Recipes whose code lenses the client has fetched: only a plan of one of them asks for a refresh.
   * Before its first fetch the client has a request pending (VS Code waits a debounce after the
   * recipe opens); a refresh then would only restart that wait (~0.4 s later first lens, measured).
   */
  const lensesFetched = new Set<string>();

  /** The engine's options from the current settings: the one place they are built (plans, commands, compose). */
  const engineOptions = () => ({ workspaceRoot, provider: settings.executionProvider, libraryUri: settings.libraryUri });

  const scheduler = new PlanScheduler(planner, {
    planOptions: engineOptions,
    debounceMs: () => settings.debounceMs,
    onPlanned: (recipe) => publish(recipe),
    onBusyChange: (busy) => sendStatus({ state: busy || composing.size > 0 ? 'busy' : 'idle' }),
    logError: (message, error) => log.error(message, error),
  });

  const libraryViews = new LibraryViews();

  const libraryWatch = new LibraryWatch((libraryPath) => {
    log.info(`library changed on disk: ${libraryPath}`);
    planner.invalidate({ libraryUri: libraryPath });
    libraryViews.invalidate(libraryPath);
    scheduler.replanAll();
  });

  /** An exception in a feature becomes an empty answer and one log line, never a dead server. */
  function guarded<A extends unknown[], R>(name: string, fallback: R, handler: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      try {
        return await handler(...args);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        log.error(`${name} failed`, e);
        return fallback;
      }
    };
  }

  function sendStatus(update: Partial<StatusParams>): void {
    lastStatus = { ...lastStatus, ...update };
    if (lastStatus.message === undefined) delete lastStatus.message;
    notify(connection, StatusNotification, lastStatus);
  }

  function publish(recipe: TrackedRecipe): void {
    const view = scheduler.currentView(recipe);
    void connection.sendDiagnostics({ uri: recipe.uri, version: recipe.version, diagnostics: diagnostics(view) });
    const outcome = recipe.outcome;
    if (!outcome?.isRecipe) return;
    const plan = outcome.plan;
    const firstError = outcome.problems.find((p) => p.severity === 'error');
    const params: PlanParams = { uri: recipe.uri, version: recipe.version, plan: plan ?? null };
    if (!plan) params.error = firstError?.message ?? 'The recipe cannot be planned yet.';
    notify(connection, PlanNotification, params);
    if (plan?.library) {
      sendStatus({
        librarySize: plan.library.size,
        libraryUri: plan.library.uri,
        encoder: plan.library.encoder ? encoderLabel(plan.library.encoder) : undefined,
        provider: plan.provider ?? planner.lastProvider() ?? lastStatus.provider,
        message: undefined,
      });
    } else if (firstError) {
      sendStatus({ message: firstError.message });
    }
    libraryWatch.setLibraries(scheduler.all().flatMap((r) => (r.outcome?.plan?.library?.uri ? [r.outcome.plan.library.uri] : [])));
    if (capabilities.workspace?.codeLens?.refreshSupport && lensesFetched.has(recipe.uri)) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    if (capabilities.workspace?.inlayHint?.refreshSupport) void connection.languages.inlayHint.refresh().catch(() => undefined);
  }

  function fileOf(uri: string): string {
    return planningFileOf(uri, workspaceRoot);
  }

  function isYamlDocument(doc: TextDocument): boolean {
    return doc.languageId === 'adapter-compose' || doc.languageId === 'yaml' || /\.ya?ml$/i.test(doc.uri);
  }

  async function refreshSettings(): Promise<void> {
    if (!capabilities.workspace?.configuration) return;
    try {
      const raw: unknown = await connection.workspace.getConfiguration('adapterCompose');
      // Clients without these settings answer null: keep what initializationOptions said.
      applySettings(readSettings(raw, initialSettings));
    } catch (e) {
      log.warn(`could not read settings: ${describeError(e)}`);
    }
  }

  function applySettings(next: ServerSettings): void {
    // Trust comes with initialize (the client restarts the server when it changes); settings cannot grant it.
    next.trusted = next.trusted && initiallyTrusted;
    const changed = JSON.stringify(next) !== JSON.stringify(settings);
    settings = next;
    log.level = next.logLevel;
    libraryWatch.start(next.libraryPollMs);
    if (changed) {
      planner.invalidate();
      scheduler.replanAll();
    }
  }

  /** The view of an open recipe (features answer only for open documents; commands use requireView). */
  function recipeView(uri: string, waitMs: number): Promise<RecipeView | undefined> {
    return scheduler.view(uri, waitMs);
  }


  connection.onInitialize((params: InitializeParams): InitializeResult => {
    capabilities = params.capabilities;
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    workspaceRoot = folder ? fileOf(folder) : params.rootPath ?? undefined;
    const init = params.initializationOptions as Record<string, unknown> | undefined;
    settings = readSettings(init?.settings ?? init);
    // Trust only from initialize, and only when the client says so (top level or in the settings).
    settings.trusted = settings.trusted || init?.trusted === true;
    initiallyTrusted = settings.trusted;
    initialSettings = settings;
    log.level = settings.logLevel;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        completionProvider: { triggerCharacters: [':', '/'], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        documentSymbolProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
        codeLensProvider: { resolveProvider: false },
        inlayHintProvider: true,
        executeCommandProvider: { commands: Object.values(ServerCommands) },
        workspace: { workspaceFolders: { supported: true } },
      },
      serverInfo: { name: 'adapter-composer', version: toolVersion },
    };
  });

  connection.onInitialized(() => {
    libraryWatch.start(settings.libraryPollMs);
    if (capabilities.workspace?.didChangeConfiguration?.dynamicRegistration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'adapterCompose' }).catch(() => undefined);
    }
    if (capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      // Samples, prototypes, locks and library tables: any of them changes a plan.
      void connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.{npy,lock,json,jsonl,txt,png,jpg,jpeg,webp,lance,manifest,txn,safetensors,onnx}' }, { globPattern: '**/*.compose.lock.json' }] })
        .catch(() => undefined);
    }
    void refreshSettings();
    sendStatus({ state: 'idle', provider: settings.executionProvider });
  });

  connection.onDidChangeConfiguration(
    guarded('configuration', undefined, async (change) => {
      if (capabilities.workspace?.configuration) await refreshSettings();
      else applySettings(readSettings((change.settings as Record<string, unknown> | undefined) ?? {}, initialSettings));
    }),
  );

  connection.onDidChangeWatchedFiles(
    guarded('watched files', undefined, (change) => {
      // The planner fingerprints samples and reads the library version on every plan: re-planning is enough.
      if (change.changes.length) scheduler.replanAll(100);
    }),
  );

  documents.onDidChangeContent((change) => {
    try {
      const doc = change.document;
      if (!isYamlDocument(doc)) return;
      scheduler.update(doc.uri, fileOf(doc.uri), doc.version, doc.getText());
    } catch (e) {
      log.error('document change failed', e);
    }
  });

  documents.onDidSave((change) => {
    // The saved recipe is what compose and the lock read: re-check the on-disk facts (stale lock).
    if (scheduler.get(change.document.uri)) scheduler.replanAll(0);
  });

  documents.onDidClose((change) => {
    scheduler.close(change.document.uri);
    lensesFetched.delete(change.document.uri);
    void connection.sendDiagnostics({ uri: change.document.uri, diagnostics: [] });
  });

  connection.onCodeLens(guarded('code lens', [], async (params) => {
    try {
      const view = await recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
      return view ? codeLenses(view) : [];
    } finally {
      // answered (a request waiting for a plan gets that plan, so that plan needs no refresh)
      lensesFetched.add(params.textDocument.uri);
    }
  }));

  connection.languages.inlayHint.on(guarded('inlay hints', [], async (params) => {
    const view = await recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
    return view ? inlayHints(view, params.range) : [];
  }));

  connection.onCompletion(guarded('completion', { isIncomplete: false, items: [] }, async (params) => {
    const view = await recipeView(params.textDocument.uri, 0);
    return view ? completion(view, params.position, schema, diskFiles) : { isIncomplete: false, items: [] };
  }));

  connection.onHover(guarded('hover', null, async (params) => {
    const view = await recipeView(params.textDocument.uri, 0);
    return view ? hover(view, params.position, schema) : null;
  }));

  connection.onDefinition(guarded('definition', [], async (params) => {
    const view = await recipeView(params.textDocument.uri, 0);
    return view ? definition(view, params.position, diskFiles) : [];
  }));

  connection.onDocumentSymbol(guarded('document symbols', [], async (params) => {
    const view = await recipeView(params.textDocument.uri, 0);
    return view ? documentSymbols(view) : [];
  }));

  connection.onCodeAction(guarded('code actions', [], async (params) => {
    const view = await recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
    return view ? codeActions(view, params.range, params.context.diagnostics, schema) : [];
  }));

  connection.onExecuteCommand(async (params, token, workDone) => {
    const args: unknown[] = params.arguments ?? [];
    const uri = typeof args[0] === 'string' ? args[0] : undefined;
    try {
      if (!uri) throw userError(`${params.command} needs the recipe's URI as its first argument`);
      switch (params.command) {
        case ServerCommands.plan: {
          const view = await requireView(uri);
          if (!view.outcome?.plan) throw userError(firstProblem(view) ?? 'The recipe cannot be planned yet.');
          return commandResult(ServerCommands.plan, view.outcome.plan);
        }
        case ServerCommands.pinWeights: {
          const view = await requireView(uri);
          const strategy = typeof args[1] === 'string' && (STRATEGIES as readonly string[]).includes(args[1]) ? (args[1] as Strategy) : undefined;
          const edit = pinWeightsEdit(view, strategy);
          if (!edit) throw userError(firstProblem(view) ?? 'No computed weights to pin yet.');
          const result = await connection.workspace.applyEdit({ label: 'Pin weights', edit });
          return commandResult(ServerCommands.pinWeights, { applied: result.applied });
        }
        case ServerCommands.setLambda: {
          const view = await requireView(uri);
          const lambda = typeof args[1] === 'number' ? args[1] : Number(args[1]);
          let edit;
          try {
            edit = setLambdaEdit(view, lambda);
          } catch (e) {
            throw userError((e as Error).message);
          }
          const result = await connection.workspace.applyEdit({ label: 'Set λ', edit });
          return commandResult(ServerCommands.setLambda, { applied: result.applied });
        }
        case ServerCommands.addToRecipe: {
          const view = await requireView(uri);
          const name = typeof args[1] === 'string' ? args[1] : '';
          const as = args[2] === 'manual' || args[2] === 'toggle-exclude' ? args[2] : 'exclude';
          if (!name) throw userError(`${ServerCommands.addToRecipe} needs [uri, adapter, as]`);
          let edit;
          try {
            edit = addToRecipeEdit(view, name, as);
          } catch (e) {
            throw userError((e as Error).message);
          }
          const label = as === 'manual' ? `Add ${name} to weights.manual` : `Toggle ${name} in retrieve.exclude`;
          const result = await connection.workspace.applyEdit({ label, edit: { changes: { [uri]: [edit] } } });
          return commandResult(ServerCommands.addToRecipe, { applied: result.applied, edit });
        }
        case ServerCommands.compose:
          return await composeCommand(uri, token, workDone, params.workDoneToken !== undefined);
        case ServerCommands.evaluate:
          return await evaluateCommand(uri, token, workDone, params.workDoneToken !== undefined);
        case ServerCommands.history: {
          // An unsaved buffer has no runs (its history would be that of another file).
          const file = savedFileOf(uri);
          return commandResult(ServerCommands.history, file ? await readRecipeHistory(file, { workspaceRoot }) : []);
        }
        default:
          throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown command ${params.command}`);
      }
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      log.error(`command ${params.command} failed`, e);
      throw new ResponseError(LSPErrorCodes.RequestFailed, describeError(e));
    }
  });

  onRequest(connection, CompareRequest, async (params) => {
    if (typeof params.uri !== 'string') throw userError(`${CompareRequest} needs {uri, revision?}`);
    // The lock beside the saved recipe: an unsaved buffer has none.
    const file = savedFileOf(params.uri);
    if (!file) throw userError(`${params.uri} is not a file: save the recipe to compare its lock`);
    try {
      return await compareWithRevision(file, typeof params.revision === 'string' ? params.revision : 'HEAD', workspaceRoot);
    } catch (e) {
      log.info(`compare ${params.uri}: ${describeError(e)}`);
      throw userError(describeError(e));
    }
  });

  /** Libraries the workspace uses: recipes on disk, open recipes, and the libraryUri setting. */
  function workspaceLibraries(): { uri: string; usedBy: string }[] {
    const out: { uri: string; usedBy: string }[] = [];
    if (workspaceRoot) for (const r of recipeLibraries(workspaceRoot)) out.push({ uri: r.library, usedBy: documentUri(r.recipe) });
    for (const r of scheduler.all()) {
      const library = r.outcome?.paths?.library;
      if (library) out.push({ uri: library, usedBy: r.uri });
    }
    const fromSetting = settingLibrary(settings.libraryUri, workspaceRoot);
    if (fromSetting) out.push({ uri: fromSetting, usedBy: 'setting' });
    return out;
  }

  function libraryParam(value: unknown): string {
    if (typeof value !== 'string' || !value) throw userError('the request needs a `library` (path or URI)');
    return resolveLocation(value, workspaceRoot ?? process.cwd());
  }

  /** A library request: bad input and unopenable libraries become RequestFailed with the reason. */
  function libraryRequest<P, R>(name: string, handler: (params: P) => Promise<R>): (params: P) => Promise<R> {
    return async (params: P) => {
      try {
        return await handler(params);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        log.info(`${name}: ${describeError(e)}`);
        throw userError(describeError(e));
      }
    };
  }

  onRequest(connection, LibraryRequests.list, libraryRequest('libraries', async () => libraryViews.summaries(workspaceLibraries())));
  onRequest(connection, LibraryRequests.groups, libraryRequest('library groups', async (p) => libraryViews.groups(libraryParam(p.library))));
  onRequest(connection, LibraryRequests.page, libraryRequest('library page', async (p) =>
    libraryViews.page(libraryParam(p.library), {
      base: typeof p.base === 'string' ? p.base : undefined,
      tag: typeof p.tag === 'string' ? p.tag : undefined,
      offset: typeof p.offset === 'number' ? p.offset : 0,
      limit: typeof p.limit === 'number' ? p.limit : undefined,
    })));
  onRequest(connection, LibraryRequests.card, libraryRequest('adapter card', async (p) => {
    const library = libraryParam(p.library);
    if (typeof p.name !== 'string') throw userError('the request needs the adapter `name`');
    const record = await libraryViews.record(library, p.name);
    if (!record) throw userError(`no adapter named '${p.name}' in the library at ${library}`);
    const { prototype, ...rest } = record;
    return { markdown: libraryCard(record), record: { ...rest, prototype_dim: prototype.length } };
  }));
  onRequest(connection, LibraryRequests.map, libraryRequest('library map', async (p) => {
    let view: RecipeView | undefined;
    let library: string | undefined;
    if (typeof p.uri === 'string') {
      view = await requireView(p.uri);
      library = view.outcome?.paths?.library;
      if (!library) throw userError(firstProblem(view) ?? 'the recipe names no library that opens');
    } else library = libraryParam(p.library);
    const base = view?.outcome?.recipe?.spec.base;
    return libraryViews.map(library, { base: typeof base === 'string' && base ? base : undefined, sample: typeof p.sample === 'number' ? p.sample : undefined, view });
  }));

  /**
   * An open recipe (waiting for its current plan), else the saved file — a `file:` URI only — read
   * bounded and checked regular (readTextSafe), and planned once.
   */
  async function requireView(uri: string): Promise<RecipeView> {
    const view = await recipeView(uri, FRESH_PLAN_WAIT_MS * 10);
    if (view) return view;
    const file = savedFileOf(uri);
    if (!file) throw notOpen(uri);
    let text: string;
    try {
      text = readTextSafe(file, 'recipe', 'recipe');
    } catch (e) {
      throw userError(`cannot read ${file}${isComposerError(e) && !/not found/.test(e.message) ? ` (${e.message})` : ''}`);
    }
    const document = RecipeDocument.parse(text, file);
    const outcome = document.unreadable ? { isRecipe: false, problems: [] } : await planner.plan(text, file, { ...engineOptions(), parsed: document.recipeParse });
    return { uri, file, document, outcome };
  }

  type CancelToken = { isCancellationRequested: boolean; onCancellationRequested: (l: () => void) => unknown };
  type Report = (p: { percentage?: number; message?: string }) => void;

  /**
   * One long job of the compose worker (compose, evaluate) for one recipe: one at a time per recipe,
   * cancellable from the request or from a server-created `$/progress`, status busy → idle, progress
   * begun and done whatever happens, a cancelled job answered with RequestCancelled.
   */
  async function workerJob<R>(job: { uri: string; running: Map<string, AbortController>; already: string; title: string; cancelled: string },
    token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean, run: (report: Report, signal: AbortSignal) => Promise<R>): Promise<R> {
    if (job.running.has(job.uri)) throw userError(job.already);
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    let progress: WorkDoneProgressReporter = attached;
    if (!hasClientToken && capabilities.window?.workDoneProgress) {
      try {
        const created = await connection.window.createWorkDoneProgress();
        created.token.onCancellationRequested(() => controller.abort());
        progress = created;
      } catch {
        progress = attached;
      }
    }
    const reporting = !WorkDoneProgressReporter.isNullInstance(progress);
    job.running.set(job.uri, controller);
    sendStatus({ state: 'busy', message: job.title });
    if (reporting) progress.begin(job.title, 0, undefined, true);
    try {
      return await run((p) => {
        if (!reporting) return;
        if (p.percentage !== undefined && p.message) progress.report(p.percentage, p.message);
        else if (p.percentage !== undefined) progress.report(p.percentage);
        else if (p.message) progress.report(p.message);
      }, controller.signal);
    } catch (e) {
      if (e instanceof ComposeFailure && e.cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, job.cancelled);
      throw userError(describeError(e));
    } finally {
      if (reporting) progress.done();
      job.running.delete(job.uri);
      sendStatus({ state: composing.size + evaluating.size > 0 ? 'busy' : 'idle', message: undefined });
    }
  }

  async function composeCommand(uri: string, token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean): Promise<CommandResult<typeof ServerCommands.compose>> {
    if (!settings.trusted) throw userError('Compose is disabled in an untrusted workspace (it writes adapter files); trust the workspace to enable it.');
    // Compose reads the saved recipe: a buffer that is not a file has nothing saved to compose.
    const file = savedFileOf(uri);
    if (!file) throw userError(`Compose reads the saved recipe, and ${uri} is not a file: save it to a file first.`);
    const job = { uri, running: composing, already: 'A compose of this recipe is already running.', title: `Composing ${path.basename(file)}`, cancelled: 'Compose cancelled' };
    try {
      // No workspace folder (rootUri null): the recipe's own folder is the workspace, so nothing is
      // read from or written to outside it.
      const request = { ...engineOptions(), workspaceRoot: workspaceRoot ?? path.dirname(file), recipeFile: file, allowExec: settings.trusted };
      return await workerJob(job, token, attached, hasClientToken, (report, signal) => runCompose(request, report, signal));
    } finally {
      // The lock (and output) changed: re-check the recipe.
      if (scheduler.get(uri)) scheduler.replanAll(0);
    }
  }

  /**
   * The leave-one-out evaluation of the recipe's library (and its evaluator's metrics per strategy), in the
   * compose worker with `$/progress`; cancelling stops it and its scratch folder is removed either way.
   */
  async function evaluateCommand(uri: string, token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean): Promise<CommandResult<typeof ServerCommands.evaluate>> {
    if (!settings.trusted) throw userError('The leave-one-out evaluation is disabled in an untrusted workspace (it reads every adapter of the library and runs the recipe\'s evaluator); trust the workspace to enable it.');
    // The evaluation reads the saved recipe, as compose does.
    const file = savedFileOf(uri);
    if (!file) throw userError(`The evaluation reads the saved recipe, and ${uri} is not a file: save it to a file first.`);
    const job = { uri, running: evaluating, already: 'An evaluation of this recipe is already running.', title: `Leave-one-out evaluation of ${path.basename(file)}`, cancelled: 'Evaluation cancelled' };
    return workerJob(job, token, attached, hasClientToken, async (report, signal) => {
      const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-eval-'));
      try {
        const request = { ...engineOptions(), workspaceRoot: workspaceRoot ?? path.dirname(file), recipeFile: file, allowExec: settings.trusted, scratchDir };
        return await runEvaluation(request, report, signal);
      } finally {
        fs.rmSync(scratchDir, { recursive: true, force: true });
      }
    });
  }

  connection.onShutdown(async () => {
    libraryWatch.stop();
    scheduler.dispose();
    libraryViews.dispose();
    for (const c of composing.values()) c.abort();
    for (const c of evaluating.values()) c.abort();
    await planner.dispose().catch(() => undefined);
  });

  documents.listen(connection);
  connection.listen();
  return connection;
}

function notOpen(uri: string): ResponseError<void> {
  return userError(`${uri} is not open and is not a file: save the recipe to a file first`);
}

function userError(message: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}

function firstProblem(view: RecipeView): string | undefined {
  const p = view.outcome?.problems.find((x) => x.severity === 'error');
  return p ? `${path.basename(view.file)}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.message}` : undefined;
}

function encoderLabel(e: { sha256?: string; dim: number; path?: string }): string {
  if (e.path) return `${path.basename(e.path)} (${e.dim}-d)`;
  if (e.sha256) return `${e.sha256.slice(0, 12)} (${e.dim}-d)`;
  return `${e.dim}-d features`;
}
