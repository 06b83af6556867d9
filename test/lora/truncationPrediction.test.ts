import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { predictTruncation } from '../../server/src/engine/lora/truncationPrediction';
import { peftDense } from './peftReference';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-predict-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const rng = (seed: number): (() => number) => {
  const uniform = seededRandom(seed);
  return () => uniform() - 0.5;
};

function writePeft(dir: string, modules: Record<string, { out: number; in: number; r: number }>, alpha: number, seed: number) {
  const r = rng(seed);
  fs.mkdirSync(dir, { recursive: true });
  const tensors = [];
  const rank = Object.values(modules)[0].r;
  for (const [name, m] of Object.entries(modules)) {
    tensors.push({ name: `base_model.model.${name}.lora_A.weight`, dtype: 'F64', shape: [m.r, m.in], data: Array.from({ length: m.r * m.in }, r) });
    tensors.push({ name: `base_model.model.${name}.lora_B.weight`, dtype: 'F64', shape: [m.out, m.r], data: Array.from({ length: m.out * m.r }, r) });
  }
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors as never);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: alpha, target_modules: ['q', 'v'], base_model_name_or_path: 'toy' }));
}

test('the truncation an svd merge makes is predicted from the factors before composing (kept energy, relative ΔW error)', async () => {
  const shapes = { 'l.0.q': { out: 23, in: 17, r: 3 }, 'l.0.v': { out: 9, in: 31, r: 3 } };
  const inputs = [1, 2, 3].map((seed, i) => {
    const dir = path.join(tmp, `a${seed}`);
    writePeft(dir, shapes, 4 + seed, seed);
    return { name: `a${seed}`, path: dir, weight: [0.6, -0.3, 0.7][i] };
  });
  for (const rank of [1, 2, 5, 8, 9, 12]) {
    const predicted = await predictTruncation(inputs, rank);
    const out = path.join(tmp, `svd-${rank}`);
    const merged = await mergeAdapters(inputs, { method: 'svd', rank, dtype: 'f64', products: 'js' }, out);
    let num = 0;
    let den = 0;
    let maxError = 0;
    for (const [module, s] of Object.entries(shapes)) {
      const reference = new Float64Array(s.out * s.in);
      for (const input of inputs) { const d = peftDense(input.path, module)!; for (let x = 0; x < d.length; x++) reference[x] += input.weight * d[x]; }
      const composite = peftDense(out, module)!;
      let n = 0;
      let r = 0;
      for (let x = 0; x < reference.length; x++) { n += (composite[x] - reference[x]) ** 2; r += reference[x] ** 2; }
      num += n;
      den += r;
      maxError = Math.max(maxError, Math.sqrt(n / r));
      assert.ok(Math.abs(merged.energyKept.perModule[module] - 1 + n / r) < 1e-9 || rank >= 9, `${module} rank ${rank}`);
    }
    const overall = Math.sqrt(num / den);
    const truncates = rank < 9;
    assert.equal(predicted.truncatedModules, truncates ? 2 : 0, `rank ${rank}`);
    assert.ok(Math.abs(predicted.relativeError.overall - overall) <= 1e-7, `rank ${rank}: predicted ${predicted.relativeError.overall}, dense ${overall}`);
    assert.ok(Math.abs(predicted.relativeError.max - maxError) <= 1e-7, `rank ${rank}: predicted max ${predicted.relativeError.max}, dense ${maxError}`);
    assert.ok(Math.abs(predicted.energyKept.min - merged.energyKept.min) <= 1e-12, `rank ${rank}: energy as compose reports it`);
    if (!truncates) assert.ok(overall < 1e-12 && predicted.relativeError.overall === 0);
  }
});
