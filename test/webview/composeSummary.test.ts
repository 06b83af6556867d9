/** The Compose notification's text (client/src/composeSummary.ts), from a compose result. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeSummary, formatBytes } from '../../client/src/composeSummary';

test('says rank, size, the top weights, kept energy when truncated and the metrics', () => {
  const text = composeSummary({
    rank: 16, strategy: 'sparse', method: 'svd',
    weights: { a: 0.5, b: 0.25, c: -0.125, d: 0.375, e: 0 },
    energy_kept: { min: 0.9712, mean: 0.99 },
    evaluation: { status: 'ok', metrics: { accuracy: 0.9134, nll: 0.3071 } },
  }, 'out', 3 * 1024 * 1024);
  assert.equal(text, 'Composed out: rank 16, 3 MiB · sparse: a 0.5, d 0.375, b 0.25 +1 more · truncated: kept energy ≥ 97.1% (mean 99.0%) · accuracy 0.913, nll 0.307');
});

test('an exact merge says nothing about energy; a failed evaluator says so', () => {
  const text = composeSummary({ rank: 8, strategy: 'avg', weights: { a: 0.5, b: 0.5 }, energy_kept: { min: 1, mean: 1 },
    evaluation: { status: 'timeout', metrics: {}, message: 'after 60 s' } }, 'x');
  assert.equal(text, 'Composed x: rank 8 · avg: a 0.5, b 0.5 · evaluator timeout: after 60 s');
});

test('formats sizes in binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5 GiB');
});
