import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initLibrary, openLibrary, Library, LIBRARY_ENCODER_FILE } from '../../server/src/engine/library/library';
import { buildDemoEncoder } from '../../server/src/engine/prototype/demoEncoder';
import { seededRandom } from '../../server/src/engine/random';
import { createHash } from 'node:crypto';
import { ComposerError } from '../../server/src/engine/errors';
import type { AdapterRecord } from '../../server/src/engine/types';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-library-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(root, `lib-${++counter}`);

function record(name: string, prototype: number[], extra: Partial<AdapterRecord> = {}): AdapterRecord {
  return {
    name,
    base: 'llama-3-8b',
    rank: 8,
    alpha: 16,
    target_modules: ['q_proj', 'v_proj'],
    format: 'peft',
    path: `/adapters/${name}`,
    sha256: 'ab'.repeat(32),
    prototype,
    description: `adapter ${name}`,
    tags: [],
    created_at: '2024-06-01T00:00:00.000Z',
    ...extra,
  };
}

function libraryError(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ComposerError, `ComposerError expected, got ${String(e)}`);
    assert.equal(e.code, 'library');
    assert.match(e.message, re);
    return true;
  };
}

/** A library of `n` adapters with seeded random prototypes of dimension `dim`. */
async function randomLibrary(n: number, dim: number, seed = 1): Promise<{ library: Library; records: AdapterRecord[] }> {
  const library = await initLibrary(freshDir(), { dim });
  const rnd = seededRandom(seed);
  const records = Array.from({ length: n }, (_, i) =>
    record(`a${String(i).padStart(3, '0')}`, Array.from({ length: dim }, () => Math.fround(rnd() * 2 - 1)), {
      base: i % 2 === 0 ? 'llama-3-8b' : 'mistral-7b',
      rank: [4, 8, 16][i % 3],
      tags: i % 4 === 0 ? ['math'] : ['chat'],
    }));
  await library.add(records);
  return { library, records };
}

const squaredL2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
};

test('init with an encoder: copied into the folder, sha256 and dim recorded', async () => {
  const encoderFile = path.join(root, 'enc.onnx');
  fs.writeFileSync(encoderFile, buildDemoEncoder(6, 5, 3));
  const dir = freshDir();
  const library = await initLibrary(dir, { encoderPath: encoderFile });
  const info = await library.info();
  assert.equal(info.dim, 5);
  assert.equal(info.size, 0);
  const encoderSha = createHash('sha256').update(fs.readFileSync(encoderFile)).digest('hex'); // node's crypto, not the code under test
  assert.equal(info.encoder.sha256, encoderSha);
  assert.equal(info.encoder.path, LIBRARY_ENCODER_FILE);
  assert.equal(info.encoderName, 'enc.onnx');
  assert.equal(library.encoderFile(), path.join(dir, LIBRARY_ENCODER_FILE));
  assert.ok(fs.readFileSync(library.encoderFile()!).equals(fs.readFileSync(encoderFile)), 'the copy holds the same bytes');
  library.close();
  await assert.rejects(initLibrary(dir, { dim: 5 }), libraryError(/already exists/));
  await assert.rejects(initLibrary(freshDir(), { encoderPath: encoderFile, dim: 7 }), libraryError(/does not match the encoder's output dimension 5/));
  await assert.rejects(initLibrary(freshDir(), {}), (e: unknown) => e instanceof ComposerError && e.code === 'usage');

  // A prototype from another encoder is refused; from this one, accepted.
  const reopened = await openLibrary(dir);
  await assert.rejects(reopened.add(record('x', [1, 2, 3, 4, 5]), { encoderSha256: 'f'.repeat(64) }), libraryError(/another encoder/));
  await reopened.add(record('x', [1, 2, 3, 4, 5]), { encoderSha256: info.encoder.sha256 });
  assert.equal(await reopened.size(), 1);
  reopened.close();
});

test('missing library: a clear message that says how to create one', async () => {
  const missing = path.join(root, 'nowhere');
  await assert.rejects(openLibrary(missing), libraryError(/no library at .*nowhere/));
  await assert.rejects(openLibrary(missing), (e: unknown) => e instanceof ComposerError && /library init/.test(e.hint ?? ''));
  assert.equal(fs.existsSync(missing), false, 'opening must not create the folder');
  fs.mkdirSync(path.join(root, 'empty-folder'));
  await assert.rejects(openLibrary(path.join(root, 'empty-folder')), libraryError(/no library at/));
});

test('add / get / list / remove round-trip every field; the version moves with each write', async () => {
  const library = await initLibrary(freshDir(), { dim: 3 });
  const v0 = await library.version();
  const a = record("o'brien", [0.5, -1.25, 3], { tags: ['math', 'gsm8k'], details: JSON.stringify({ rslora: true, ranks: { q_proj: 4 } }) });
  await library.add(a);
  const v1 = await library.version();
  assert.ok(v1 > v0);
  assert.deepEqual(await library.get("o'brien"), a);
  await library.add([record('b', [0, 0, 0]), record('c', [1, 1, 1])]);
  assert.deepEqual((await library.list()).map((r) => r.name), ['b', 'c', "o'brien"]);
  assert.deepEqual((await library.list({ prototypes: false }))[0].prototype, []);
  await library.remove('b');
  assert.equal(await library.get('b'), undefined);
  assert.equal(await library.size(), 2);
  await assert.rejects(library.remove('b'), libraryError(/no adapter named 'b'/));
  library.close();
});

test('refused adds leave the table exactly as it was', async () => {
  const library = await initLibrary(freshDir(), { dim: 3 });
  await library.add(record('a', [1, 2, 3]));
  const version = await library.version();
  await assert.rejects(library.add(record('a', [3, 2, 1])), libraryError(/already has an adapter named 'a'/));
  await assert.rejects(library.add(record('d', [1, 2])), libraryError(/dimension 2 but the library's prototypes have 3/));
  await assert.rejects(library.add(record('n', [1, NaN, 3])), libraryError(/prototype\[1\] is NaN/));
  await assert.rejects(library.add(record('i', [1, Infinity, 3])), libraryError(/prototype\[1\] is Infinity/));
  // One bad record in a batch: none of the batch is written.
  await assert.rejects(library.add([record('ok1', [0, 0, 0]), record('bad', [0, 0])]), libraryError(/dimension 2/));
  await assert.rejects(library.add([record('twice', [0, 0, 0]), record('twice', [1, 1, 1])]), libraryError(/appears twice/));
  await assert.rejects(library.add(record('', [0, 0, 0])), libraryError(/non-empty name/));
  await assert.rejects(library.add(record('r', [0, 0, 0], { rank: 0 })), libraryError(/rank must be a positive integer/));
  await assert.rejects(library.add(record('j', [0, 0, 0], { details: '{nope' })), libraryError(/not valid JSON/));
  assert.equal(await library.version(), version);
  assert.deepEqual((await library.list()).map((r) => r.name), ['a']);
  assert.deepEqual((await library.get('a'))!.prototype, [1, 2, 3]);
  library.close();
});

test('search: k nearest by squared L2 (LanceDB l2 = squared, checked against JS), sorted', async () => {
  const dim = 16;
  const { library, records } = await randomLibrary(60, dim, 7);
  const rnd = seededRandom(99);
  const target = Float64Array.from({ length: dim }, () => rnd() * 2 - 1);
  const hits = await library.search(target, { k: 5 });
  const expected = records.map((r) => ({ name: r.name, d: squaredL2(target, r.prototype) })).sort((a, b) => a.d - b.d).slice(0, 5);
  assert.deepEqual(hits.map((h) => h.name), expected.map((e) => e.name));
  hits.forEach((h, i) => {
    assert.ok(Math.abs(h.distance - expected[i].d) < 1e-9, 'float64 distance');
    // LanceDB computes in float32 against the float32 query: squared, not the square root.
    const d32 = squaredL2(Float32Array.from(target), h.record.prototype);
    assert.ok(Math.abs(h.indexDistance - d32) / d32 < 1e-5, `_distance ${h.indexDistance} vs squared L2 ${d32}`);
    assert.deepEqual(h.record.prototype, records.find((r) => r.name === h.name)!.prototype);
  });
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].distance <= hits[i].distance);
  const all = await library.search(target, { k: 1000 });
  assert.equal(all.length, 60);
  library.close();
});

test('search filters are prefilters: base, user where, exclude still give k results', async () => {
  const dim = 8;
  const { library, records } = await randomLibrary(40, dim, 3);
  const target = records[0].prototype;
  const nearestAmong = (pred: (r: AdapterRecord) => boolean, k: number) =>
    records.filter(pred).map((r) => ({ name: r.name, d: squaredL2(target, r.prototype) })).sort((a, b) => a.d - b.d).slice(0, k).map((x) => x.name);

  const mistral = await library.search(target, { k: 4, base: 'mistral-7b' });
  assert.deepEqual(mistral.map((h) => h.name), nearestAmong((r) => r.base === 'mistral-7b', 4));

  const filtered = await library.search(target, { k: 3, where: "rank <= 8 AND array_has(tags, 'math')" });
  assert.deepEqual(filtered.map((h) => h.name), nearestAmong((r) => r.rank <= 8 && r.tags.includes('math'), 3));

  // Excluding the 5 nearest: prefiltering still yields k = 5 (a postfilter would yield 0).
  const nearest5 = nearestAmong(() => true, 5);
  const excluded = await library.search(target, { k: 5, exclude: nearest5 });
  assert.equal(excluded.length, 5);
  assert.deepEqual(excluded.map((h) => h.name), nearestAmong((r) => !nearest5.includes(r.name), 5));

  const combined = await library.search(target, { k: 2, base: 'llama-3-8b', where: 'rank = 4', exclude: ["a'x"] });
  assert.deepEqual(combined.map((h) => h.name), nearestAmong((r) => r.base === 'llama-3-8b' && r.rank === 4, 2));

  await assert.rejects(library.search(target, { k: 3, where: 'nosuchcolumn = 1' }), libraryError(/invalid filter "nosuchcolumn = 1"/));
  await assert.rejects(library.search([1, 2], { k: 3 }), (e: unknown) => e instanceof ComposerError && e.code === 'dimension');
  await assert.rejects(library.search(new Array(dim).fill(NaN), { k: 3 }), (e: unknown) => e instanceof ComposerError && e.code === 'non-finite');
  library.close();
});

test('searching an empty library is a clear error', async () => {
  const library = await initLibrary(freshDir(), { dim: 4 });
  await assert.rejects(library.search([0, 0, 0, 0], { k: 3 }), libraryError(/is empty/));
  library.close();
});

test('a second connection sees rows another connection added (read consistency 0)', async () => {
  const dir = freshDir();
  const writer = await initLibrary(dir, { dim: 2 });
  await writer.add(record('first', [0, 0]));
  const reader = await openLibrary(dir);
  assert.equal(await reader.size(), 1);
  const v = await reader.version();
  await writer.add(record('second', [1, 1]));
  assert.equal(await reader.size(), 2);
  assert.ok((await reader.version()) > v);
  assert.deepEqual((await reader.search([1, 1], { k: 1 })).map((h) => h.name), ['second']);
  writer.close();
  reader.close();
});

test('a reader keeps working while another PROCESS adds rows, and sees each commit once it lands', async () => {
  const dir = freshDir();
  const reader = await initLibrary(dir, { dim: 2 });
  await reader.add(record('seed', [0, 0]));
  const script = path.join(root, 'writer.ts');
  const libraryModule = path.resolve(__dirname, '../../server/src/engine/library/library.ts');
  // The writer adds one row per line it reads and answers `added i` once the commit is done, so the
  // reader reads while each write is in flight and checks the exact size after each commit.
  fs.writeFileSync(script, `
    const { openLibrary } = require(${JSON.stringify(libraryModule)});
    const readline = require('node:readline');
    (async () => {
      const lib = await openLibrary(process.argv[2]);
      let i = 0;
      for await (const _ of readline.createInterface({ input: process.stdin })) {
        await lib.add({ name: 'w' + i, base: 'b', rank: 4, alpha: 4, target_modules: ['q'], format: 'peft', path: '/w', sha256: 'x',
          prototype: [i + 1, i + 1], description: '', tags: [], created_at: 'now' });
        process.stdout.write('added ' + i + '\\n');
        if (++i === 5) break;
      }
      lib.close();
    })().catch((e) => { console.error(e); process.exit(1); });
  `);
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: path.resolve(__dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let acks = '';
  child.stdout.on('data', (d) => (acks += d));
  let last = 1;
  for (let i = 0; i < 5; i++) {
    child.stdin.write('go\n');
    // read while the other process writes: every read succeeds and sizes never go down
    do {
      const size = await reader.size();
      assert.ok(size >= last && size <= i + 2, `size ${size} while row ${i} is added`);
      last = size;
      assert.equal((await reader.search([0, 0], { k: 1 }))[0].name, 'seed');
    } while (!acks.includes(`added ${i}\n`) && child.exitCode === null);
    assert.ok(acks.includes(`added ${i}\n`), `the writer stopped before row ${i}`);
    // committed in the other process: this connection sees it now (read consistency 0)
    assert.equal(await reader.size(), i + 2);
    assert.deepEqual((await reader.search([i + 1, i + 1], { k: 1 })).map((h) => h.name), [`w${i}`]);
  }
  child.stdin.end();
  assert.equal(await exited, 0);
  reader.close();
});

test('equal distances: ties are ordered by name, whatever the insertion order', async () => {
  const library = await initLibrary(freshDir(), { dim: 4 });
  // five prototypes at squared distance exactly 1 from the origin, one nearer, two farther; added out of name order
  const records = [
    record('m', [1, 0, 0, 0]), record('far-2', [0, 0, 3, 0]), record('c', [0, -1, 0, 0]), record('x', [0, 0, 1, 0]),
    record('near', [0, 0, 0, 0.5]), record('a', [-1, 0, 0, 0]), record('far-1', [2, 0, 0, 0]), record('q', [0, 1, 0, 0]),
  ];
  for (const r of records) await library.add(r); // one commit each: row order in the table is insertion order
  const byDistanceThenName = records.map((r) => ({ name: r.name, d: squaredL2([0, 0, 0, 0], r.prototype) }))
    .sort((a, b) => a.d - b.d || (a.name < b.name ? -1 : 1)).map((e) => e.name);
  assert.deepEqual(byDistanceThenName.slice(0, 6), ['near', 'a', 'c', 'm', 'q', 'x'], 'the fixture has the ties it means to');
  for (const k of [1, 2, 3, 4, 6, 8]) {
    const hits = await library.search([0, 0, 0, 0], { k });
    assert.deepEqual(hits.map((h) => h.name), byDistanceThenName.slice(0, k), `k = ${k}`);
  }
  // excluding the first of the ties moves the cut, never the order
  const hits = await library.search([0, 0, 0, 0], { k: 3, exclude: ['a'] });
  assert.deepEqual(hits.map((h) => h.name), ['near', 'c', 'm']);
  library.close();
});

test('search arguments: k, dimension, non-finite values and an empty library are refused with what to do', async () => {
  const library = await initLibrary(freshDir(), { dim: 2 });
  await assert.rejects(library.search([0, 0], { k: 1 }), (e: unknown) => e instanceof ComposerError && e.code === 'library' && /the library at .* is empty/.test(e.message) && /library add/.test(e.hint ?? ''));
  await library.add([record('p', [1, 0]), record('q', [0, 1])]);
  for (const k of [0, -1, 1.5, NaN]) {
    await assert.rejects(library.search([0, 0], { k }), (e: unknown) => e instanceof ComposerError && e.code === 'usage' && e.message === `k must be a positive integer, got ${k}`, `k = ${k}`);
  }
  await assert.rejects(library.search([0, 0, 0], { k: 1 }), (e: unknown) => e instanceof ComposerError && e.code === 'dimension'
    && e.message === "the target prototype has dimension 3 but the library's prototypes have 2" && /library's encoder/.test(e.hint ?? ''));
  await assert.rejects(library.search([0, Infinity], { k: 1 }), (e: unknown) => e instanceof ComposerError && e.code === 'non-finite' && e.message === 'the target prototype has Infinity at index 1');
  // a blank filter and an empty exclude list are no filter
  const plain = (await library.search([1, 0], { k: 2 })).map((h) => h.name);
  assert.deepEqual(plain, ['p', 'q']);
  assert.deepEqual((await library.search([1, 0], { k: 2, where: '   ', exclude: [] })).map((h) => h.name), plain);
  library.close();
});

test('search by base finds the rows stored under every spelling of it (Hub id and legacy name)', async () => {
  const library = await initLibrary(freshDir(), { dim: 2 });
  await library.add([record('legacy', [1, 0], { base: 'gpt2' }), record('current', [0, 1], { base: 'openai-community/gpt2' }), record('other', [0, 0], { base: 'llama-3-8b' })]);
  for (const base of ['gpt2', 'openai-community/gpt2']) {
    assert.deepEqual((await library.search([0, 0], { k: 5, base })).map((h) => h.name).sort(), ['current', 'legacy'], base);
  }
  library.close();
});

test('80 equal distances (more than one sort run) come back in name order', async () => {
  const dim = 40;
  const library = await initLibrary(freshDir(), { dim });
  // ±e_i: 80 prototypes at squared distance exactly 1 from the origin, named in a scrambled order
  const rows = Array.from({ length: 2 * dim }, (_, i) => {
    const p = new Array(dim).fill(0);
    p[i % dim] = i < dim ? 1 : -1;
    return record(`t${String((i * 17) % 80).padStart(2, '0')}`, p);
  });
  for (let i = 0; i < rows.length; i += 8) await library.add(rows.slice(i, i + 8));
  const hits = await library.search(new Array(dim).fill(0), { k: 80 });
  assert.ok(hits.every((h) => h.distance === 1));
  assert.deepEqual(hits.map((h) => h.name), rows.map((r) => r.name).sort());
  library.close();
});

test('ensureIndex: below the threshold it says brute force; forced, the index still finds the true nearest', async () => {
  const dim = 8;
  const { library, records } = await randomLibrary(600, dim, 11);
  const skipped = await library.ensureIndex();
  assert.equal(skipped.indexed, false);
  assert.match(skipped.message, /600 adapters: exact \(brute-force\) search is fast below 50000/);
  // 4 partitions, all probed: the index must then return exactly the brute-force neighbours.
  const built = await library.ensureIndex({ force: true, kind: 'ivf_flat', numPartitions: 4 });
  assert.equal(built.indexed, true);
  assert.match(built.message, /IVF_FLAT/);
  const info = await library.info();
  assert.ok(info.index && info.index.indexedRows === 600);
  // what a plan asks for: the same facts without the index's row counts
  const { index: _index, ...facts } = info;
  assert.deepEqual(await library.info({ indexStats: false }), facts);
  const target = records[17].prototype;
  const truth = records.map((r) => ({ name: r.name, d: squaredL2(target, r.prototype) })).sort((a, b) => a.d - b.d).slice(0, 5).map((x) => x.name);
  assert.deepEqual((await library.search(target, { k: 5 })).map((h) => h.name), truth);
  // New rows after the index are found too, and ensureIndex folds them in.
  await library.add(record('late', target.map((x) => x + 1e-3)));
  assert.equal((await library.search(target, { k: 2 }))[1].name, 'late');
  assert.match((await library.ensureIndex()).message, /added 1 new rows/);
  library.close();
});

test('more equal distances than one fetch: the k returned are the first k by name, not the first LanceDB happens to return', async () => {
  const dim = 30;
  const library = await initLibrary(freshDir(), { dim });
  // 30 prototypes at squared distance exactly 1 from the origin, added in reverse name order, so the
  // table's natural order puts the alphabetically first names last — beyond a k + 8 fetch window.
  const rows = Array.from({ length: dim }, (_, i) => {
    const p = new Array(dim).fill(0);
    p[i] = 1;
    return record(`u${String(dim - 1 - i).padStart(2, '0')}`, p);
  });
  await library.add(rows);
  for (const k of [1, 3, 5]) {
    const hits = await library.search(new Array(dim).fill(0), { k });
    assert.deepEqual(hits.map((h) => h.name), rows.map((r) => r.name).sort().slice(0, k), `k = ${k}`);
  }
  library.close();
});
