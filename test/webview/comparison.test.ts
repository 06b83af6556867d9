/** The Compare-with-HEAD table's data (no browser): text of each cell and the bar of each Δ. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareResult } from '../../server/src/protocol';
import { changedFields, comparisonRows } from '../../webview/src/comparison';

const result: CompareResult = {
  old: 'HEAD:r.compose.lock',
  new: 'r.compose.lock',
  weights: [
    { adapter: 'f', old: 0.375, new: 0.25, delta: -0.125 },
    { adapter: 'd', old: null, new: 0.025, delta: 0.025 },
    { adapter: 'g', old: 0.1, new: null, delta: -0.1 },
    { adapter: 'b', old: 0.3, new: 0.3, delta: 0 },
  ],
  added: ['d'],
  removed: ['g'],
  changed: [{ field: 'strategy', old: 'sparse', new: 'convex' }, { field: 'candidates[f].sha256', old: 'a'.repeat(64), new: null }],
  metrics: [],
  same: false,
};

test('rows: old/new/Δ as text, status of added and removed adapters, bars relative to the largest |Δ|', () => {
  const rows = comparisonRows(result);
  assert.deepEqual(rows.map((r) => [r.adapter, r.status, r.old, r.new, r.delta]), [
    ['f', '', '0.3750', '0.2500', '−0.1250'],
    ['d', 'added', '–', '0.0250', '+0.0250'],
    ['g', 'removed', '0.1000', '–', '−0.1000'],
    ['b', '', '0.3000', '0.3000', '0'],
  ]);
  const largest = Math.max(...result.weights.map((w) => Math.abs(w.delta)));
  rows.forEach((r, i) => assert.equal(r.bar, result.weights[i].delta / largest));
  assert.equal(rows[0].bar, -1);
});

test('no change gives zero-width bars; fields shorten hashes and show – for null', () => {
  const same = { ...result, weights: [{ adapter: 'a', old: 1, new: 1, delta: 0 }] };
  assert.deepEqual(comparisonRows(same).map((r) => r.bar), [0]);
  assert.deepEqual(changedFields(result), [['strategy', 'sparse', 'convex'], ['candidates[f].sha256', `${'a'.repeat(12)}…`, '–']]);
});
