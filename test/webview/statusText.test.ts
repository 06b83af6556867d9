/**
 * The status bar item's text (client/src/statusText.ts). Seen in code-server: before a recipe was open the
 * item read only `auto` (the execution-provider setting), with nothing saying it was Adapter Composer's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusFacts } from '../../client/src/statusText';

test('before a library is known the item names itself and says what `auto` is', () => {
  assert.equal(statusFacts({ state: 'idle', provider: 'auto' }), 'Adapter Composer · provider auto');
  assert.equal(statusFacts({ state: 'busy' }), 'Adapter Composer');
});

test('with a library: size, encoder and provider, as before', () => {
  assert.equal(statusFacts({ state: 'idle', librarySize: 14, encoder: 'encoder.onnx (16-d)', provider: 'cpu' }), '14 adapters · encoder.onnx (16-d) · cpu');
  assert.equal(statusFacts({ state: 'idle', librarySize: 1, provider: 'cpu' }), '1 adapter · cpu');
});
