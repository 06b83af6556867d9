/**
 * The automatic ANN index choice (kind and partitions by size), the query parameters per index, and
 * the index built under its recorded name: rebuilt with another kind it replaces the old one, and
 * searched with every partition probed it returns the brute-force nearest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  automaticIndex, indexName, partitionsFor, partitionsOfIndexName, tuningFor,
  DEFAULT_INDEX_MIN_ROWS, RQ_INDEX_MIN_ROWS,
} from '../../server/src/engine/library/annIndex';
import { initLibrary } from '../../server/src/engine/library/library';
import { seededRandom } from '../../server/src/engine/random';
import { ComposerError } from '../../server/src/engine/errors';
import { loadLancedb } from '../../server/src/engine/nativeModules';
import type { AdapterRecord } from '../../server/src/engine/types';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-ann-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

test('automatic index: IVF_FLAT up to RQ_INDEX_MIN_ROWS, IVF_RQ from there; √rows partitions', () => {
  assert.ok(DEFAULT_INDEX_MIN_ROWS < RQ_INDEX_MIN_ROWS);
  for (const rows of [DEFAULT_INDEX_MIN_ROWS, 100_000, RQ_INDEX_MIN_ROWS - 1]) {
    assert.deepEqual(automaticIndex(rows), { kind: 'ivf_flat', numPartitions: Math.round(Math.sqrt(rows)) });
  }
  for (const rows of [RQ_INDEX_MIN_ROWS, 1_000_000, 10_000_000]) {
    assert.deepEqual(automaticIndex(rows), { kind: 'ivf_rq', numPartitions: Math.round(Math.sqrt(rows)) });
  }
  assert.equal(partitionsFor(0), 1);
});

test('index names record kind and partitions; other names give no partitions', () => {
  for (const kind of ['ivf_flat', 'ivf_rq', 'ivf_pq', 'hnsw_sq'] as const) {
    for (const p of [1, 316, 1000]) assert.equal(partitionsOfIndexName(indexName(kind, p)), p);
  }
  assert.equal(partitionsOfIndexName('prototype_idx'), undefined);
  assert.equal(partitionsOfIndexName('name_idx'), undefined);
});

test('query parameters: probes within the partitions, growing with them; quantized codes re-ranked', () => {
  let previous = 0;
  for (const partitions of [1, 4, 20, 100, 316, 1000, 3163, 10_000]) {
    for (const type of ['IVF_FLAT', 'IVF_RQ', 'IVF_PQ']) {
      const t = tuningFor(type, partitions);
      assert.ok(t.nprobes !== undefined && t.nprobes >= 1 && t.nprobes <= partitions, `${type} ${partitions}: ${t.nprobes}`);
      assert.equal(t.refineFactor !== undefined, type !== 'IVF_FLAT', `${type}: re-rank only quantized codes`);
      if (t.refineFactor !== undefined) assert.ok(t.refineFactor >= 1);
    }
    const n = tuningFor('IVF_FLAT', partitions).nprobes!;
    assert.ok(n >= previous);
    previous = n;
  }
  const hnsw = tuningFor('IVF_HNSW_SQ', 1);
  assert.ok(hnsw.ef !== undefined && hnsw.refineFactor !== undefined);
});

function squaredL2(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

test('ensureIndex: IVF_RQ under its recorded name finds the brute-force nearest; a forced rebuild replaces the index; unknown kinds are refused', async () => {
  const dim = 32;
  const rnd = seededRandom(7);
  const records: AdapterRecord[] = Array.from({ length: 800 }, (_, i) => ({
    name: `a${String(i).padStart(4, '0')}`, base: 'llama-3-8b', rank: 8, alpha: 16, target_modules: ['q_proj'], format: 'peft',
    path: `/adapters/a${i}`, sha256: 'ab'.repeat(32), created_at: '2026-01-01T00:00:00.000Z', description: '', tags: [], prototype: Array.from({ length: dim }, () => rnd() * 2 - 1),
  }));
  const library = await initLibrary(path.join(root, 'rq'), { dim });
  try {
    await library.add(records);
    const rq = await library.ensureIndex({ force: true, kind: 'ivf_rq', numPartitions: 4 });
    assert.equal(rq.kind, 'ivf_rq');
    // The base prefilter of every plan gets a scalar index beside the vector index.
    const lancedb = loadLancedb();
    const db = await lancedb.connect(path.join(root, 'rq'));
    const table = await db.openTable('adapters');
    const indices = await table.listIndices();
    table.close();
    db.close();
    assert.deepEqual(indices.map((i) => [i.name, i.columns]).sort(), [['base_idx', ['base']], ['prototype_ivf_rq_p4', ['prototype']]]);
    const filtered = await library.search(records[5].prototype, { k: 3, base: 'llama-3-8b' });
    assert.equal(filtered[0].name, records[5].name);
    const info = await library.info();
    assert.match(info.index?.type ?? '', /rq/i);
    assert.equal(info.index?.indexedRows, 800);
    // 4 partitions, all probed (nprobes ≤ partitions, ≥ min(partitions, 20)); re-ranked by the full vectors.
    for (const q of [3, 400, 799]) {
      const target = records[q].prototype.map((x, j) => x + (j % 2 ? 0.01 : -0.01));
      const truth = records.map((r) => ({ name: r.name, d: squaredL2(target, r.prototype) })).sort((a, b) => a.d - b.d).slice(0, 5).map((x) => x.name);
      assert.deepEqual((await library.search(target, { k: 5 })).map((h) => h.name), truth);
    }
    const flat = await library.ensureIndex({ force: true, kind: 'ivf_flat', numPartitions: 2 });
    assert.equal(flat.kind, 'ivf_flat');
    const after = await library.info();
    assert.match(after.index?.type ?? '', /flat/i);
    // A library indexed before the base index existed gets it on the next ensureIndex.
    const db2 = await lancedb.connect(path.join(root, 'rq'), { readConsistencyInterval: 0 });
    const table2 = await db2.openTable('adapters');
    await table2.dropIndex('base_idx');
    assert.deepEqual((await table2.listIndices()).map((i) => i.name), ['prototype_ivf_flat_p2']);
    assert.match((await library.ensureIndex()).message, /is up to date$/);
    assert.deepEqual((await table2.listIndices()).map((i) => i.name).sort(), ['base_idx', 'prototype_ivf_flat_p2']);
    table2.close();
    db2.close();
    await assert.rejects(library.ensureIndex({ force: true, kind: 'ivf_nope' as never }), (e: unknown) => e instanceof ComposerError && /unknown index kind 'ivf_nope'/.test(e.message));
  } finally {
    library.close();
  }
});
