/**
 * Runs one compose, or one leave-one-out evaluation of a recipe's library, off the server's thread
 * (bundled as dist/composeWorker.js). Messages out:
 * {type:'progress', percentage?, message?} · {type:'done', result} · {type:'error', message, code?}.
 * Message in: {type:'abort'} → the engine's AbortSignal.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compose } from '../engine/compose';
import { evaluateRecipe } from '../engine/eval/recipeEvaluation';

import type { WorkerCommand, WorkerJob, WorkerMessage } from './composeRunner';

const input = workerData as WorkerJob;
const controller = new AbortController();
const post = (m: WorkerMessage) => parentPort?.postMessage(m);
parentPort?.on('message', (m: Partial<WorkerCommand> | undefined) => {
  if (m?.type === 'abort') controller.abort();
});

/** Progress arrives as (fraction, message), ({fraction|percentage|done/total, message}) or (message). */
function normalizeProgress(args: unknown[]): { percentage?: number; message?: string } {
  const out: { percentage?: number; message?: string } = {};
  for (const a of args) {
    if (typeof a === 'number' && Number.isFinite(a)) out.percentage = a <= 1 ? a * 100 : a;
    else if (typeof a === 'string') out.message = a;
    else if (a && typeof a === 'object') {
      const o = a as Record<string, unknown>;
      if (typeof o.fraction === 'number') out.percentage = o.fraction * 100;
      else if (typeof o.percentage === 'number') out.percentage = o.percentage;
      else if (typeof o.done === 'number' && typeof o.total === 'number' && o.total > 0) out.percentage = (o.done / o.total) * 100;
      if (typeof o.message === 'string') out.message = o.message;
    }
  }
  if (out.percentage !== undefined) out.percentage = Math.max(0, Math.min(100, Math.round(out.percentage)));
  return out;
}

const onProgress = (...args: unknown[]) => post({ type: 'progress', ...normalizeProgress(args) });
const options = {
  signal: controller.signal,
  provider: input.provider,
  workspaceRoot: input.workspaceRoot,
  readRoots: input.readRoots,
  allowExec: input.allowExec,
  libraryUri: input.libraryUri,
};
const job: Promise<unknown> = input.job === 'evaluate'
  ? evaluateRecipe(input.recipeFile, { ...options, scratchDir: input.scratchDir, onProgress: (message, fraction) => onProgress(...(fraction === undefined ? [message] : [fraction, message])) })
  : compose(input.recipeFile, { ...options, onProgress });
job
  .then((result) => post({ type: 'done', result: JSON.parse(JSON.stringify(result)) as unknown }))
  .catch((e: unknown) => {
    const err = e as { format?: () => string; message?: string; code?: string };
    const message = typeof err?.format === 'function' ? err.format() : err?.message ?? String(e);
    post({ type: 'error', message, code: err?.code });
  });
