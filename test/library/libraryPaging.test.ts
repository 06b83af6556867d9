// Paging a library as the editor's view does (Library.page/count/groups, `library ls --offset --limit`):
// pages of every size join to exactly the rows of the base/tag, none twice, and the groups count what
// the fixture holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../server/src/cli/main';
import { openLibrary, type Library } from '../../server/src/engine/library/library';
import { ADAPTERS, BASE, buildFixture, removeFixture, type Fixture } from '../lsp/fixture';

let fixture: Fixture;
let library: Library;
before(async () => {
  fixture = await buildFixture('ac-paging-');
  library = await openLibrary(fixture.library);
});
after(() => {
  library?.close();
  removeFixture(fixture);
});

const namesOf = (pred: (a: (typeof ADAPTERS)[string]) => boolean) => Object.entries(ADAPTERS).filter(([, a]) => pred(a)).map(([n]) => n).sort();

test('pages of every size join to the rows of the filter, none twice', async () => {
  for (const filter of [{}, { base: BASE }, { base: BASE, tag: 'site-c' }, { tag: 'chat' }, { base: 'absent' }]) {
    const expected = namesOf((a) => (filter.base === undefined || a.base === filter.base) && (!('tag' in filter) || a.tags.includes(filter.tag!)));
    assert.equal(await library.count(filter), expected.length);
    for (const size of [1, 2, 3, 100]) {
      const seen: string[] = [];
      for (let offset = 0; offset < expected.length + size; offset += size) seen.push(...(await library.page({ ...filter, offset, limit: size })).map((r) => r.name));
      assert.deepEqual([...seen].sort(), expected, `${JSON.stringify(filter)} by ${size}`);
    }
  }
  const [row] = await library.page({ offset: 0, limit: 1 });
  assert.equal(row.prototype.length, 0, 'no prototypes unless asked');
  const [withProto] = await library.page({ offset: 0, limit: 1, prototypes: true });
  assert.deepEqual(withProto.prototype.map((x) => Math.fround(x)), ADAPTERS[withProto.name].prototype.map((x) => Math.fround(x)));
});

test('groups count adapters per base and tag', async () => {
  const groups = await library.groups();
  for (const g of groups) {
    assert.equal(g.count, namesOf((a) => a.base === g.base).length);
    for (const [tag, n] of Object.entries(g.tags)) assert.equal(n, namesOf((a) => a.base === g.base && a.tags.includes(tag)).length);
  }
});

test('library ls --offset --limit --base prints one page as JSON', async () => {
  let out = '';
  const code = await main(['library', 'ls', fixture.library, '--base', BASE, '--offset', '1', '--limit', '2', '--json'], { out: (t) => { out += t; }, err: () => undefined, isTTY: false, cwd: fixture.root });
  assert.equal(code, 0);
  const rows = JSON.parse(out) as { name: string; base: string }[];
  const pages = (await library.page({ base: BASE, offset: 1, limit: 2 })).map((r) => r.name);
  assert.deepEqual(rows.map((r) => r.name), pages);
  assert.ok(rows.every((r) => r.base === BASE));
});

test('library index prints its report as a sentence, and as JSON with --json', async () => {
  const run = async (args: string[]) => {
    let out = '';
    const code = await main(['library', 'index', fixture.library, ...args], { out: (t) => { out += t; }, err: () => undefined, isTTY: false, cwd: fixture.root });
    assert.equal(code, 0);
    return out;
  };
  const report = JSON.parse(await run(['--json'])) as { indexed: boolean; rows: number; message: string };
  assert.equal(report.rows, await library.count({}));
  assert.equal(report.indexed, false, 'a small library gets no ANN index');
  assert.equal(await run([]), report.message);
});
