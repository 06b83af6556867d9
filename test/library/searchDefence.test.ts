/**
 * The search's last defence: whatever LanceDB's prefilter did, a hit of another base or an excluded
 * adapter makes the search refuse rather than hand it to the weights. LanceDB never returns one, so
 * the table here is a real LanceDB table behind a wrapper (the `SearchedTable` seam is ours) whose
 * queries drop their `where`, as a prefilter bug would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { initLibrary } from '../../server/src/engine/library/library';
import { RowCodec } from '../../server/src/engine/library/rowCodec';
import { ADAPTERS_TABLE } from '../../server/src/engine/library/schema';
import { searchNearest, type SearchedTable } from '../../server/src/engine/library/search';
import { ComposerError } from '../../server/src/engine/errors';
import type { AdapterRecord } from '../../server/src/engine/types';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-search-defence-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

function record(name: string, base: string, prototype: number[]): AdapterRecord {
  return { name, base, rank: 8, alpha: 16, target_modules: ['q_proj'], format: 'peft', path: `/adapters/${name}`, sha256: 'ab'.repeat(32), prototype, description: '', tags: [], created_at: '2024-06-01T00:00:00.000Z' };
}

/** A query whose `where` is ignored; every other builder call goes to the real query. */
function leaky<T extends object>(query: T): T {
  const wrapped: T = new Proxy(query, {
    get(target, key) {
      if (key === 'where') return () => wrapped;
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out === target ? wrapped : out;
      };
    },
  });
  return wrapped;
}

async function tables(): Promise<{ honest: SearchedTable; broken: SearchedTable }> {
  const dir = path.join(root, 'lib');
  const library = await initLibrary(dir, { dim: 2 });
  // the nearest of all to the target (0, 0) is of another base, then an adapter the search excludes
  await library.add([record('other-base', 'mistral-7b', [0.1, 0]), record('left-out', 'llama-3-8b', [0.2, 0]), record('far', 'llama-3-8b', [3, 0]), record('farther', 'llama-3-8b', [4, 0])]);
  library.close();
  const table = await (await lancedb.connect(dir)).openTable(ADAPTERS_TABLE);
  const rows = new RowCodec(dir, true);
  const broken = new Proxy(table, {
    get(target, key) {
      if (key === 'vectorSearch') return (v: Float32Array) => leaky(target.vectorSearch(v));
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { honest: { uri: dir, dim: 2, table, rows }, broken: { uri: dir, dim: 2, table: broken, rows } };
}

const refused = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ComposerError, String(e));
  assert.equal(e.code, 'library');
  assert.match(e.message, re);
  return true;
};

test('a hit of another base or an excluded adapter from the table is refused, by name; the honest table gives the filtered k', async () => {
  const { honest, broken } = await tables();
  const target = [0, 0];
  // honest LanceDB: the filters hold, nothing to refuse
  assert.deepEqual((await searchNearest(honest, target, { k: 2, base: 'llama-3-8b', exclude: ['left-out'] })).map((h) => h.name), ['far', 'farther']);
  assert.deepEqual((await searchNearest(honest, target, { k: 2 })).map((h) => h.name), ['other-base', 'left-out'], 'no base, no exclude: no check to trip');
  assert.deepEqual((await searchNearest(broken, target, { k: 2 })).map((h) => h.name), ['other-base', 'left-out'], 'nothing asked, nothing to refuse, even with the filter gone');
  // the filter gone: the search refuses instead of returning what was filtered out
  await assert.rejects(searchNearest(broken, target, { k: 2, base: 'llama-3-8b' }), refused(/retrieval returned `other-base` of base `mistral-7b`, not `llama-3-8b`; refusing the result/));
  await assert.rejects(searchNearest(broken, target, { k: 2, exclude: ['left-out'] }), refused(/retrieval returned the excluded adapter `left-out`; refusing the result/));
  await assert.rejects(searchNearest(broken, target, { k: 1, base: 'mistral-7b' }), refused(/retrieval returned `left-out` of base `llama-3-8b`, not `mistral-7b`/), 'every hit is checked, not only the first');
});
