// A team keeps the library and its adapters in one git repository: the rows must name the adapters
// relative to the library folder, or every other clone (and CI's checkout) finds none of them.
// Found by the new-user walkthrough: a clone of the repository failed `check`, `compose --locked` and
// `library verify` with "adapter not found: /path/of/the/first/clone/adapters/…".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initLibrary, openLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { verifyLibrary } from '../../server/src/engine/library/verify';
import { REAL_LORAS } from '../sharedData';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-relocatable-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

test('a repository holding a library and its adapters still works after it is cloned (moved) elsewhere', async () => {
  const repo = path.join(root, 'repo');
  fs.mkdirSync(path.join(repo, 'adapters'), { recursive: true });
  fs.cpSync(path.join(REAL_LORAS, 'peft-roberta-mrpc', 'checkpoint-230'), path.join(repo, 'adapters', 'mrpc-230'), { recursive: true });
  const vector = new Float64Array([1, 0, 0, 0]);
  const library = await initLibrary(path.join(repo, 'lib'), { dim: 4 });
  await library.add(await adapterRecord(library, { adapterPath: path.join(repo, 'adapters', 'mrpc-230'), name: 'mrpc-230', source: { vector } }));
  assert.equal((await library.get('mrpc-230'))?.path, path.join(repo, 'adapters', 'mrpc-230'), 'read back absolute');
  library.close();

  const clone = path.join(root, 'clone');
  fs.renameSync(repo, clone);
  const moved = await openLibrary(path.join(clone, 'lib'));
  try {
    const row = await moved.get('mrpc-230');
    assert.equal(row?.path, path.join(clone, 'adapters', 'mrpc-230'));
    assert.equal((await moved.list())[0].path, path.join(clone, 'adapters', 'mrpc-230'));
    const report = await verifyLibrary(moved);
    assert.deepEqual(report.adapters.map((e) => [e.name, e.status]), [['mrpc-230', 'ok']]);
  } finally {
    moved.close();
  }
});

test('an adapter outside the library\'s tree, and a row written with an absolute path (before), are read as absolute paths', async () => {
  const library = await initLibrary(path.join(root, 'outside', 'lib'), { dim: 4 });
  const adapter = path.join(REAL_LORAS, 'peft-roberta-mrpc', 'checkpoint-460');
  const record = await adapterRecord(library, { adapterPath: adapter, name: 'mrpc-460', source: { vector: new Float64Array([0, 1, 0, 0]) } });
  await library.add(record);
  try {
    assert.equal((await library.get('mrpc-460'))?.path, adapter);
    // a row as earlier versions wrote it: the absolute path, straight into the table
    const legacy = { ...record, name: 'legacy', path: adapter };
    const { rowFromRecord } = await import('../../server/src/engine/library/schema');
    await (library as unknown as { table: { add(rows: unknown[]): Promise<unknown> } }).table.add([rowFromRecord(legacy)]);
    assert.equal((await library.get('legacy'))?.path, adapter);
    assert.deepEqual((await verifyLibrary(library)).adapters.map((e) => [e.name, e.status]), [['legacy', 'ok'], ['mrpc-460', 'ok']]);
  } finally {
    library.close();
  }
});
