/**
 * Property tests over every parser that reads a file a user (or a stranger) hands us: ≥ 10,000
 * seeded random and mutated inputs each (×FUZZ_SCALE under `npm run fuzz`). Each input must give a
 * correct result or a located ComposerError — never another exception, never more than
 * PER_INPUT_MS, never a Buffer larger than the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSafetensorsHeader, parseSafetensorsHeader, SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { DTYPE_SIZES } from '../../server/src/engine/lora/dtypes';
import { encodeNpy, parseNpy, readNpy, readNpyRows } from '../../server/src/engine/prototype/npy';
import { parsePeftConfig, patternValue } from '../../server/src/engine/lora/peftFormat';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { describeAdapter } from '../../server/src/engine/lora/describe';
import { checkRecipe } from '../../server/src/engine/recipe/check';
import { lockDrift, readLock, stableJson, type LockFile } from '../../server/src/engine/lock';
import { assertNotSlow, fuzzCase, PER_INPUT_MS, inputs, largestBufferAllocation, mutateBytes, newTally, seededRandom, type FuzzTally } from './fuzzing';

// tmpfs when there is one: these tests write thousands of small files
const tmp = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'ac-hardening-parsers-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const counts = new Map<string, FuzzTally>();
function tallyFor(name: string): FuzzTally {
  if (!counts.has(name)) counts.set(name, newTally());
  return counts.get(name)!;
}
process.on('exit', () => {
  if (!process.env.FUZZ_REPORT) return;
  for (const [name, t] of counts) console.error(`fuzz ${name}: ${t.accepted + t.refused} inputs, ${t.accepted} accepted, ${t.refused} refused (${[...t.codes].map(([c, n]) => `${c} ${n}`).join(', ')}), slowest ${t.slowestMs.toFixed(1)} ms`);
});

const show = (bytes: Uint8Array) => () => JSON.stringify(Buffer.from(bytes.subarray(0, 300)).toString('latin1'));

// ---------------------------------------------------------------------------------------------
// safetensors

const DTYPES = Object.keys(DTYPE_SIZES);

function hostileValue(r: () => number, depth = 0): unknown {
  switch (Math.floor(r() * 12)) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 40) - 5;
    case 3: return [2 ** 53, 2 ** 53 + 2, 1e308, -0, 2 ** 31, 2 ** 32 + 1][Math.floor(r() * 6)];
    case 4: return DTYPES[Math.floor(r() * DTYPES.length)];
    case 5: return '\u0000\ud800x'.repeat(Math.floor(r() * 4));
    case 6: return depth < 4 ? Array.from({ length: Math.floor(r() * 4) }, () => hostileValue(r, depth + 1)) : [];
    case 7: return depth < 4 ? { dtype: hostileValue(r, depth + 1), shape: hostileValue(r, depth + 1), data_offsets: hostileValue(r, depth + 1) } : {};
    case 8: return 1.5;
    case 9: return '__proto__';
    default: return r() * 100;
  }
}

/** A header that is right except for one or two chosen faults (overlaps, holes, huge shapes, …). */
function faultyHeader(r: () => number): { json: string; dataLength: number } {
  const n = 1 + Math.floor(r() * 4);
  const entries: string[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const dtype = DTYPES[Math.floor(r() * DTYPES.length)] as keyof typeof DTYPE_SIZES;
    let shape: unknown[] = Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * 5));
    let bytes = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_SIZES[dtype];
    let begin = offset;
    const fault = r();
    if (fault < 0.08) begin = Math.max(0, begin - 1 - Math.floor(r() * 4)); // overlap
    else if (fault < 0.14) begin += 1 + Math.floor(r() * 3); // hole
    else if (fault < 0.22) { shape = [2 ** 40, 2 ** 40]; } // huge declared shape, small span
    else if (fault < 0.28) { shape = [2 ** 26, 2 ** 26, 2 ** 26]; bytes = 2 ** 53; } // overflow
    else if (fault < 0.32) shape = [-1, 4];
    else if (fault < 0.36) shape = [1.5];
    else if (fault < 0.40) bytes = -bytes - 1;
    const end = begin + bytes;
    const name = r() < 0.05 ? '__proto__' : r() < 0.05 ? '' : `layer.${i}.lora_${r() < 0.5 ? 'A' : 'B'}.weight`;
    entries.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`);
    offset = Math.max(offset, end);
  }
  if (r() < 0.1) entries.push(entries[0]); // duplicate key
  if (r() < 0.2) entries.push(`"__metadata__":${r() < 0.5 ? '{"format":"pt"}' : JSON.stringify(hostileValue(r))}`);
  const dataLength = r() < 0.85 ? Math.max(0, offset) : Math.floor(r() * 200);
  return { json: `{${entries.join(',')}}`, dataLength };
}

test('safetensors headers: 10,000+ random, faulty and mutated headers parse correctly or fail cleanly', () => {
  const r = seededRandom(0x5afe);
  const tally = tallyFor('safetensors header');
  const valid = buildSafetensorsHeader([
    { name: 'base_model.model.q_proj.lora_A.weight', dtype: 'F32', shape: [4, 8] },
    { name: 'base_model.model.q_proj.lora_B.weight', dtype: 'BF16', shape: [8, 4] },
    { name: 'scalar', dtype: 'F16', shape: [] },
  ], { format: 'pt' });
  const validJson = valid.header.subarray(8);
  const file = 'fuzz.safetensors';
  const n = inputs(10_000);
  for (let i = 0; i < n; i++) {
    let header: Uint8Array;
    let dataLength = valid.dataLength;
    const kind = i % 6;
    if (kind <= 1) header = mutateBytes(r, validJson);
    else if (kind <= 3) {
      const h = faultyHeader(r);
      header = Buffer.from(h.json);
      dataLength = h.dataLength;
    } else if (kind === 4) {
      header = Buffer.from(JSON.stringify(hostileValue(r)) ?? 'null');
      dataLength = Math.floor(r() * 64);
    } else {
      // deep nesting and long strings: JSON.parse limits, not ours, must still end as ComposerError
      const depth = 1 + Math.floor(r() * 20_000);
      header = Buffer.from(r() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : `{"a":{"dtype":"F32","shape":[${'1,'.repeat(depth)}1],"data_offsets":[0,4]}}`);
      dataLength = 4;
    }
    fuzzCase(tally, i, file, ['safetensors'], () => {
      const parsed = parseSafetensorsHeader(header, dataLength, file);
      let covered = 0;
      for (const t of parsed.tensors.values()) {
        assert.ok(t.begin >= 0 && t.begin <= t.end && t.end <= dataLength);
        assert.equal(t.end - t.begin, t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZES[t.dtype]);
        covered += t.end - t.begin;
      }
      assert.equal(covered, dataLength, 'tensors cover the data section exactly (no overlap, no hole)');
    }, show(header));
  }
  assert.ok(tally.accepted > 200 && tally.refused > 5000, `accepted ${tally.accepted}, refused ${tally.refused}`);
});

test('safetensors files on disk: mutated files open and read within the file size, or fail cleanly', () => {
  const r = seededRandom(0xf11e);
  const tally = tallyFor('safetensors file');
  const source = path.join(tmp, 'source.safetensors');
  writeFloatTensors(source, [
    { name: 'base_model.model.q_proj.lora_A.weight', dtype: 'F32', shape: [2, 6], data: Array.from({ length: 12 }, (_, i) => i / 7) },
    { name: 'base_model.model.q_proj.lora_B.weight', dtype: 'F16', shape: [6, 2], data: Array.from({ length: 12 }, (_, i) => -i / 3) },
  ]);
  const original = fs.readFileSync(source);
  const file = path.join(tmp, 'fuzz.safetensors');
  const n = inputs(1_000);
  for (let i = 0; i < n; i++) {
    let bytes: Buffer = Buffer.from(original);
    const op = i % 5;
    if (op === 0) bytes = Buffer.from(mutateBytes(r, bytes));
    else if (op === 1) bytes.writeBigUInt64LE(BigInt(Math.floor(r() * 2 ** 32)) * BigInt(1 + Math.floor(r() * 2 ** 21)), 0); // header length lies
    else if (op === 2) bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
    else if (op === 3) bytes = Buffer.concat([Buffer.from([0x80, 0x02, 0x63]), bytes.subarray(3)]); // a pickle renamed .safetensors
    else bytes = Buffer.concat([bytes, Buffer.alloc(1 + Math.floor(r() * 16))]);
    fs.writeFileSync(file, bytes);
    let largest = 0;
    fuzzCase(tally, i, file, ['safetensors'], () => {
      largest = largestBufferAllocation(() => {
        const st = SafetensorsFile.open(file);
        for (const t of st.tensors.values()) {
          if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64') assert.equal(st.readFloat64(t.name).length, t.shape.reduce((a, b) => a * b, 1));
          else st.readBytes(t.name);
        }
      });
    }, show(bytes));
    assert.ok(largest <= bytes.length, `case ${i}: allocated ${largest} bytes for a ${bytes.length}-byte file`);
  }
  assert.ok(tally.refused > n / 2, `refused only ${tally.refused}`);
});

// ---------------------------------------------------------------------------------------------
// npy

function npyWithHeader(dict: string, major: number, data: Uint8Array): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const body = dict + ' '.repeat((64 - ((preamble + dict.length + 1) % 64)) % 64) + '\n';
  const headerBytes = major === 3 ? Buffer.from(body, 'utf8') : Buffer.from(body, 'latin1');
  const out = new Uint8Array(preamble + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, preamble);
  out.set(data, preamble + headerBytes.length);
  return out;
}

function randomNpy(r: () => number): Uint8Array {
  const kind = Math.floor(r() * 6);
  const rows = Math.floor(r() * 4);
  const dim = 1 + Math.floor(r() * 6);
  if (kind === 0) return encodeNpy(Float32Array.from({ length: rows * dim }, () => r() - 0.5), [rows, dim]);
  if (kind === 1) return encodeNpy(Float64Array.from({ length: dim }, () => (r() < 0.05 ? NaN : r())), [dim]);
  const descr = ['<f2', '>f4', '<f8', '=f4', '|f2', '<i4', '|O', '<U8', '<c8', '>f8'][Math.floor(r() * 10)];
  const size = Number(/\d+/.exec(descr)?.[0] ?? 8);
  const shape = r() < 0.1 ? [2 ** 40, 2 ** 40] : r() < 0.1 ? [-1] : [rows, dim];
  const count = shape.every((d) => d >= 0 && d < 1000) ? shape.reduce((a, b) => a * b, 1) : 3;
  const data = Uint8Array.from({ length: count * size + (r() < 0.1 ? Math.floor(r() * 5) - 2 : 0) }, () => Math.floor(r() * 256));
  const fortran = r() < 0.3 ? 'True' : 'False';
  const shapeText = kind === 5 ? `${'('.repeat(1 + Math.floor(r() * 5000))}1,` : `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  const dict = r() < 0.05 ? `{'__proto__': {'descr': '<f4'}, 'fortran_order': False, 'shape': (1,), }` : `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shapeText}, }`;
  return npyWithHeader(dict, [1, 2, 3][Math.floor(r() * 3)], data.subarray(0, Math.max(0, data.length)));
}

test('npy: 10,000+ random and mutated arrays decode to their shape or fail cleanly', () => {
  const r = seededRandom(0x4e5059);
  const tally = tallyFor('npy');
  const file = 'fuzz.npy';
  const n = inputs(10_000);
  for (let i = 0; i < n; i++) {
    let bytes = randomNpy(r);
    if (i % 2 === 1) bytes = mutateBytes(r, bytes);
    fuzzCase(tally, i, file, ['npy', 'dimension'], () => {
      const array = parseNpy(bytes, file);
      const count = array.shape.reduce((a, b) => a * b, 1);
      assert.equal(array.data.length, count);
      // never more elements than the file's bytes can hold (float16 is the smallest item)
      assert.ok(count * 2 <= bytes.length, `case ${i}: ${count} elements from ${bytes.length} bytes`);
    }, show(bytes));
  }
  assert.ok(tally.accepted > 1000 && tally.refused > 3000, `accepted ${tally.accepted}, refused ${tally.refused}`);
});

test('npy files on disk: readNpy / readNpyRows allocate within the file size', () => {
  const r = seededRandom(0x4e5060);
  const tally = tallyFor('npy file');
  const file = path.join(tmp, 'fuzz.npy');
  const n = inputs(600);
  for (let i = 0; i < n; i++) {
    let bytes = randomNpy(r);
    if (i % 2 === 1) bytes = mutateBytes(r, bytes);
    fs.writeFileSync(file, bytes);
    let largest = 0;
    fuzzCase(tally, i, file, ['npy', 'dimension'], () => {
      largest = largestBufferAllocation(() => {
        const whole = readNpy(file);
        let rows = 0;
        if (whole.shape.length <= 2 && whole.shape.length > 0) for (const batch of readNpyRows(file, 2)) rows += batch.rows;
        assert.ok(rows <= Math.max(1, whole.shape[0] ?? 1));
      });
    }, show(bytes));
    assert.ok(largest <= bytes.length, `case ${i}: allocated ${largest} for ${bytes.length} bytes`);
  }
});

// ---------------------------------------------------------------------------------------------
// adapter configs

const VALID_CONFIG = {
  base_model_name_or_path: 'demo/tiny', peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8,
  target_modules: ['q_proj', 'v_proj'], use_rslora: false, rank_pattern: {}, alpha_pattern: {}, modules_to_save: null,
};
const CONFIG_VALUES: unknown[] = [0, -4, 4, 8, 1e308, -1e308, 0.5, NaN, Infinity, '8', 'LORA', 'LOKR', 'ADALORA', 'lora', null, true, false, [], {}, { 'q_proj': 2 }, { '(a+)+$': 2 }, ['x'], 2 ** 53];

function randomConfig(r: () => number): Record<string, unknown> {
  const config: Record<string, unknown> = { ...VALID_CONFIG };
  const edits = 1 + Math.floor(r() * 3);
  const keys = [...Object.keys(VALID_CONFIG), 'use_dora', 'fan_in_fan_out', 'lora_parameters', '__proto__'];
  for (let e = 0; e < edits; e++) {
    const key = keys[Math.floor(r() * keys.length)];
    if (r() < 0.15) delete config[key];
    else config[key] = CONFIG_VALUES[Math.floor(r() * CONFIG_VALUES.length)];
  }
  return config;
}

test('adapter configs in memory: 10,000+ PEFT config variants parse to valid numbers or fail cleanly', () => {
  const r = seededRandom(0xc0f16);
  const tally = tallyFor('adapter_config (in memory)');
  const file = '/x/adapter_config.json';
  const n = inputs(10_000);
  for (let i = 0; i < n; i++) {
    let config: Record<string, unknown>;
    if (i % 4 === 3) {
      // through JSON bytes too: a mutated file either is no object (caller's job) or is parsed
      // (bytes that are no JSON object are the caller's refusal, readJson's; those inputs get a random config)
      const text = Buffer.from(mutateBytes(r, Buffer.from(JSON.stringify(VALID_CONFIG)))).toString('utf8');
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        v = undefined;
      }
      config = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : randomConfig(r);
    } else config = randomConfig(r);
    fuzzCase(tally, i, file, ['adapter-format', 'unsupported-adapter'], () => {
      const parsed = parsePeftConfig(config, file);
      assert.ok(typeof parsed.r === 'number' && parsed.r > 0, `r ${parsed.r}`);
      assert.ok(Number.isFinite(parsed.lora_alpha));
      for (const v of [...Object.values(parsed.rank_pattern), ...Object.values(parsed.alpha_pattern)]) assert.equal(typeof v, 'number');
      // pattern lookups are user regexes: they must not hang on a long module name
      patternValue(parsed.rank_pattern, `base_model.model.${'a'.repeat(40)}.layers.0.self_attn.q_proj!`);
    }, () => JSON.stringify(config));
  }
  assert.ok(tally.accepted > 1000 && tally.refused > 1000, `accepted ${tally.accepted}, refused ${tally.refused}`);
});

test('adapter folders on disk: openAdapter / describeAdapter on config and tensor variants', () => {
  const r = seededRandom(0xad);
  const tally = tallyFor('adapter folder');
  const n = inputs(400);
  for (let i = 0; i < n; i++) {
    const dir = path.join(tmp, `adapter-${i % 8}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    const rank = [4, 4, 4, 2, 0, 3][Math.floor(r() * 6)];
    const tensors = rank > 0 ? [
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', dtype: 'F32' as const, shape: [rank, 6], data: Array.from({ length: rank * 6 }, () => r() - 0.5) },
      { name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight', dtype: 'F32' as const, shape: [5, r() < 0.1 ? rank + 1 : rank], data: [] as number[] },
    ] : [];
    for (const t of tensors) if (t.data.length === 0) t.data = Array.from({ length: t.shape[0] * t.shape[1] }, () => r() - 0.5);
    if (r() < 0.1) tensors.push({ name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector', dtype: 'F32', shape: [5], data: [1, 1, 1, 1, 1] });
    writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors);
    const configFile = path.join(dir, 'adapter_config.json');
    const config = randomConfig(r);
    const text = r() < 0.15 ? Buffer.from(mutateBytes(r, Buffer.from(JSON.stringify(config)))).toString('latin1') : JSON.stringify(config);
    if (r() < 0.9) fs.writeFileSync(configFile, text);
    const located = [dir, configFile, path.join(dir, 'adapter_model.safetensors')];
    const t0 = performance.now();
    try {
      const adapter = openAdapter(dir);
      const facts = describeAdapter(dir);
      assert.ok(facts.rank >= 1 && Number.isFinite(facts.alpha), `case ${i}: rank ${facts.rank} alpha ${facts.alpha}`);
      assert.ok(adapter.modules.size >= 1);
      for (const m of adapter.modules.values()) assert.ok(Number.isFinite(m.scale) && m.rank >= 1, `case ${i}: module scale ${m.scale} rank ${m.rank}`);
      tally.accepted++;
    } catch (e) {
      const ok = e instanceof Error && e.name === 'ComposerError' && located.includes((e as { location?: { file?: string } }).location?.file ?? '');
      assert.ok(ok, `case ${i}: ${(e as Error)?.stack ?? String(e)}\nconfig: ${text}`);
      tally.refused++;
    }
    assertNotSlow(performance.now() - t0, 1000, () => describeAdapter(dir), () => `case ${i}\nconfig: ${text}`);
  }
  assert.ok(tally.accepted > 20 && tally.refused > 20, `accepted ${tally.accepted}, refused ${tally.refused}`);
});

// ---------------------------------------------------------------------------------------------
// recipes

const RECIPES = [
  `compose: 1
name: e
base: facebook/sam-vit-base
library: ../library
target:
  samples: data/e/*.npy
retrieve: { k: 5, exclude: [e], where: "tags = 'prostate'" }
weights:
  strategy: sparse
  lambda: 0.05
merge: { method: svd, rank: 16, dtype: bf16, modules_to_save: refuse }
output: ../out/e
evaluate: { command: [python, score.py, "{output}"], timeout: 600 }
`,
  `compose: 1
base: demo/tiny-transformer
library: ../library
target: { prototype: p.npy }
retrieve:
  adapters: [a, b, c]
weights:
  strategy: manual
  manual: { a: 0.5, b: 0.25, c: 0.25 }
merge:
  method: cat
output: ../out/x
`,
];

const HOSTILE_SNIPPETS = [
  'retrieve: { k: .nan }', 'retrieve: { k: .inf }', 'retrieve: { k: -.inf }', 'retrieve: { k: 1e400 }', 'retrieve: { k: 99999999999999999999999 }',
  'weights: { strategy: sparse, lambda: .nan }', 'weights: { strategy: sim, temperature: -.inf }', 'merge: { rank: 0x7fffffffffffffff }',
  'output: ../../../../etc', 'output: /tmp/../..', 'library: "\u0000"', 'retrieve: { where: "1=1; DROP TABLE adapters" }',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'x: !!binary AAAA', 'x: !!python/object:os.system ["rm -rf /"]', 'x: !custom 1', '<<: *undefined', '? [complex, key]\n: 1',
  '%YAML 1.1\n---', '---\n---\n---', '\ufeffcompose: 1', `x: ${'['.repeat(2000)}`, `x: "${'\\u0000'.repeat(50)}"`,
];

function hostileRecipe(r: () => number, base: string): string {
  const lines = base.split('\n');
  const at = Math.floor(r() * (lines.length + 1));
  lines.splice(at, 0, HOSTILE_SNIPPETS[Math.floor(r() * HOSTILE_SNIPPETS.length)]);
  return lines.join('\n');
}

function mutateText(r: () => number, text: string): string {
  const ALPHABET = Array.from(' \n\t:-{}[],#&*!|>\'"%@`?abcxyz0123456789.\u00e9\u{1F600}\r\u0000');
  let s = text;
  for (let e = 1 + Math.floor(r() * 6); e > 0; e--) {
    const at = Math.floor(r() * (s.length + 1));
    if (r() < 0.4) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
    else {
      let insert = '';
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) insert += ALPHABET[Math.floor(r() * ALPHABET.length)];
      s = s.slice(0, at) + insert + s.slice(at);
    }
  }
  return s;
}

test('recipes: 10,000+ mutated and hostile recipes are checked without throwing, every range in the document', () => {
  const r = seededRandom(0x7ec1be);
  const tally = tallyFor('recipe');
  const n = inputs(10_000);
  let withErrors = 0;
  for (let i = 0; i < n; i++) {
    const base = RECIPES[i % RECIPES.length];
    const kind = i % 5;
    const text = kind === 0 ? hostileRecipe(r, base)
      : kind === 1 ? Buffer.from(mutateBytes(r, Buffer.from(base))).toString('latin1')
      : kind === 2 ? hostileRecipe(r, mutateText(r, base))
      : mutateText(r, base);
    const t0 = performance.now();
    let result;
    try {
      result = checkRecipe(text, '/ws/recipes/r.compose.yaml', { workspaceRoot: '/ws' });
    } catch (e) {
      assert.fail(`case ${i}: checkRecipe threw ${(e as Error)?.stack}\n${JSON.stringify(text)}`);
    }
    const ms = assertNotSlow(performance.now() - t0, PER_INPUT_MS, () => checkRecipe(text, '/ws/recipes/r.compose.yaml', { workspaceRoot: '/ws' }), () => `case ${i}\n${JSON.stringify(text).slice(0, 400)}`);
    tally.slowestMs = Math.max(tally.slowestMs, ms);
    const lines = text.split(/\r\n|\r|\n/).map((l) => l.length);
    for (const p of result.problems) {
      const inside = (q: { line: number; character: number }) => q.line >= 0 && q.line < lines.length && q.character >= 0 && q.character <= lines[q.line];
      assert.ok(inside(p.range.start) && inside(p.range.end), `case ${i}: ${JSON.stringify(p)}\n${JSON.stringify(text)}`);
      assert.notEqual(p.code, 'internal', `case ${i}: ${p.message}\n${JSON.stringify(text)}`);
    }
    if (result.problems.some((p) => p.severity === 'error')) {
      withErrors++;
      tally.refused++;
    } else tally.accepted++;
    // a recipe without errors has numbers the engine can use
    if (result.recipe && !result.problems.some((p) => p.severity === 'error') && !result.notARecipe) {
      const spec = result.recipe.spec;
      assert.ok(Number.isSafeInteger(spec.retrieve.k) && spec.retrieve.k >= 1, `case ${i}: k ${spec.retrieve.k}`);
      if (typeof spec.weights.lambda === 'number') assert.ok(Number.isFinite(spec.weights.lambda) && spec.weights.lambda >= 0, `case ${i}: λ ${spec.weights.lambda}`);
      assert.ok(Number.isSafeInteger(spec.merge.rank) && spec.merge.rank >= 1, `case ${i}: rank ${spec.merge.rank}`);
    }
  }
  assert.ok(withErrors > 1000, `only ${withErrors} had errors`);
});

// ---------------------------------------------------------------------------------------------
// lock files

const LOCK: LockFile = {
  format: 1,
  tool_version: '0.1.0',
  recipe: { path: 'r.compose.yaml', sha256: 'a'.repeat(64) },
  library: { uri: '../library', version: 3, size: 14 },
  encoder: { sha256: 'b'.repeat(64), dim: 16 },
  target: { source: 'samples', sha256: 'c'.repeat(64), count: 48, dim: 16 },
  provider: 'cpu',
  candidates: [{ name: 'grammar-05', distance: 0.056, sha256: 'd'.repeat(64), path: '../adapters/grammar-05' }, { name: 'medical-08', distance: 0.17, sha256: 'e'.repeat(64), path: '../adapters/medical-08' }],
  strategy: 'sparse',
  parameters: { k: 5, lambda: 0.05, exclude: ['grammar-01'] },
  weights: { 'grammar-05': 0.7, 'medical-08': 0.3 },
  merge: { method: 'svd', rank: 16, dtype: 'auto', modules_to_save: 'refuse' },
  output: { path: '../out/x', files: [{ path: 'adapter_config.json', sha256: 'f'.repeat(64) }] },
};

test('lock files: 10,000+ mutated locks are read correctly or refused as damaged', () => {
  const r = seededRandom(0x10c4);
  const tally = tallyFor('lock');
  const file = path.join(tmp, 'r.compose.lock');
  const original = Buffer.from(stableJson(LOCK));
  const n = inputs(10_000);
  for (let i = 0; i < n; i++) {
    let bytes: Uint8Array;
    if (i % 3 === 0) {
      // structural damage: drop or retype one field
      const copy = JSON.parse(JSON.stringify(LOCK)) as Record<string, unknown>;
      const keys = Object.keys(copy);
      const key = keys[Math.floor(r() * keys.length)];
      const v = CONFIG_VALUES[Math.floor(r() * CONFIG_VALUES.length)];
      if (r() < 0.3) delete copy[key];
      else if (typeof copy[key] === 'object' && copy[key] !== null && !Array.isArray(copy[key]) && r() < 0.6) {
        const inner = copy[key] as Record<string, unknown>;
        const innerKeys = Object.keys(inner);
        if (innerKeys.length) inner[innerKeys[Math.floor(r() * innerKeys.length)]] = v;
      } else copy[key] = v;
      bytes = Buffer.from(JSON.stringify(copy));
    } else bytes = mutateBytes(r, original);
    fs.writeFileSync(file, bytes);
    fuzzCase(tally, i, file, ['lock'], () => {
      const lock = readLock(file);
      if (!lock) return;
      // every consumer of a read lock works on it: the drift check and re-serialisation
      assert.deepEqual(lockDrift(lock, lock), []);
      stableJson(lock);
    }, show(bytes));
  }
  assert.ok(tally.accepted > 500 && tally.refused > 3000, `accepted ${tally.accepted}, refused ${tally.refused}`);
});
