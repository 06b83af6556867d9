// Refusals quote the offending config value as written: a non-string `peft_type` or `fine_tune_type`
// is shown as JSON, not as `[object Object]` (found by the lint's no-base-to-string rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComposerError } from '../../server/src/engine/errors';
import { parsePeftConfig } from '../../server/src/engine/lora/peftFormat';
import { mlxScale } from '../../server/src/engine/lora/mlxFormat';

function refusal(run: () => unknown): ComposerError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof ComposerError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

test('a peft_type that is not a string is quoted as JSON in the refusal', () => {
  const value = { kind: 'LOKR', nested: [1, 2] };
  const e = refusal(() => parsePeftConfig({ peft_type: value, r: 4, lora_alpha: 8 }, 'adapter_config.json'));
  assert.ok(e.message.includes(JSON.stringify(value)), e.message);
  assert.doesNotMatch(e.message, /object Object/i);
});

test('a string peft_type keeps its named reason (upper-cased)', () => {
  const e = refusal(() => parsePeftConfig({ peft_type: 'lokr', r: 4, lora_alpha: 8 }, 'adapter_config.json'));
  assert.match(e.message, /PEFT adapter of type LOKR: LoKr \(Kronecker-product update\), not LoRA/);
});

test('an MLX fine_tune_type that is not a string is quoted as JSON in the refusal', () => {
  const value = ['lora', 'full'];
  const e = refusal(() => mlxScale({ fine_tune_type: value }, 'adapter_config.json', []));
  assert.ok(e.message.includes(JSON.stringify(value)), e.message);
  assert.doesNotMatch(e.message, /object Object|lora,full/);
});

test('a string MLX fine_tune_type is quoted as before', () => {
  const e = refusal(() => mlxScale({ fine_tune_type: 'full' }, 'adapter_config.json', []));
  assert.match(e.message, /fine_tune_type "full", not LoRA/);
});
