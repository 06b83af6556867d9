import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { f16BitsToNumber as halfToFloat } from '../../server/src/engine/lora/dtypes';
import { encodeNpy, parseNpy, readNpy, readNpyHeader, readNpyRows, writeNpy } from '../../server/src/engine/prototype/npy';
import { ComposerError } from '../../server/src/engine/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-npy-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A version 1.0 file with the given header dict and `dataBytes` zero bytes of data. */
function rawNpy(dict: string, dataBytes: number): Buffer {
  const padded = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
  return Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.alloc(dataBytes)]);
}

function npyError(re: RegExp, file?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ComposerError, `ComposerError expected, got ${String(e)}`);
    assert.equal(e.code, 'npy');
    assert.match(e.message, re);
    if (file) assert.equal(e.location?.file, file);
    return true;
  };
}

test('files written by numpy: f4, >f8, f2, fortran order, versions 2.0 and 3.0', { skip: !hasNumpy() && 'python3 numpy not available' }, () => {
  // Values i/7 for a 3×4 array; numpy writes them, we compare against i/7 computed here.
  execFileSync('python3', ['-c', `
import numpy as np, numpy.lib.format as f, sys, os
d = sys.argv[1]
a = (np.arange(12, dtype='f8') / 7).reshape(3, 4)
np.save(os.path.join(d, 'f4.npy'), a.astype('<f4'))
np.save(os.path.join(d, 'be8.npy'), a.astype('>f8'))
np.save(os.path.join(d, 'f2.npy'), a.astype('<f2'))
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(a))
np.save(os.path.join(d, 'vec.npy'), a[1].astype('<f4'))
for v in [(2, 0), (3, 0)]:
    with open(os.path.join(d, 'v%d.npy' % v[0]), 'wb') as fh:
        f.write_array(fh, a.astype('<f4'), version=v)
`, dir]);
  const expected = Array.from({ length: 12 }, (_, i) => i / 7);
  const cases: [string, number, string][] = [['f4', 1e-7, 'float32'], ['be8', 1e-15, 'float64'], ['f2', 1e-3, 'float16'], ['fortran', 1e-15, 'float64'], ['v2', 1e-7, 'float32'], ['v3', 1e-7, 'float32']];
  for (const [name, tol, dtype] of cases) {
    const file = path.join(dir, `${name}.npy`);
    const a = readNpy(file);
    assert.deepEqual(a.shape, [3, 4], name);
    assert.equal(a.dtype, dtype, name);
    expected.forEach((v, i) => assert.ok(Math.abs(a.data[i] - v) < tol, `${name}[${i}] = ${a.data[i]}, expected ${v}`));
    // Streaming in batches of 2 rows gives the same values in the same order.
    const streamed: number[] = [];
    const starts: number[] = [];
    for (const b of readNpyRows(file, 2)) {
      starts.push(b.start);
      assert.equal(b.dim, 4);
      streamed.push(...b.data);
    }
    assert.deepEqual(starts, [0, 2], name);
    assert.deepEqual(streamed, Array.from(a.data), name);
  }
  assert.deepEqual(readNpyHeader(path.join(dir, 'v3.npy')).version, [3, 0]);
  const vec = readNpy(path.join(dir, 'vec.npy'));
  assert.deepEqual(vec.shape, [4]);
  assert.equal([...readNpyRows(path.join(dir, 'vec.npy'), 8)].length, 1);
});

test('our writer is read back by numpy', { skip: !hasNumpy() && 'python3 numpy not available' }, () => {
  const f32 = path.join(dir, 'w32.npy');
  const f64 = path.join(dir, 'w64.npy');
  writeNpy(f32, Float32Array.from([1.5, -2, 3, 4, 5, 6]), [2, 3]);
  writeNpy(f64, Float64Array.from([Math.PI, Math.E]));
  const out = execFileSync('python3', ['-c', `
import numpy as np, sys, json
a = np.load(sys.argv[1]); b = np.load(sys.argv[2])
print(json.dumps([str(a.dtype), list(a.shape), a.tolist(), str(b.dtype), list(b.shape), b.tolist()]))
`, f32, f64], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), ['float32', [2, 3], [[1.5, -2, 3], [4, 5, 6]], 'float64', [2], [Math.PI, Math.E]]);
});

test('writer/reader round-trip; header is 64-byte aligned', () => {
  const data = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i));
  const bytes = encodeNpy(data, [5, 6]);
  const headerLen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.equal(bytes[10 + headerLen - 1], 0x0a);
  const back = parseNpy(bytes);
  assert.deepEqual(back.shape, [5, 6]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
});

test('float16 decoding follows IEEE binary16', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('truncated, oversized and corrupt files are located npy errors', () => {
  const good = encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const truncated = path.join(dir, 'truncated.npy');
  fs.writeFileSync(truncated, good.subarray(0, good.length - 3));
  assert.throws(() => readNpy(truncated), npyError(/truncated \.npy data: .* needs 16 bytes, the file has 13/, truncated));
  assert.throws(() => [...readNpyRows(truncated, 1)], npyError(/truncated/, truncated));

  const oversized = path.join(dir, 'oversized.npy');
  fs.writeFileSync(oversized, Buffer.concat([good, Buffer.alloc(8)]));
  assert.throws(() => readNpy(oversized), npyError(/8 unexpected bytes after the data/, oversized));

  const headerCut = path.join(dir, 'header-cut.npy');
  fs.writeFileSync(headerCut, good.subarray(0, 40));
  assert.throws(() => readNpy(headerCut), npyError(/truncated \.npy header/, headerCut));

  const notNpy = path.join(dir, 'text.npy');
  fs.writeFileSync(notNpy, '1,2,3\n');
  assert.throws(() => readNpy(notNpy), npyError(/missing the \\x93NUMPY magic/, notNpy));

  // A header claiming a huge shape must be refused from the file size, before allocating.
  const hugeFile = path.join(dir, 'huge.npy');
  fs.writeFileSync(hugeFile, rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 1000), }", 16));
  assert.throws(() => readNpy(hugeFile), npyError(/truncated \.npy data: .* needs 32000000000000 bytes, the file has 16/, hugeFile));

  const badDict = path.join(dir, 'bad-dict.npy');
  fs.writeFileSync(badDict, rawNpy("{'descr': '<f4', 'shape': (2,), }", 8));
  assert.throws(() => readNpy(badDict), npyError(/no 'fortran_order' key/, badDict));
  const garbage = path.join(dir, 'garbage.npy');
  fs.writeFileSync(garbage, rawNpy("{'descr': '<f4' 'shape'", 8));
  assert.throws(() => readNpy(garbage), npyError(/malformed \.npy header/, garbage));
});

test('non-float dtypes and structured arrays are refused with a clear message', () => {
  const asInt = path.join(dir, 'int.npy');
  fs.writeFileSync(asInt, rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8));
  assert.throws(() => readNpy(asInt), npyError(/integer dtype '<i4' is not supported/, asInt));
  const structured = path.join(dir, 'struct.npy');
  fs.writeFileSync(structured, rawNpy("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }", 8));
  assert.throws(() => readNpy(structured), npyError(/structured arrays/, structured));
});

test('a missing file is an io error naming it', () => {
  const missing = path.join(dir, 'nope.npy');
  assert.throws(() => readNpy(missing), (e: unknown) => e instanceof ComposerError && e.code === 'io' && e.location?.file === missing);
});

test('streaming a large file never holds more than one batch', () => {
  const rows = 1000, dim = 16;
  const data = Float32Array.from({ length: rows * dim }, (_, i) => i);
  const file = path.join(dir, 'large.npy');
  writeNpy(file, data, [rows, dim]);
  let seen = 0;
  for (const b of readNpyRows(file, 64)) {
    assert.ok(b.data.length <= 64 * dim);
    assert.equal(b.data[0], b.start * dim);
    seen += b.rows;
  }
  assert.equal(seen, rows);
});
