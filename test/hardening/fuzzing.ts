/**
 * Shared by the hardening tests: a seeded PRNG (a failure reproduces from its seed), the input
 * count (FUZZ_SCALE=10 from `npm run fuzz`), a per-input time bound, and byte mutations.
 */
import assert from 'node:assert/strict';
import { ComposerError } from '../../server/src/engine/errors';
import { seededRandom } from '../../server/src/engine/random';

export { seededRandom };

/** FUZZ_SCALE (default 1) times `n`. */
export function inputs(n: number): number {
  const scale = Number(process.env.FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** No single input may take longer than this (a hang or a blow-up, not a slow machine). */
export const PER_INPUT_MS = Number(process.env.FUZZ_PER_INPUT_MS ?? '500');

/**
 * A hang or blow-up is slow every time; a loaded 2-core machine (GC, other processes) is slow once.
 * An input over the bound is timed again twice, and only the fastest of the three counts.
 */
export function assertNotSlow(ms: number, bound: number, again: () => void, what: () => string): number {
  let best = ms;
  for (let k = 0; k < 2 && best >= bound; k++) {
    const t0 = performance.now();
    try {
      again();
    } catch {
      // the outcome was checked the first time; only its duration matters here
    }
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < bound, `${what()}: took ${best.toFixed(0)} ms at best of 3 (bound ${bound} ms)`);
  return best;
}

export interface FuzzTally {
  accepted: number;
  refused: number;
  slowestMs: number;
  codes: Map<string, number>;
}

/**
 * Runs `body` on input i; it must return (a correct result, checked by `body` itself) or throw a
 * ComposerError with one of `codes` whose location names `file` — anything else fails the test with
 * the case number so it reproduces.
 */
export function fuzzCase(tally: FuzzTally, i: number, file: string, codes: readonly string[], body: () => void, show: () => string): void {
  const t0 = performance.now();
  try {
    body();
    tally.accepted++;
  } catch (e) {
    if (!(e instanceof ComposerError)) assert.fail(`case ${i}: ${(e as Error)?.constructor?.name} ${(e as Error)?.stack ?? String(e)}\ninput: ${show()}`);
    assert.ok(codes.includes(e.code), `case ${i}: code ${e.code} (${e.message}) not in ${codes.join(', ')}\ninput: ${show()}`);
    assert.ok(e.location?.file === file, `case ${i}: error not located at ${file}: ${JSON.stringify(e.location)} ${e.message}`);
    assert.ok(e.message.length > 0 && e.message.length < 2000, `case ${i}: message length ${e.message.length}`);
    tally.refused++;
    tally.codes.set(e.code, (tally.codes.get(e.code) ?? 0) + 1);
  }
  const ms = assertNotSlow(performance.now() - t0, PER_INPUT_MS, body, () => `case ${i}\ninput: ${show().slice(0, 400)}`);
  tally.slowestMs = Math.max(tally.slowestMs, ms);
}

export function newTally(): FuzzTally {
  return { accepted: 0, refused: 0, slowestMs: 0, codes: new Map() };
}

const STRUCTURAL = '{}[]":,0123456789-eE.\'()TrueFalse \n';

/** 1–4 byte edits: random byte, structural character, truncation, duplication of a slice. */
export function mutateBytes(r: () => number, bytes: Uint8Array): Uint8Array {
  let out = Uint8Array.from(bytes);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const i = Math.floor(r() * out.length);
    const op = r();
    if (op < 0.45) out[i] = Math.floor(r() * 256);
    else if (op < 0.75) out[i] = STRUCTURAL.charCodeAt(Math.floor(r() * STRUCTURAL.length));
    else if (op < 0.85) return out.subarray(0, i);
    else {
      const len = 1 + Math.floor(r() * 16);
      const slice = out.subarray(i, i + len);
      const grown = new Uint8Array(out.length + slice.length);
      grown.set(out.subarray(0, i + slice.length));
      grown.set(slice, i + slice.length);
      grown.set(out.subarray(i + slice.length), i + 2 * slice.length);
      out = grown;
    }
  }
  return out;
}

/** Wraps Buffer.alloc/allocUnsafe to record the largest single allocation while `body` runs. */
export function largestBufferAllocation(body: () => void): number {
  /* eslint-disable @typescript-eslint/unbound-method -- both ignore `this`; kept to be put back as they were */
  const realAlloc = Buffer.alloc;
  const realUnsafe = Buffer.allocUnsafe;
  /* eslint-enable @typescript-eslint/unbound-method */
  let largest = 0;
  const B = Buffer as unknown as { alloc: (...a: unknown[]) => Buffer; allocUnsafe: (...a: unknown[]) => Buffer };
  B.alloc = (size: unknown, ...rest: unknown[]) => {
    largest = Math.max(largest, Number(size));
    return (realAlloc as (...a: unknown[]) => Buffer)(size, ...rest);
  };
  B.allocUnsafe = (size: unknown) => {
    largest = Math.max(largest, Number(size));
    return realUnsafe(Number(size));
  };
  try {
    body();
  } finally {
    B.alloc = realAlloc as never;
    B.allocUnsafe = realUnsafe as never;
  }
  return largest;
}
