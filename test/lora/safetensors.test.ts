import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../server/src/engine/errors';
import { DTYPE_SIZES } from '../../server/src/engine/lora/dtypes';
import { buildSafetensorsHeader, parseSafetensorsHeader, SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { seededRandom } from '../../server/src/engine/random';

const rng = seededRandom;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-st-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Builds a file by hand, independently of the writer: [u64 N][header][data]. */
function rawFile(header: string | Uint8Array, data: Uint8Array, declaredLength?: bigint): Buffer {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(h.length));
  return Buffer.concat([prefix, h, Buffer.from(data)]);
}

test('writer output: sorted keys, 8-byte aligned header, exact bytes, metadata; reader reads it back', () => {
  const file = path.join(tmp, 'rt.safetensors');
  const a = [1, -2.5, 3.25, 0, 1e-3, 7];
  const b = [0.5, 0.25];
  writeFloatTensors(file, [
    { name: 'z.weight', dtype: 'F32', shape: [2, 3], data: a },
    { name: 'a.weight', dtype: 'BF16', shape: [2], data: b },
  ], { note: 'hi' });
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(Object.keys(header), ['__metadata__', 'a.weight', 'z.weight']);
  assert.deepEqual(header['a.weight'], { dtype: 'BF16', shape: [2], data_offsets: [0, 4] });
  assert.deepEqual(header['z.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [4, 28] });
  assert.equal(bytes.length, 8 + n + 28);
  // little-endian float32 at the documented offset
  assert.equal(bytes.readFloatLE(8 + n + 4 + 4), -2.5);
  const st = SafetensorsFile.open(file);
  assert.deepEqual([...st.readFloat64('z.weight')], a.map(Math.fround));
  assert.deepEqual([...st.readFloat64('a.weight')], b);
  assert.deepEqual(st.metadata, { note: 'hi' });
  // deterministic: writing again gives identical bytes, and no temp file is left behind
  writeFloatTensors(file, [
    { name: 'a.weight', dtype: 'BF16', shape: [2], data: b },
    { name: 'z.weight', dtype: 'F32', shape: [2, 3], data: a },
  ], { note: 'hi' });
  assert.deepEqual(fs.readFileSync(file), bytes);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp')), []);
});

test('reader accepts a hand-made file with null metadata and zero-size tensors', () => {
  const file = path.join(tmp, 'hand.safetensors');
  const data = Buffer.alloc(8);
  data.writeFloatLE(1.5, 0);
  data.writeFloatLE(-3, 4);
  fs.writeFileSync(file, rawFile('{"__metadata__":null,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F16","shape":[0,4],"data_offsets":[8,8]}}  ', data));
  const st = SafetensorsFile.open(file);
  assert.deepEqual([...st.readFloat64('x')], [1.5, -3]);
  assert.equal(st.readFloat64('e').length, 0);
});

function expectSafetensorsError(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof ComposerError && e.code === 'safetensors' && pattern.test(e.message), String(pattern));
}

test('invalid headers are refused with the tensor and field at fault', () => {
  const ok = (extra: string) => `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}${extra}}`;
  const p = (h: string, dataLength = 8) => parseSafetensorsHeader(Buffer.from(h), dataLength, 'f.safetensors');
  expectSafetensorsError(() => p('[1,2]'), /header does not start with|not a JSON object/);
  expectSafetensorsError(() => p('{"a":'), /not valid JSON/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}'), /tensor "a": unknown dtype "F99"/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}'), /tensor "a": "shape" has an invalid dimension -2/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}'), /invalid dimension 2.5/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'), /tensor "a": shape \[3\] of F32 needs 12 bytes but data_offsets span 8/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}'), /beyond the data section/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}'), /0 ≤ begin ≤ end/);
  expectSafetensorsError(() => p(ok(',"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}')), /overlaps/);
  expectSafetensorsError(() => p(ok(',"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}'), 16), /hole in the data section: bytes 8\.\.12/);
  expectSafetensorsError(() => p(ok(''), 12), /4 bytes after the last tensor/);
  expectSafetensorsError(() => p(ok(',"__metadata__":{"k":1}')), /"__metadata__"\."k" must be a string/);
  expectSafetensorsError(() => p('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}'), /needs/);
  expectSafetensorsError(() => parseSafetensorsHeader(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 0, 'f'), /UTF-8/);

  const file = path.join(tmp, 'long.safetensors');
  fs.writeFileSync(file, rawFile('{}', new Uint8Array(0), 1n << 40n));
  expectSafetensorsError(() => SafetensorsFile.open(file), /header length 1099511627776 exceeds the file size/);
  fs.writeFileSync(file, Buffer.from([1, 2, 3]));
  expectSafetensorsError(() => SafetensorsFile.open(file), /too short/);
});

const DTYPES = Object.keys(DTYPE_SIZES);

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 9);
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 40) - 5;
    case 3: return r() < 0.5 ? 2 ** 53 + Math.floor(r() * 10) : -1e300 * r();
    case 4: return DTYPES[Math.floor(r() * DTYPES.length)];
    case 5: return 'x'.repeat(Math.floor(r() * 5));
    case 6: return depth < 3 ? Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1)) : [];
    case 7: return depth < 3 ? { dtype: randomValue(r, depth + 1), shape: randomValue(r, depth + 1), data_offsets: randomValue(r, depth + 1) } : {};
    default: return r() * 100;
  }
}

/** A structurally plausible header: mostly right, with random faults. */
function plausibleHeader(r: () => number): { json: string; end: number } {
  const count = Math.floor(r() * 5);
  const obj: Record<string, unknown> = {};
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const dtype = DTYPES[Math.floor(r() * DTYPES.length)];
    const shape = Array.from({ length: Math.floor(r() * 3) }, () => Math.floor(r() * 4));
    let bytes = shape.reduce((x, y) => x * y, 1) * DTYPE_SIZES[dtype as keyof typeof DTYPE_SIZES];
    if (r() < 0.15) bytes += Math.floor(r() * 5) - 2;
    let begin = offset;
    if (r() < 0.15) begin += Math.floor(r() * 7) - 3;
    const entry: Record<string, unknown> = { dtype, shape, data_offsets: [begin, begin + bytes] };
    if (r() < 0.1) entry[['dtype', 'shape', 'data_offsets'][Math.floor(r() * 3)]] = randomValue(r);
    obj[`t${i}`] = entry;
    offset = begin + bytes;
  }
  if (r() < 0.3) obj.__metadata__ = r() < 0.7 ? { a: 'b' } : randomValue(r);
  if (r() < 0.1) obj[`junk`] = randomValue(r);
  return { json: JSON.stringify(obj), end: offset };
}

function mutate(r: () => number, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const i = Math.floor(r() * out.length);
    const op = r();
    if (op < 0.5) out[i] = Math.floor(r() * 256);
    else if (op < 0.75) out[i] = '{}[]":,0123456789-eE.'.charCodeAt(Math.floor(r() * 21));
    else return out.subarray(0, i);
  }
  return out;
}

test('fuzzed headers (seeded): only ComposerError, and accepted headers satisfy every invariant', () => {
  const r = rng(20240611);
  const valid = buildSafetensorsHeader([
    { name: 'w.lora_A.weight', dtype: 'F32', shape: [4, 8] },
    { name: 'w.lora_B.weight', dtype: 'BF16', shape: [6, 4] },
    { name: 'w.alpha', dtype: 'F16', shape: [] },
  ], { format: 'pt' });
  const validJson = valid.header.subarray(8);
  let accepted = 0;
  let refused = 0;
  for (let i = 0; i < 6000; i++) {
    let header: Uint8Array;
    let dataLength: number;
    const kind = i % 3;
    if (kind === 0) {
      header = mutate(r, validJson);
      dataLength = valid.dataLength + (r() < 0.2 ? Math.floor(r() * 9) - 4 : 0);
    } else if (kind === 1) {
      const h = plausibleHeader(r);
      header = Buffer.from(h.json);
      dataLength = r() < 0.8 ? h.end : Math.floor(r() * 64);
    } else {
      header = Buffer.from(JSON.stringify(randomValue(r)) ?? 'null');
      dataLength = Math.floor(r() * 64);
    }
    dataLength = Math.max(0, dataLength);
    try {
      const parsed = parseSafetensorsHeader(header, dataLength, 'fuzz.safetensors');
      accepted++;
      let covered = 0;
      for (const t of parsed.tensors.values()) {
        assert.ok(t.begin >= 0 && t.end <= dataLength && t.begin <= t.end);
        assert.equal(t.end - t.begin, t.shape.reduce((x, y) => x * y, 1) * DTYPE_SIZES[t.dtype]);
        covered += t.end - t.begin;
      }
      assert.equal(covered, dataLength, 'tensors cover the data section exactly');
    } catch (e) {
      if (!(e instanceof ComposerError)) throw new Error(`case ${i}: non-ComposerError ${String(e)} for header ${Buffer.from(header).toString('utf8').slice(0, 200)}`, { cause: e });
      assert.equal(e.code, 'safetensors');
      refused++;
    }
  }
  assert.ok(accepted > 100 && refused > 1000, `accepted ${accepted}, refused ${refused}`);
});

test('fuzzed files on disk: opening and reading every tensor never allocates more than the file size', () => {
  const r = rng(7);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- Buffer.alloc ignores `this`; kept to be put back as it was
  const realAlloc = Buffer.alloc;
  let largest = 0;
  (Buffer as unknown as { alloc: typeof Buffer.alloc }).alloc = ((size: number, ...rest: unknown[]) => {
    largest = Math.max(largest, size);
    return (realAlloc as (...a: unknown[]) => Buffer)(size, ...rest);
  }) as typeof Buffer.alloc;
  try {
    const base = buildSafetensorsHeader([
      { name: 'a', dtype: 'F32', shape: [3, 5] },
      { name: 'b', dtype: 'F16', shape: [5, 3] },
    ]);
    const data = Buffer.alloc(base.dataLength, 7);
    const file = path.join(tmp, 'fuzz.safetensors');
    for (let i = 0; i < 400; i++) {
      let bytes: Buffer = Buffer.concat([base.header, data]);
      const op = i % 4;
      if (op === 0) bytes = Buffer.from(mutate(r, bytes));
      else if (op === 1) bytes.writeBigUInt64LE(BigInt(Math.floor(r() * 2 ** 32)) * BigInt(1 + Math.floor(r() * 2 ** 20)), 0);
      else if (op === 2) bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
      else bytes = Buffer.concat([bytes, Buffer.alloc(Math.floor(r() * 16))]);
      fs.writeFileSync(file, bytes);
      largest = 0;
      try {
        const st = SafetensorsFile.open(file);
        for (const name of st.tensors.keys()) st.readBytes(name);
      } catch (e) {
        if (!(e instanceof ComposerError)) throw new Error(`file case ${i}: non-ComposerError ${String(e)}`, { cause: e });
      }
      assert.ok(largest <= bytes.length, `case ${i}: allocated ${largest} bytes for a ${bytes.length}-byte file`);
    }
  } finally {
    (Buffer as unknown as { alloc: typeof Buffer.alloc }).alloc = realAlloc;
  }
});
