// The library view and map over real LSP traffic: the server spawned as an editor would, the fixture's
// real LanceDB library, and every answer compared with what the fixture says (names, ranks, tags),
// paging checked page by page, edits applied to the text and read back, and the map's coordinates
// recomputed here by an independent PCA (power iteration on the covariance, written in this file).
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { LibraryRequests, ServerCommands } from '../../server/src/protocol';
import type { LibraryGroup, LibraryMap, LibraryPage, LibrarySummary } from '../../server/src/protocol';
import { applyEdit, type TextEdit } from '../../server/src/engine/recipe/edit';
import { ADAPTERS, BASE, GOOD_RECIPE, TARGET, buildFixture, removeFixture } from './fixture';
import type { Fixture } from './fixture';
import { ServerClient } from './lspClient';

let fixture: Fixture;
let client: ServerClient;
let uri: string;

before(async () => {
  fixture = await buildFixture('ac-libview-');
  client = new ServerClient({
    workspace: fixture.root,
    initializationOptions: { settings: { adapterCompose: { debounceMs: 20, libraryPollMs: 0 } } },
    capabilities: { workspace: { applyEdit: true } },
  });
  await client.initialize();
  uri = client.open(fixture.goodRecipe, GOOD_RECIPE);
  await client.diagnosticsFor(uri, 1, 30000);
});

after(async () => {
  await client?.stop();
  removeFixture(fixture);
});

describe('library view requests', () => {
  it('lists the libraries the workspace recipes name, with size and users', async () => {
    const list = await client.request<LibrarySummary[]>(LibraryRequests.list, {});
    assert.equal(list.length, 1);
    assert.equal(path.resolve(list[0].uri), path.resolve(fixture.library));
    assert.equal(list[0].size, Object.keys(ADAPTERS).length);
    assert.equal(list[0].dim, 4);
    assert.deepEqual(list[0].usedBy, [pathToFileURL(fixture.goodRecipe).toString()]);
  });

  it('groups adapters by base and tag as the fixture has them', async () => {
    const groups = await client.request<LibraryGroup[]>(LibraryRequests.groups, { library: fixture.library });
    const expected = new Map<string, { count: number; tags: Record<string, number> }>();
    for (const a of Object.values(ADAPTERS)) {
      const g = expected.get(a.base) ?? { count: 0, tags: {} };
      g.count++;
      for (const t of a.tags) g.tags[t] = (g.tags[t] ?? 0) + 1;
      expected.set(a.base, g);
    }
    assert.deepEqual(groups.map((g) => g.base), [...expected.keys()].sort());
    for (const g of groups) {
      assert.equal(g.count, expected.get(g.base)!.count);
      assert.deepEqual({ ...g.tags }, expected.get(g.base)!.tags);
    }
  });

  it('pages adapters of one base lazily: pages join to the base, no row twice, facts from the adapters', async () => {
    const names: string[] = [];
    let total: number;
    for (let offset = 0; ; offset += 2) {
      const page = await client.request<LibraryPage>(LibraryRequests.page, { library: fixture.library, base: BASE, offset, limit: 2 });
      total = page.total;
      assert.ok(page.rows.length <= 2);
      for (const row of page.rows) {
        const a = ADAPTERS[row.name];
        assert.equal(row.base, BASE);
        assert.equal(row.rank, a.rank);
        assert.equal(row.modules, 2, 'q_proj and v_proj');
        assert.equal(row.format, 'peft');
        assert.ok((row.bytes ?? 0) > 0, 'local adapter files have a size');
        names.push(row.name);
      }
      if (page.rows.length === 0) break;
    }
    const expected = Object.entries(ADAPTERS).filter(([, a]) => a.base === BASE).map(([n]) => n).sort();
    assert.equal(total, expected.length);
    assert.deepEqual([...names].sort(), expected);
    const tagged = await client.request<LibraryPage>(LibraryRequests.page, { library: fixture.library, base: BASE, tag: 'site-b' });
    assert.deepEqual(tagged.rows.map((r) => r.name), ['prostate-b']);
  });

  it('shows one card, and refuses unknown names and libraries with a reason', async () => {
    const card = await client.request<{ markdown: string; record: { rank: number; prototype_dim: number } }>(LibraryRequests.card, { library: fixture.library, name: 'prostate-b' });
    assert.match(card.markdown, /\*\*prostate-b\*\*/);
    assert.equal(card.record.rank, ADAPTERS['prostate-b'].rank);
    assert.equal(card.record.prototype_dim, 4);
    await assert.rejects(client.request(LibraryRequests.card, { library: fixture.library, name: 'nope' }), /no adapter named 'nope'/);
    await assert.rejects(client.request(LibraryRequests.groups, { library: path.join(fixture.root, 'missing') }), /library/i);
    await assert.rejects(client.request(LibraryRequests.page, {}), /needs a `library`/);
  });
});

describe('add to recipe (server-computed minimal edit)', () => {
  async function run(name: string, as: string): Promise<string> {
    const before = client.appliedEdits.length;
    const result = await client.request<{ applied: boolean; edit: TextEdit }>('workspace/executeCommand', { command: ServerCommands.addToRecipe, arguments: [uri, name, as] });
    assert.equal(result.applied, true);
    assert.equal(client.appliedEdits.length, before + 1);
    return applyEdit(GOOD_RECIPE, result.edit);
  }

  it('adds to exclude, toggles out, adds a manual entry; everything else unchanged', async () => {
    const added = parseYaml(await run('prostate-a', 'exclude'));
    assert.deepEqual(added.retrieve.exclude, ['prostate-e', 'prostate-a']);
    const toggled = parseYaml(await run('prostate-e', 'toggle-exclude'));
    assert.deepEqual(toggled.retrieve.exclude, []);
    const manualText = await run('prostate-b', 'manual');
    const manual = parseYaml(manualText);
    assert.deepEqual(manual.weights.manual, { 'prostate-b': 0 });
    const original = parseYaml(GOOD_RECIPE);
    delete manual.weights.manual;
    assert.deepEqual(manual, original);
    await assert.rejects(client.request('workspace/executeCommand', { command: ServerCommands.addToRecipe, arguments: [uri, 'prostate-e', 'exclude'] }), /already excluded/);
  });
});

/** Independent PCA: covariance, then power iteration with deflation; sign: largest |loading| positive. */
function referenceAxes(rows: number[][]): { mean: number[]; axes: number[][]; values: number[]; total: number } {
  const n = rows.length;
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / n);
  const c = Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => rows.reduce((s, r) => s + (r[p] - mean[p]) * (r[q] - mean[q]), 0) / n));
  const total = c.reduce((s, row, i) => s + row[i], 0);
  const axes: number[][] = [];
  const values: number[] = [];
  for (let k = 0; k < 2; k++) {
    let v = Array.from({ length: d }, (_, j) => 1 + j * 0.1);
    let lambda = 0;
    for (let it = 0; it < 20000; it++) {
      const w = c.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
      const norm = Math.hypot(...w);
      const next = w.map((x) => x / norm);
      const change = Math.hypot(...next.map((x, j) => x - v[j]));
      v = next;
      lambda = norm;
      if (change < 1e-14) break;
    }
    const big = v.reduce((b, x, j) => (Math.abs(x) > Math.abs(v[b]) ? j : b), 0);
    if (v[big] < 0) v = v.map((x) => -x);
    axes.push(v);
    values.push(lambda);
    for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) c[p][q] -= lambda * v[p] * v[q];
  }
  return { mean, axes, values, total };
}

describe('library map', () => {
  it("projects the base's prototypes, target and candidates like an independent PCA", async () => {
    const map = await client.request<LibraryMap>(LibraryRequests.map, { uri });
    const ofBase = Object.entries(ADAPTERS).filter(([, a]) => a.base === BASE);
    const ref = referenceAxes(ofBase.map(([, a]) => a.prototype));
    assert.equal(map.base, BASE);
    assert.equal(map.total, ofBase.length);
    assert.equal(map.sampled, false);
    assert.equal(map.basisRows, ofBase.length);
    for (let k = 0; k < 2; k++) assert.ok(Math.abs(map.explained[k] - ref.values[k] / ref.total) < 1e-8, `explained ${k}`);
    const coord = (p: number[]) => ref.axes.map((axis) => p.reduce((s, x, j) => s + (x - ref.mean[j]) * axis[j], 0));
    assert.deepEqual(map.points.map((p) => p.name).sort(), ofBase.map(([n]) => n).sort());
    for (const p of map.points) {
      const [x, y] = coord(ADAPTERS[p.name].prototype);
      assert.ok(Math.abs(p.x - x) < 1e-7 && Math.abs(p.y - y) < 1e-7, `${p.name}: (${p.x}, ${p.y}) vs (${x}, ${y})`);
    }
    const [tx, ty] = coord(TARGET);
    assert.ok(map.target && Math.abs(map.target.x - tx) < 1e-7 && Math.abs(map.target.y - ty) < 1e-7);
    // Roles and weights come from the plan: k = 4 candidates, prostate-e excluded.
    const plan = await client.request<{ candidates: { name: string }[]; strategy: string; strategies: Record<string, { weights: Record<string, number> }> }>('workspace/executeCommand', { command: ServerCommands.plan, arguments: [uri] });
    assert.deepEqual(map.points.filter((p) => p.role === 'candidate').map((p) => p.name).sort(), plan.candidates.map((c) => c.name).sort());
    assert.deepEqual(map.points.filter((p) => p.role === 'excluded').map((p) => p.name), ['prostate-e']);
    for (const p of map.points.filter((q) => q.role === 'candidate')) assert.equal(p.weight, plan.strategies[plan.strategy].weights[p.name]);
    // The hull: every candidate on or inside it.
    const hull = map.hull.map((i) => map.points[i]);
    assert.ok(hull.length >= 3 && hull.every((p) => p.role === 'candidate'));
    for (const p of map.points.filter((q) => q.role === 'candidate')) {
      for (let i = 0; i < hull.length; i++) {
        const a = hull[i];
        const b = hull[(i + 1) % hull.length];
        assert.ok((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= -1e-12, `${p.name} left of every hull edge`);
      }
    }
  });

  it('maps a large library from a deterministic sample plus the candidates, and says so', async () => {
    const a = await client.request<LibraryMap>(LibraryRequests.map, { uri, sample: 3 });
    const b = await client.request<LibraryMap>(LibraryRequests.map, { uri, sample: 3 });
    assert.equal(a.sampled, true);
    assert.ok(a.basisRows < a.total);
    assert.deepEqual(a, b, 'the same sample and basis each time');
    assert.equal(a.points.filter((p) => p.role === 'candidate').length, 4, 'candidates always drawn');
  });
});
