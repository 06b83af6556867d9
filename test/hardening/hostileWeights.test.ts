/**
 * Numbers that do not survive (issue 10, items 11 and 12): an f16 composite of entries near 2e5
 * (cat) or an svd of entries near 3e38 came out as ±Infinity without a word, and `library add`
 * accepted weights containing NaN/Infinity (refused only at compose). Real safetensors files, the
 * real merge and the real library.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeAdapters } from '../../server/src/engine/lora/merge';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { initLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { isComposerError } from '../../server/src/engine/errors';
import { f16BitsToNumber, numberToF16Bits } from '../../server/src/engine/lora/dtypes';

let tmp: string;
const A = (m: string) => `base_model.model.${m}.lora_A.weight`;
const B = (m: string) => `base_model.model.${m}.lora_B.weight`;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hardening-weights-'));
});

/** A one-module PEFT adapter (q: 8×6, rank 2, α = r) whose A is filled with `a` and B with `b`. */
function adapter(name: string, a: number[] | number, b: number[] | number): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const fill = (v: number[] | number, n: number) => (Array.isArray(v) ? v : Array.from({ length: n }, (_, i) => v * (1 + (i % 3) / 10)));
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), [
    { name: A('layers.0.q'), dtype: 'F32', shape: [2, 6], data: fill(a, 12) },
    { name: B('layers.0.q'), dtype: 'F32', shape: [8, 2], data: fill(b, 16) },
  ]);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 2, target_modules: ['q'], base_model_name_or_path: 'toy' }));
  return dir;
}

test('an f16 composite that overflows is refused, naming the module and the fix; nothing is written', async () => {
  // Independent fact: 2e5 is beyond f16 (it encodes to Infinity); 6e4 is not.
  assert.equal(f16BitsToNumber(numberToF16Bits(2e5)), Infinity);
  assert.ok(Number.isFinite(f16BitsToNumber(numberToF16Bits(6e4))));
  const big = adapter('big', 2e5, 1);
  const huge = adapter('huge', 2.5e38, 2.5e38); // ≤ 3e38 after the fill's ×1.2: finite in the f32 input
  const small = adapter('small', 0.5, 0.25);
  const cases: [string, { name: string; path: string; weight: number }[], 'cat' | 'svd'][] = [
    ['cat-2e5', [{ name: 'big', path: big, weight: 1 }, { name: 'small', path: small, weight: 0.5 }], 'cat'],
    ['svd-2.5e38', [{ name: 'huge', path: huge, weight: 1 }, { name: 'small', path: small, weight: 0.5 }], 'svd'],
  ];
  for (const [name, inputs, method] of cases) {
    const out = path.join(tmp, `out-${name}`);
    await assert.rejects(mergeAdapters(inputs, { method, rank: 2, dtype: 'f16', products: 'js' }, out), (e: unknown) => {
      assert.ok(isComposerError(e), String(e));
      assert.match(e.message, /module "layers\.0\.q": the composite overflows f16/);
      assert.match(e.hint ?? '', /merge\.dtype: bf16.*f32/);
      return true;
    }, name);
    assert.ok(!fs.existsSync(out), `${name}: no output folder`);
  }
  // The same 2e5 input in bf16 or f32 is fine, and so is f16 with small values.
  const ok = await mergeAdapters(cases[0][1], { method: 'cat', dtype: 'bf16', products: 'js' }, path.join(tmp, 'out-bf16'));
  assert.equal(ok.dtype, 'BF16');
  await mergeAdapters([{ name: 'small', path: small, weight: 1 }], { method: 'cat', dtype: 'f16', products: 'js' }, path.join(tmp, 'out-small-f16'));
});

test('`library add` refuses weights containing NaN or Infinity, naming the tensor; the library is unchanged', async () => {
  const library = await initLibrary(path.join(tmp, 'lib'), { dim: 4 });
  const version = await library.version();
  const cases: [string, number[], number[], RegExp][] = [
    ['nan-in-a', [0.1, 0.1, NaN, ...new Array(9).fill(0.1)], new Array(16).fill(0.1), /tensor "base_model\.model\.layers\.0\.q\.lora_A\.weight" has NaN at element 2/],
    ['inf-in-b', new Array(12).fill(0.1), [...new Array(15).fill(0.1), -Infinity], /tensor "base_model\.model\.layers\.0\.q\.lora_B\.weight" has -Infinity at element 15/],
  ];
  for (const [name, a, b, pattern] of cases) {
    const dir = adapter(name, a, b);
    await assert.rejects(async () => library.add(await adapterRecord(library, { adapterPath: dir, name, source: { vector: new Float64Array(4).fill(0.1) } })), (e: unknown) => {
      assert.ok(isComposerError(e), String(e));
      assert.equal(e.code, 'non-finite');
      assert.match(e.message, pattern);
      assert.ok(e.location?.file?.startsWith(dir));
      return true;
    }, name);
  }
  // A finite adapter is accepted.
  await library.add(await adapterRecord(library, { adapterPath: adapter('finite', 0.1, 0.2), name: 'finite', source: { vector: new Float64Array(4).fill(0.1) } }));
  assert.equal(await library.size(), 1);
  assert.ok((await library.version()) > version);
  library.close();
});
