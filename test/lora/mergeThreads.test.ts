// The svd merge's thread split: mixing workers grow with the cores, ONNX Runtime gets the rest, and a
// small merge starts no worker (mergeThreads.ts; the bytes do not depend on any of it: svdBlocks.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMixThreads, productThreads } from '../../server/src/engine/lora/mergeThreads';

test('mixing workers: none for a small merge, one on 2–6 cores, one per 3 cores beyond, at most 4; ORT gets the other cores', () => {
  assert.equal(defaultMixThreads(7, 64, 16), 0, 'fewer than 8 modules');
  assert.equal(defaultMixThreads(560, 31, 16), 0, 'inner rank under 32');
  const byCores = [1, 2, 4, 6, 7, 10, 13, 16, 64].map((cores) => defaultMixThreads(560, 256, cores));
  assert.deepEqual(byCores, [1, 1, 1, 1, 2, 3, 4, 4, 4]);
  for (const cores of [2, 16, 64]) {
    const mix = defaultMixThreads(560, 256, cores);
    assert.equal(productThreads(mix, cores), Math.max(1, cores - mix), `${cores} cores`);
  }
  assert.equal(productThreads(0, 16), undefined, 'no workers: ORT decides');
  assert.equal(productThreads(1, 1), 1, 'never below one thread');
});
