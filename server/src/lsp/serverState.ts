/**
 * What the handler groups of one connection share (documents.ts, features.ts, commands.ts, ...): the
 * connection and its log, the planner and the plan scheduler, the library views and watch, the
 * settings as initialize and workspace/configuration left them, the client's capabilities and
 * workspace folder, the running worker jobs and the last status sent — and the few steps every group
 * uses: the engine's options, the status notification, a recipe's view, a guarded handler.
 */
import * as path from 'node:path';
import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import type { ClientCapabilities, Connection } from 'vscode-languageserver/node';
import type { Planner } from '../engine/planner';
import { StatusNotification } from '../protocol';
import type { StatusParams } from '../protocol';
import { LibraryViews } from '../service/libraryView';
import { planningFileOf, savedFileOf } from '../service/documentUri';
import { RecipeDocument } from '../service/recipeDocument';
import type { RecipeSchema } from '../service/recipeSchema';
import type { RecipeView } from '../service/recipeView';
import { LibraryWatch } from './libraryWatch';
import { PlanScheduler } from './planScheduler';
import type { TrackedRecipe } from './planScheduler';
import type { ServerLog } from './serverLog';
import { notify } from './typedConnection';
import { DEFAULT_SETTINGS, settingReadRoots } from './settings';
import type { ServerSettings } from './settings';
import { readTextSafe } from '../engine/safeRead';
import { isComposerError } from '../engine/errors';
import type { HistoryConfinement } from '../engine/history/runHistory';

/** How long a lens / inlay-hint / code-action request waits for the plan of the current text. */
export const FRESH_PLAN_WAIT_MS = 3000;

export class ServerState {
  settings: ServerSettings = { ...DEFAULT_SETTINGS };
  capabilities: ClientCapabilities = {};
  workspaceRoot: string | undefined;
  /** Trust as initialize gave it: settings read later can only take it away. */
  initiallyTrusted = false;
  /** The settings initialize gave: what a client answering null to workspace/configuration keeps. */
  initialSettings: ServerSettings = { ...DEFAULT_SETTINGS };
  private lastStatus: StatusParams = { state: 'idle' };
  /** Running compose / evaluate jobs, by recipe URI. */
  readonly composing = new Map<string, AbortController>();
  readonly evaluating = new Map<string, AbortController>();
  /**
   * Recipes whose code lenses the client has fetched: only a plan of one of them asks for a refresh.
   * Before its first fetch the client has a request pending (VS Code waits a debounce after the
   * recipe opens); a refresh then would only restart that wait (~0.4 s later first lens, bench/activation.ts).
   */
  readonly lensesFetched = new Set<string>();
  readonly scheduler: PlanScheduler;
  readonly libraryViews: LibraryViews;
  readonly libraryWatch: LibraryWatch;

  constructor(
    readonly connection: Connection,
    readonly log: ServerLog,
    readonly planner: Planner,
    readonly schema: RecipeSchema | undefined,
    /** Sends what a new plan of a recipe changes (diagnostics, the plan, the status): publish.ts. */
    publish: (state: ServerState, recipe: TrackedRecipe) => void,
  ) {
    this.scheduler = new PlanScheduler(planner, {
      planOptions: () => this.engineOptions(),
      debounceMs: () => this.settings.debounceMs,
      onPlanned: (recipe) => publish(this, recipe),
      onBusyChange: (busy) => this.sendStatus({ state: busy || this.composing.size > 0 ? 'busy' : 'idle' }),
      logError: (message, error) => log.error(message, error),
    });
    this.libraryViews = new LibraryViews();
    this.libraryWatch = new LibraryWatch((libraryPath) => {
      log.info(`library changed on disk: ${libraryPath}`);
      planner.invalidate({ libraryUri: libraryPath });
      this.libraryViews.invalidate(libraryPath);
      this.scheduler.replanAll();
    });
  }

  /** The engine's options from the current settings: the one place they are built (plans, commands, compose). */
  engineOptions(): { workspaceRoot: string | undefined; readRoots: string[]; provider: ServerSettings['executionProvider']; libraryUri: string | undefined } {
    return { workspaceRoot: this.workspaceRoot, readRoots: settingReadRoots(this.settings.readRoots, this.workspaceRoot), provider: this.settings.executionProvider, libraryUri: this.settings.libraryUri };
  }

  /**
   * Where the editor may read a saved recipe's run history from: the workspace (the recipe's folder
   * when none is open, as for compose) and the read roots — as the planner confines what it reads.
   */
  historyConfinement(file: string): HistoryConfinement {
    return { workspaceRoot: this.workspaceRoot ?? path.dirname(file), readRoots: this.engineOptions().readRoots };
  }

  /** The status last sent. */
  get status(): StatusParams {
    return this.lastStatus;
  }

  sendStatus(update: Partial<StatusParams>): void {
    this.lastStatus = { ...this.lastStatus, ...update };
    if (this.lastStatus.message === undefined) delete this.lastStatus.message;
    notify(this.connection, StatusNotification, this.lastStatus);
  }

  fileOf(uri: string): string {
    return planningFileOf(uri, this.workspaceRoot);
  }

  /** The view of an open recipe (features answer only for open documents; commands use requireView). */
  recipeView(uri: string, waitMs: number): Promise<RecipeView | undefined> {
    return this.scheduler.view(uri, waitMs);
  }

  /**
   * An open recipe (waiting for its current plan), else the saved file — a `file:` URI only — read
   * bounded and checked regular (readTextSafe), and planned once.
   */
  async requireView(uri: string): Promise<RecipeView> {
    const view = await this.recipeView(uri, FRESH_PLAN_WAIT_MS * 10);
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
    const outcome = document.unreadable ? { isRecipe: false, problems: [] } : await this.planner.plan(text, file, { ...this.engineOptions(), parsed: document.recipeParse });
    return { uri, file, document, outcome };
  }

  /** An exception in a feature becomes an empty answer and one log line, never a dead server. */
  guarded<A extends unknown[], R>(name: string, fallback: R, handler: (...args: A) => R | Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      try {
        return await handler(...args);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        this.log.error(`${name} failed`, e);
        return fallback;
      }
    };
  }
}

function notOpen(uri: string): ResponseError<void> {
  return userError(`${uri} is not open and is not a file: save the recipe to a file first`);
}

export function userError(message: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}

export function firstProblem(view: RecipeView): string | undefined {
  const p = view.outcome?.problems.find((x) => x.severity === 'error');
  return p ? `${path.basename(view.file)}:${p.range.start.line + 1}:${p.range.start.character + 1}: ${p.message}` : undefined;
}
