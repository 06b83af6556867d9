/**
 * Starts the compose worker for one recipe (a compose, or the leave-one-out evaluation of its library)
 * and relays its progress; cancelling aborts the engine's signal, then terminates the thread if it does
 * not stop on its own.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ComposeJson } from '../engine/compose';
import type { EvaluationResult } from '../protocol';

export interface ComposeProgress {
  percentage?: number;
  message?: string;
}

export class ComposeFailure extends Error {
  constructor(
    message: string,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

/** How long an aborted compose may take to stop before its thread is terminated. */
const ABORT_GRACE_MS = 2000;

/** What the worker composes with: the recipe and the server's settings that bear on it. */
export interface ComposeRequest {
  recipeFile: string;
  provider?: string;
  workspaceRoot?: string;
  /** Folders outside the workspace the recipe may read (setting adapterCompose.readRoots). */
  readRoots?: readonly string[];
  /** Only in a trusted workspace: run the recipe's `evaluate:` command after composing. */
  allowExec?: boolean;
  /** The default library for recipes without `library:` (setting adapterCompose.libraryUri). */
  libraryUri?: string;
}

/** The leave-one-out evaluation of a recipe's library (engine/eval/recipeEvaluation.ts) in the worker. */
export interface EvaluateRequest extends ComposeRequest {
  /** Where the evaluator merges its composites; the caller removes it whatever happens to the worker. */
  scratchDir?: string;
}

/** What the worker is asked to do (its workerData). */
export type WorkerJob = ({ job: 'compose' } & ComposeRequest) | ({ job: 'evaluate' } & EvaluateRequest);

/** Worker → server (composeWorker.ts posts them); `result` is the job's JSON (ComposeJson or EvaluationResult). */
export type WorkerMessage =
  | ({ type: 'progress' } & ComposeProgress)
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string; code?: string };

/** Server → worker. */
export type WorkerCommand = { type: 'abort' };

export function runCompose(request: ComposeRequest, onProgress: (p: ComposeProgress) => void, signal: AbortSignal): Promise<ComposeJson> {
  return runJob<ComposeJson>({ job: 'compose', ...request }, 'Compose', onProgress, signal);
}

export function runEvaluation(request: EvaluateRequest, onProgress: (p: ComposeProgress) => void, signal: AbortSignal): Promise<EvaluationResult> {
  return runJob<EvaluationResult>({ job: 'evaluate', ...request }, 'Evaluation', onProgress, signal);
}

function runJob<R>(request: WorkerJob, label: string, onProgress: (p: ComposeProgress) => void, signal: AbortSignal): Promise<R> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ComposeFailure(`${label} cancelled`, true));
    let worker: Worker;
    try {
      worker = startWorker(request);
    } catch (e) {
      return reject(new ComposeFailure(`Cannot start the ${label.toLowerCase()} worker: ${(e as Error).message}`));
    }
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      fn();
      void worker.terminate();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'abort' } satisfies WorkerCommand);
      graceTimer = setTimeout(() => finish(() => reject(new ComposeFailure(`${label} cancelled`, true))), ABORT_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress({ percentage: m.percentage, message: m.message });
      else if (m.type === 'done') finish(() => resolve(m.result as R));
      else if (m.type === 'error') finish(() => reject(new ComposeFailure(m.message ?? `${label} failed`, signal.aborted || m.code === 'cancelled')));
    });
    worker.on('error', (e) => finish(() => reject(new ComposeFailure(`${label} failed: ${e.message}`))));
    worker.on('exit', (code) => finish(() => reject(new ComposeFailure(signal.aborted ? `${label} cancelled` : `${label} worker stopped (exit code ${code})`, signal.aborted))));
  });
}

/** dist/composeWorker.js next to the bundle; from sources (tests, tsx) the .ts through tsx's loader. */
function startWorker(workerData: unknown): Worker {
  const bundled = path.join(__dirname, 'composeWorker.js');
  if (fs.existsSync(bundled)) return new Worker(bundled, { workerData });
  const source = path.join(__dirname, 'composeWorker.ts');
  // createRequire keeps esbuild from trying to bundle the dev-only loader.
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true, workerData });
}
