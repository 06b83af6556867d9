/**
 * The planner's disk cache of target prototypes: keyed by content (encoder bytes, encoder config,
 * every sample's bytes), so a second process reuses the first one's encoding and any change to an
 * input makes a new entry.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDemoWorkspace } from '../../server/src/engine/demo/buildDemo';
import { createPlanner } from '../../server/src/engine/planner';
import { readNpy, writeNpy } from '../../server/src/engine/prototype/npy';

let root: string;
let cacheDir: string;
const previous = process.env.ADAPTER_COMPOSER_CACHE;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-proto-cache-'));
  cacheDir = path.join(root, 'cache');
  process.env.ADAPTER_COMPOSER_CACHE = cacheDir;
  await buildDemoWorkspace(path.join(root, 'ws'));
});

after(() => {
  if (previous === undefined) delete process.env.ADAPTER_COMPOSER_CACHE;
  else process.env.ADAPTER_COMPOSER_CACHE = previous;
  fs.rmSync(root, { recursive: true, force: true });
});

function entries(): string[] {
  const dir = path.join(cacheDir, 'prototypes');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).sort() : [];
}

async function planTarget(recipe: string): Promise<{ target: Float64Array; count: number }> {
  const planner = createPlanner();
  try {
    const outcome = await planner.plan(fs.readFileSync(recipe, 'utf8'), recipe, { provider: 'cpu' });
    assert.ok(outcome.plan, outcome.problems.map((p) => p.message).join('; '));
    return { target: outcome.target!, count: outcome.plan.target.count };
  } finally {
    await planner.dispose();
  }
}

test('a second planner reuses the stored prototype; a changed sample makes a new entry', async () => {
  const recipe = path.join(root, 'ws', 'recipes', 'code-14.compose.yaml');
  // The demo build itself planned every recipe: clear what it stored, then start from nothing.
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const first = await planTarget(recipe);
  const stored = entries();
  assert.equal(stored.length, 1, 'one entry per distinct (encoder, samples)');
  const entry = path.join(cacheDir, 'prototypes', stored[0]);
  const mtime = fs.statSync(entry).mtimeMs;
  assert.deepEqual(Array.from(readNpy(entry).data), Array.from(first.target), 'the entry is the computed prototype');

  const second = await planTarget(recipe);
  assert.deepEqual(Array.from(second.target), Array.from(first.target));
  assert.equal(second.count, first.count, 'the sample count is stored with the entry');
  assert.equal(fs.statSync(entry).mtimeMs, mtime, 'read, not rewritten');

  // Same size, new bytes: the content key changes even if size and name do not.
  const samples = path.join(root, 'ws', 'data', 'code-14', 'samples.npy');
  const { data, shape } = readNpy(samples);
  const changed = Float32Array.from(data);
  changed[0] += 1;
  writeNpy(samples, changed, shape);
  const third = await planTarget(recipe);
  assert.equal(entries().length, 2);
  assert.notDeepEqual(Array.from(third.target), Array.from(first.target));
});
