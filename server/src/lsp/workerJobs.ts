/**
 * The long commands run in the compose worker: compose (writes the composite and its lock) and the
 * leave-one-out evaluation. Both need a trusted workspace and a saved recipe; one job at a time per
 * recipe, cancellable, with `$/progress` and the busy status (composeRunner.ts runs the worker).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LSPErrorCodes, ResponseError, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { ServerCommands } from '../protocol';
import type { CommandResult } from '../protocol';
import { savedFileOf } from '../service/documentUri';
import { ComposeFailure, runCompose, runEvaluation } from './composeRunner';
import { describeError } from './serverLog';
import { userError } from './serverState';
import type { ServerState } from './serverState';

export type CancelToken = { isCancellationRequested: boolean; onCancellationRequested: (l: () => void) => unknown };
type Report = (p: { percentage?: number; message?: string }) => void;

/**
 * One long job of the compose worker (compose, evaluate) for one recipe: one at a time per recipe,
 * cancellable from the request or from a server-created `$/progress`, status busy → idle, progress
 * begun and done whatever happens, a cancelled job answered with RequestCancelled.
 */
async function workerJob<R>(state: ServerState, job: { uri: string; running: Map<string, AbortController>; already: string; title: string; cancelled: string },
  token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean, run: (report: Report, signal: AbortSignal) => Promise<R>): Promise<R> {
  if (job.running.has(job.uri)) throw userError(job.already);
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort());
  let progress: WorkDoneProgressReporter = attached;
  if (!hasClientToken && state.capabilities.window?.workDoneProgress) {
    try {
      const created = await state.connection.window.createWorkDoneProgress();
      created.token.onCancellationRequested(() => controller.abort());
      progress = created;
    } catch {
      progress = attached;
    }
  }
  const reporting = !WorkDoneProgressReporter.isNullInstance(progress);
  job.running.set(job.uri, controller);
  state.sendStatus({ state: 'busy', message: job.title });
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
    state.sendStatus({ state: state.composing.size + state.evaluating.size > 0 ? 'busy' : 'idle', message: undefined });
  }
}

export async function composeCommand(state: ServerState, uri: string, token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean): Promise<CommandResult<typeof ServerCommands.compose>> {
  if (!state.settings.trusted) throw userError('Compose is disabled in an untrusted workspace (it writes adapter files); trust the workspace to enable it.');
  // Compose reads the saved recipe: a buffer that is not a file has nothing saved to compose.
  const file = savedFileOf(uri);
  if (!file) throw userError(`Compose reads the saved recipe, and ${uri} is not a file: save it to a file first.`);
  const job = { uri, running: state.composing, already: 'A compose of this recipe is already running.', title: `Composing ${path.basename(file)}`, cancelled: 'Compose cancelled' };
  try {
    // No workspace folder (rootUri null): the recipe's own folder is the workspace, so nothing is
    // read from or written to outside it.
    const request = { ...state.engineOptions(), workspaceRoot: state.workspaceRoot ?? path.dirname(file), recipeFile: file, allowExec: state.settings.trusted };
    return await workerJob(state, job, token, attached, hasClientToken, (report, signal) => runCompose(request, report, signal));
  } finally {
    // The lock (and output) changed: re-check the recipe.
    if (state.scheduler.get(uri)) state.scheduler.replanAll(0);
  }
}

/**
 * The leave-one-out evaluation of the recipe's library (and its evaluator's metrics per strategy), in the
 * compose worker with `$/progress`; cancelling stops it and its scratch folder is removed either way.
 */
export async function evaluateCommand(state: ServerState, uri: string, token: CancelToken, attached: WorkDoneProgressReporter, hasClientToken: boolean): Promise<CommandResult<typeof ServerCommands.evaluate>> {
  if (!state.settings.trusted) throw userError('The leave-one-out evaluation is disabled in an untrusted workspace (it reads every adapter of the library and runs the recipe\'s evaluator); trust the workspace to enable it.');
  // The evaluation reads the saved recipe, as compose does.
  const file = savedFileOf(uri);
  if (!file) throw userError(`The evaluation reads the saved recipe, and ${uri} is not a file: save it to a file first.`);
  const job = { uri, running: state.evaluating, already: 'An evaluation of this recipe is already running.', title: `Leave-one-out evaluation of ${path.basename(file)}`, cancelled: 'Evaluation cancelled' };
  return workerJob(state, job, token, attached, hasClientToken, async (report, signal) => {
    const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-eval-'));
    try {
      const request = { ...state.engineOptions(), workspaceRoot: state.workspaceRoot ?? path.dirname(file), recipeFile: file, allowExec: state.settings.trusted, scratchDir };
      return await runEvaluation(request, report, signal);
    } finally {
      fs.rmSync(scratchDir, { recursive: true, force: true });
    }
  });
}
