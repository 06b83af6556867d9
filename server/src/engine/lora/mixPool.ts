/**
 * Runs an svd merge's R×R steps (truncationMix) on worker threads, so that they overlap the next
 * modules' decode and Grams on the merge's own thread. onnxruntime-node runs a session on the thread
 * that called it (its run() is a setImmediate around a synchronous call), so without this one of two
 * cores idles through every module's JS factorisations; on many cores one worker became the merge's
 * bottleneck (docs/benchmarks.md), so there can be several, each mixing one module at a time. The worker computes with the same code as
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
  private readonly workers: { worker: Worker; busy: boolean }[] = [];
  private readonly queue: MixRequest[] = [];
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (m: Mix) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  /**
   * `threads` 0: inline; N: N workers, each mixing one module at a time (the merge prepares as many
   * modules ahead). When a worker cannot start, the pool keeps the ones that did (none: inline).
   */
  constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      let worker: Worker;
      try {
        worker = startWorker();
      } catch {
        break;
      }
      const slot = { worker, busy: false };
      worker.on('message', (m: MixReply) => {
        slot.busy = false;
        const w = this.waiting.get(m.id);
        if (w) {
          this.waiting.delete(m.id);
          if ('error' in m) w.reject(new ComposerError('merge', m.error));
          else w.resolve(m.mix);
        }
        this.pump();
      });
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.workers.length > 0) this.fail(new Error(`exit code ${code}`));
      });
      this.workers.push(slot);
    }
  }

  /** Mixing workers running (0: the R×R steps run inline). */
  get size(): number {
    return this.workers.length;
  }

  get threaded(): boolean {
    return this.workers.length > 0;
  }

  /** truncationMix on a free worker, or queued for the next one (the inputs are copied to it: R×R, small next to a module's panels). */
  mix(gramA: Float64Array, gramB: Float64Array, coefficients: Float64Array, rank: number): Promise<Mix> {
    if (this.failure) return Promise.reject(new ComposerError('merge', `the merge's mixing thread stopped: ${this.failure.message}`));
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(truncationMix(gramA, gramB, coefficients, rank));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const id = this.nextId++;
    return new Promise<Mix>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queue.push({ id, gramA, gramB, coefficients, rank });
      this.pump();
    });
  }

  /** Hands queued requests to idle workers, oldest first. */
  private pump(): void {
    for (const slot of this.workers) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      slot.busy = true;
      slot.worker.postMessage(this.queue.shift()!);
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(new ComposerError('merge', `the merge's mixing thread stopped: ${e.message}`));
    this.waiting.clear();
    this.queue.length = 0;
    const workers = this.workers.splice(0);
    for (const { worker } of workers) void worker.terminate();
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const x of this.waiting.values()) x.reject(new ComposerError('cancelled', 'merge stopped'));
    this.waiting.clear();
    this.queue.length = 0;
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
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
