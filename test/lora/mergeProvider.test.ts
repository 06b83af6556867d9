// The execution provider asked for (recipe, CLI --provider, editor setting) reaches the merge's
// products; a provider that cannot load here is reported as a warning, not silently replaced by cpu.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { probeProviders } from '../../server/src/engine/onnx/session';
import { REAL_LORAS } from '../sharedData';

test('merge products run on the requested provider, or say why not', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'merge-provider-'));
  try {
    const inputs = [
      { name: 'tigrinya', path: path.join(REAL_LORAS, 'peft-gpt2/tigrinya-causal-lm'), weight: 0.6 },
      { name: 'gradience', path: path.join(REAL_LORAS, 'peft-gpt2/dialogpt-small-synthetic-gradience'), weight: 0.4 },
    ];
    const cpu = await mergeAdapters(inputs, { method: 'svd', rank: 4, provider: 'cpu' }, path.join(tmp, 'cpu'));
    assert.equal(cpu.products, 'onnxruntime-cpu');
    assert.ok(!cpu.warnings.some((w) => /cuda/i.test(w)), cpu.warnings.join('\n'));

    const cuda = await mergeAdapters(inputs, { method: 'svd', rank: 4, provider: 'cuda' }, path.join(tmp, 'cuda'));
    const cudaHere = (await probeProviders()).find((p) => p.provider === 'cuda')?.available;
    if (cudaHere) assert.equal(cuda.products, 'onnxruntime-cuda');
    else {
      assert.equal(cuda.products, 'onnxruntime-cpu');
      assert.ok(cuda.warnings.some((w) => /cuda/i.test(w)), `the fallback from cuda is reported: ${cuda.warnings.join(' | ')}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
