// ties / dare_ties on a real gpt2 adapter pair against the dense reference of the published algorithms
// (entrywiseReference.ts), within the truncation error the merge reports. A file of its own: it takes
// ~40 s, so the mutation run (scripts/mutate.mjs) can list it after the fast merge tests.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deltaOf } from '../../server/src/engine/lora/adapter';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { mergeAdapters, readComposite } from '../../server/src/engine/lora/merge';
import { REAL_LORAS } from '../sharedData';
import { referenceMerge, relErr } from './entrywiseReference';

const REAL = REAL_LORAS;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrywise-real-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const gpt2 = [
  { name: 'tigrinya', path: `${REAL}/peft-gpt2/tigrinya-causal-lm`, weight: 0.6 },
  { name: 'gradience', path: `${REAL}/peft-gpt2/dialogpt-small-synthetic-gradience`, weight: 0.4 },
];

// the shared real LoRA files are required, never skipped (test/sharedData.ts)
test('real gpt2 pair: ΔW of the ties / dare_ties composites vs the dense reference, within the reported truncation error', async () => {
  const a = gpt2.map((g) => openAdapter(g.path));
  const shared = [...a[0].modules.keys()].filter((k) => a[1].modules.has(k)).sort();
  const checked = [shared[0], shared[shared.length - 1]];
  for (const method of ['ties', 'dare_ties'] as const) {
    const out = path.join(tmp, `gpt2-${method}`);
    // the randomized route (the exact one costs seconds per 768-wide module here); the reported error is measured either way
    const res = await mergeAdapters(gpt2, { method, rank: 16, density: 0.2, seed: 0, dtype: 'f32', truncation: 'randomized' }, out);
    const composite = readComposite(out);
    for (const module of checked) {
      const deltas = a.map((ad, i) => deltaOf(ad, module).map((v) => v * gpt2[i].weight));
      const ref = referenceMerge(deltas, gpt2.map((g) => g.name), gpt2.map((g) => g.weight), { method, density: 0.2, normalize: false, seed: 0, module });
      const actual = relErr(deltaOf(composite, module), ref);
      const reported = res.entrywise!.relativeError[module];
      // f32 output rounding adds ~1e-7 relative
      assert.ok(Math.abs(actual - reported) < 1e-5, `${method} ${module}: actual ${actual}, reported ${reported}`);
      assert.ok(reported > 0 && reported < 1);
      assert.equal(res.entrywise!.route[module], 'randomized');
    }
  }
});
