/**
 * Runs an svd merge's R×R steps (truncationMix) on a worker thread, so that they overlap the next
 * module's decode and Grams on the merge's own thread. onnxruntime-node runs a session on the thread
 * that called it (its run() is a setImmediate around a synchronous call), so without this one of two
 * cores idles through every module's JS factorisations. The worker computes with the same code as
 * the inline path, so the bytes written do not depend on whether it started.
 * The worker is dist/mixWorker.js next to the bundle, or from sources (tests, tsx) the .ts through
 * tsx's loader; when neither starts, everything runs inline.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ComposerError } from '../errors';
import type { MixReply, MixRequest } from './mixWorker';
import { truncationMix } from './truncatedProduct';

export type Mix = ReturnType<typeof truncationMix>;

export class MixPool {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (m: Mix) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  /** `threads` 0: inline; 1: one worker (the only count used: one merge thread + one mix thread). */
  constructor(threads: number) {
    if (threads <= 0) return;
    try {
      this.worker = startWorker();
      this.worker.on('message', (m: MixReply) => {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if ('error' in m) w.reject(new ComposerError('merge', m.error));
        else w.resolve(m.mix);
      });
      const fail = (e: Error) => {
        this.failure = e;
        for (const w of this.waiting.values()) w.reject(new ComposerError('merge', `the merge's mixing thread stopped: ${e.message}`));
        this.waiting.clear();
        this.worker = undefined;
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => {
        if (this.worker) fail(new Error(`exit code ${code}`));
      });
    } catch {
      this.worker = undefined;
    }
  }

  get threaded(): boolean {
    return this.worker !== undefined;
  }

  /** truncationMix on the worker (the inputs are copied to it: R×R, small next to a module's panels). */
  mix(gramA: Float64Array, gramB: Float64Array, coefficients: Float64Array, rank: number): Promise<Mix> {
    const worker = this.worker;
    if (!worker) {
      if (this.failure) return Promise.reject(new ComposerError('merge', `the merge's mixing thread stopped: ${this.failure.message}`));
      try {
        return Promise.resolve(truncationMix(gramA, gramB, coefficients, rank));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const id = this.nextId++;
    return new Promise<Mix>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, gramA, gramB, coefficients, rank } satisfies MixRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    for (const x of this.waiting.values()) x.reject(new ComposerError('cancelled', 'merge stopped'));
    this.waiting.clear();
    if (w) await w.terminate();
  }
}

function startWorker(): Worker {
  const bundled = path.join(__dirname, 'mixWorker.js');
  if (fs.existsSync(bundled)) return new Worker(bundled);
  const source = path.join(__dirname, 'mixWorker.ts');
  if (!fs.existsSync(source)) throw new Error('mixWorker not found');
  // createRequire keeps esbuild from trying to bundle the dev-only loader.
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true });
}
