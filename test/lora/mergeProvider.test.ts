// The execution provider asked for (recipe, CLI --provider, editor setting) reaches the merge's
// products; a provider that cannot load here is reported as a warning, not silently replaced by cpu;
// a caller's engine is used, and products: 'onnx' means ONNX Runtime.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { probeProviders } from '../../server/src/engine/onnx/session';
import { createMatMulEngine, type MatMulEngine } from '../../server/src/engine/onnx/matmul';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
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

test("products: 'onnx' runs on ONNX Runtime; a caller's engine is used (twice); both match the JS products", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'merge-engine-'));
  try {
    // two tiny PEFT adapters (one module, 12×10, ranks 3 and 2)
    const u = seededRandom(5);
    const inputs = [3, 2].map((r, i) => {
      const dir = path.join(tmp, `in${i}`);
      fs.mkdirSync(dir);
      writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), [
        { name: 'base_model.model.l.q.lora_A.weight', dtype: 'F64', shape: [r, 10], data: Array.from({ length: r * 10 }, () => u() - 0.5) },
        { name: 'base_model.model.l.q.lora_B.weight', dtype: 'F64', shape: [12, r], data: Array.from({ length: 12 * r }, () => u() - 0.5) },
      ]);
      fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r, lora_alpha: 2 * r, target_modules: ['q'] }));
      return { name: `in${i}`, path: dir, weight: i === 0 ? 0.6 : -0.4 };
    });
    const js = await mergeAdapters(inputs, { method: 'svd', rank: 4, products: 'js' }, path.join(tmp, 'js'));
    assert.equal(js.products, 'js');
    const onnx = await mergeAdapters(inputs, { method: 'svd', rank: 4, products: 'onnx' }, path.join(tmp, 'onnx'));
    const jsTies = await mergeAdapters(inputs, { method: 'ties', density: 0.5, rank: 4, products: 'js' }, path.join(tmp, 'js-ties'));
    assert.equal(onnx.products, 'onnxruntime-cpu');
    // every product through the session (tiny ones would otherwise run in JS)
    const real = await createMatMulEngine({ provider: 'cpu', minOnnxWork: 0 });
    // the caller's engine, its products and disposals counted
    const calls = { products: 0, dispose: 0 };
    const engine: MatMulEngine = {
      provider: real.provider,
      matmul: (...args) => (calls.products++, real.matmul(...args)),
      matmul64: (...args) => (calls.products++, real.matmul64(...args)),
      dispose: () => (calls.dispose++, real.dispose()),
    };
    try {
      for (const tag of ['engine', 'engine-again']) {
        const before = calls.products;
        // ties: its dense blocks are the engine's products (svd's run on their own graphs)
        const res = await mergeAdapters(inputs, { method: 'ties', density: 0.5, rank: 4, engine }, path.join(tmp, tag));
        assert.equal(res.products, 'onnxruntime-cpu');
        assert.ok(calls.products > before, 'the products ran on the engine given');
        assert.equal(calls.dispose, 0, 'the caller disposes its own engine');
        for (const m of Object.keys(jsTies.energyKept.perModule)) assert.ok(Math.abs(res.energyKept.perModule[m] - jsTies.energyKept.perModule[m]) < 1e-9, m);
      }
    } finally {
      await real.dispose();
    }
    for (const m of Object.keys(js.energyKept.perModule)) assert.ok(Math.abs(onnx.energyKept.perModule[m] - js.energyKept.perModule[m]) < 1e-9, m);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
