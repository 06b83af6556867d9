// The svd merge's thread split: mixing workers grow with the cores, ONNX Runtime gets the rest, and a
// small merge starts no worker (mergeThreads.ts; the bytes do not depend on any of it: svdBlocks.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMixThreads, modulesAhead, productThreads, svdThreads } from '../../server/src/engine/lora/mergeThreads';

test('mixing workers: none for a small merge, one on 2–6 cores, one per 3 cores beyond, at most 4; ORT gets the other cores', () => {
  assert.equal(defaultMixThreads(7, 64, 16), 0, 'fewer than 8 modules');
  assert.equal(defaultMixThreads(560, 31, 16), 0, 'inner rank under 32');
  assert.equal(defaultMixThreads(8, 32, 16), 4, 'exactly 8 modules of inner rank 32: workers start');
  const byCores = [1, 2, 4, 6, 7, 10, 13, 16, 64].map((cores) => defaultMixThreads(560, 256, cores));
  assert.deepEqual(byCores, [1, 1, 1, 1, 2, 3, 4, 4, 4]);
  for (const cores of [2, 16, 64]) {
    const mix = defaultMixThreads(560, 256, cores);
    assert.equal(productThreads(mix, cores), Math.max(1, cores - mix), `${cores} cores`);
  }
  assert.equal(productThreads(0, 16), undefined, 'no workers: ORT decides');
  assert.equal(productThreads(1, 1), 1, 'never below one thread');
});

test('modules prepared ahead fit their memory budget, at least one; the workers never outnumber them', () => {
  const MB = 1024 * 1024;
  // 70B shapes, bf16 inputs (float32 panels): the widest module is 28672 + 8192 wide
  const panels = (R: number) => R * (28672 + 8192) * 4;
  for (const R of [64, 256, 512, 1024, 8192]) {
    const ahead = modulesAhead(panels(R), 256 * MB);
    assert.ok(ahead >= 1, `R = ${R}: at least one module ahead`);
    assert.ok(ahead === 1 || (ahead + 1) * panels(R) <= 256 * MB, `R = ${R}: ${ahead} ahead + the current one fit 256 MB`);
    assert.ok((ahead + 2) * panels(R) > 256 * MB, `R = ${R}: one more would not fit`);
  }
  const split = (R: number, cores: number, requested?: number) => svdThreads({ modules: 560, innerRank: R, panelBytes: panels(R), requested }, cores);
  assert.deepEqual(split(256, 16), { mix: 4, ort: 12 }, '4 × r64 on 16 cores: 4 workers');
  assert.deepEqual(split(512, 16), { mix: modulesAhead(panels(512)), ort: 16 - modulesAhead(panels(512)) }, '8 × r64: capped by memory');
  assert.ok(split(512, 16).mix < 4);
  assert.deepEqual(split(256, 2), { mix: 1, ort: 1 }, '2 cores: unchanged');
  assert.deepEqual(split(256, 16, 7), { mix: Math.min(7, modulesAhead(panels(256))), ort: 16 - Math.min(7, modulesAhead(panels(256))) }, 'a request is capped too');
  assert.deepEqual(svdThreads({ modules: 4, innerRank: 256, panelBytes: panels(256) }, 16), { mix: 0, ort: undefined }, 'a small merge: inline');
});

