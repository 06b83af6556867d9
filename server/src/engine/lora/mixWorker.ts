/**
 * The R×R steps of an svd merge (truncationMix: pivoted Cholesky of the two Grams, the core, its
 * top singular pairs) on a thread of their own, bundled as dist/mixWorker.js: plain JS that would
 * otherwise hold the merge's thread while a core sits idle, since ONNX Runtime's products run on the
 * calling thread (see mixPool.ts). Message in: {id, gramA, gramB, coefficients, rank}; out: {id, mix} or {id, error}.
 */
import { parentPort } from 'node:worker_threads';
import { truncationMix } from './truncatedProduct';

export interface MixRequest {
  id: number;
  gramA: Float64Array;
  gramB: Float64Array;
  coefficients: Float64Array;
  rank: number;
}

export type MixReply = { id: number; mix: ReturnType<typeof truncationMix> } | { id: number; error: string };

parentPort?.on('message', (m: MixRequest) => {
  try {
    const mix = truncationMix(m.gramA, m.gramB, m.coefficients, m.rank);
    parentPort!.postMessage({ id: m.id, mix } satisfies MixReply, [mix.mixA.buffer as ArrayBuffer, mix.mixB.buffer as ArrayBuffer, mix.sigma.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies MixReply);
  }
});
