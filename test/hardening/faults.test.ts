/**
 * Faults with real processes: `kill -9` at random points of `compose` and `library add`, a write
 * limit hit mid-compose (RLIMIT_FSIZE → EFBIG, the disk-full path), two composes of one recipe at
 * once and two writers adding to one library at once. Afterwards the previous output, lock and
 * library must be intact and usable, and a rerun must succeed. FUZZ_SCALE multiplies the kills.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openLibrary } from '../../server/src/engine/library/library';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { cli, cliAsync, demoWorkspace, ensureBuilt, sameSnapshot, snapshot } from './workspace';
import { inputs, seededRandom } from './fuzzing';

let ws: string;
const RECIPE = 'recipes/grammar-01.compose.yaml';
const LOCK = 'recipes/grammar-01.compose.lock';
const OUTPUT = 'out/grammar-01';

before(() => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-faults-');
});

function composeOk(strategy: string): { output: Map<string, Buffer>; lock: Buffer } {
  const r = cli(['compose', RECIPE, '--strategy', strategy], { cwd: ws });
  assert.equal(r.status, 0, `compose --strategy ${strategy}: ${r.stderr}`);
  return { output: snapshot(path.join(ws, OUTPUT))!, lock: fs.readFileSync(path.join(ws, LOCK)) };
}

test('kill -9 at random points of compose: output and lock stay a finished state; reruns succeed', async () => {
  // Two finished states, alternated, so a half-published mix of them would be noticed.
  const sparse = composeOk('sparse');
  const avg = composeOk('avg');
  assert.ok(!sameSnapshot(sparse.output, avg.output), 'the two strategies give different composites');
  assert.ok(sameSnapshot(composeOk('avg').output, avg.output), 'compose is deterministic');
  const r = seededRandom(0x6b11);
  const kills = inputs(20);
  const timing = cli(['compose', RECIPE, '--strategy', 'sparse'], { cwd: ws }).ms;
  let killedBeforeEnd = 0;
  let publishWindow = 0;
  for (let i = 0; i < kills; i++) {
    const strategy = i % 2 === 0 ? 'sparse' : 'avg';
    const run = cliAsync(['compose', RECIPE, '--strategy', strategy], { cwd: ws });
    const delay = Math.floor(r() * timing * 1.1);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
    const result = await run.done;
    clearTimeout(timer);
    if (result.signal === 'SIGKILL') killedBeforeEnd++;
    else assert.equal(result.status, 0, `uninterrupted compose failed: ${result.stderr}`);
    const output = snapshot(path.join(ws, OUTPUT));
    const lock = fs.readFileSync(path.join(ws, LOCK));
    if (!output) {
      // killed between the two renames of the publish: the previous output waits beside it
      publishWindow++;
      assert.ok(fs.readdirSync(path.join(ws, 'out')).some((e) => e.startsWith('.grammar-01.old-')), `kill ${i}: output gone and no previous copy`);
    } else {
      assert.ok(sameSnapshot(output, sparse.output) || sameSnapshot(output, avg.output), `kill ${i} after ${delay} ms: the output is a mix of two composes`);
      openAdapter(path.join(ws, OUTPUT)); // and it opens as an adapter
    }
    assert.ok(lock.equals(sparse.lock) || lock.equals(avg.lock), `kill ${i}: the lock is damaged`);
  }
  // A rerun recovers whatever the last kill left, then --locked agrees with it.
  const final = composeOk('sparse');
  assert.ok(sameSnapshot(final.output, sparse.output) && final.lock.equals(sparse.lock));
  const locked = cli(['compose', RECIPE, '--locked'], { cwd: ws });
  assert.equal(locked.status, 0, locked.stderr);
  assert.deepEqual(fs.readdirSync(path.join(ws, 'out')).filter((e) => e.startsWith('.')), [], 'no staging or old folders are left');
  assert.ok(!fs.existsSync(path.join(ws, `${OUTPUT}.composing`)));
  assert.ok(killedBeforeEnd >= kills / 3, `only ${killedBeforeEnd} of ${kills} kills landed before the end`);
  void publishWindow;
});

test('kill -9 at random points of library add: the library opens, lists and keeps every earlier row', async () => {
  const r = seededRandom(0xadd);
  const kills = inputs(20);
  const libraryDir = path.join(ws, 'library');
  const before = (await listNames(libraryDir)).sort();
  const timing = cli(['library', 'add', 'library', 'adapters/code-14', '--name', 'timing-run', '--samples', 'data/code-14/*.npy'], { cwd: ws });
  assert.equal(timing.status, 0, timing.stderr);
  let added = 0;
  for (let i = 0; i < kills; i++) {
    const name = `killed-${i}`;
    const run = cliAsync(['library', 'add', 'library', 'adapters/code-14', '--name', name, '--samples', 'data/code-14/*.npy'], { cwd: ws });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), Math.floor(r() * timing.ms * 1.1));
    const result = await run.done;
    clearTimeout(timer);
    if (result.signal !== 'SIGKILL') assert.equal(result.status, 0, result.stderr);
    const names = await listNames(libraryDir);
    assert.equal(new Set(names).size, names.length, `kill ${i}: duplicate rows ${names.join(',')}`);
    for (const n of before) assert.ok(names.includes(n), `kill ${i}: lost ${n}`);
    if (names.includes(name)) added++;
  }
  // The CLI agrees, a rerun of a killed add succeeds, and compose still works against the library.
  const ls = cli(['library', 'ls', 'library', '--json'], { cwd: ws });
  assert.equal(ls.status, 0, ls.stderr);
  const again = cli(['library', 'add', 'library', 'adapters/code-14', '--name', 'after-kills', '--samples', 'data/code-14/*.npy'], { cwd: ws });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(cli(['compose', RECIPE], { cwd: ws }).status, 0);
  assert.ok(added < kills, 'some adds were interrupted');
});

test('disk full mid-compose (RLIMIT_FSIZE): a clear error, no partial output, the previous output intact', async () => {
  const previous = composeOk('sparse');
  const run = cliAsync(['compose', RECIPE, '--strategy', 'avg'], { cwd: ws, shellPrefix: "trap '' XFSZ; ulimit -f 8" });
  const result = await run.done;
  assert.notEqual(result.status, 0, 'the compose must fail');
  assert.equal(result.signal, null);
  assert.match(result.stderr, /cannot write .*(EFBIG|ENOSPC)/, result.stderr);
  assert.doesNotMatch(result.stderr, /internal error|\n\s+at /, 'no stack trace, no internal error');
  assert.ok(sameSnapshot(snapshot(path.join(ws, OUTPUT)), previous.output), 'previous output intact');
  assert.ok(fs.readFileSync(path.join(ws, LOCK)).equals(previous.lock), 'previous lock intact');
  assert.deepEqual(fs.readdirSync(path.join(ws, 'out')).filter((e) => e.startsWith('.')), [], 'no staging folder left');
  assert.deepEqual(fs.readdirSync(path.join(ws, 'recipes')).filter((e) => e.includes('.tmp-')), [], 'no temporary lock left');
});

test('two composes of one recipe at once: the second waits, both finish, the result is one finished composite', async () => {
  const a = cliAsync(['compose', RECIPE, '--strategy', 'sparse'], { cwd: ws });
  const b = cliAsync(['compose', RECIPE, '--strategy', 'avg'], { cwd: ws });
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.status, 0, ra.stderr);
  assert.equal(rb.status, 0, rb.stderr);
  const output = snapshot(path.join(ws, OUTPUT))!;
  const lock = JSON.parse(fs.readFileSync(path.join(ws, LOCK), 'utf8')) as { strategy: string; output: { files: { path: string; sha256: string }[] } };
  // the lock describes the output that is there (whichever compose finished last)
  const crypto = await import('node:crypto');
  for (const f of lock.output.files) assert.equal(crypto.createHash('sha256').update(output.get(f.path)!).digest('hex'), f.sha256, `${f.path} matches the lock`);
});

test('two writers add to one library at once: different names both land, the same name is refused once', async () => {
  const add = (name: string) => cliAsync(['library', 'add', 'library', 'adapters/math-11', '--name', name, '--samples', 'data/math-11/*.npy'], { cwd: ws });
  for (let round = 0; round < inputs(3); round++) {
    const [x, y] = await Promise.all([add(`pair-${round}-x`).done, add(`pair-${round}-y`).done]);
    assert.equal(x.status, 0, x.stderr);
    assert.equal(y.status, 0, y.stderr);
    const same = await Promise.all([add(`same-${round}`).done, add(`same-${round}`).done, add(`same-${round}`).done]);
    const ok = same.filter((s) => s.status === 0);
    assert.equal(ok.length, 1, same.map((s) => s.stderr).join('\n'));
    for (const s of same.filter((q) => q.status !== 0)) assert.match(s.stderr, /already has an adapter named 'same-/);
    const names = await listNames(path.join(ws, 'library'));
    assert.ok(names.includes(`pair-${round}-x`) && names.includes(`pair-${round}-y`));
    assert.equal(names.filter((n) => n === `same-${round}`).length, 1, 'exactly one row of the contested name');
  }
});

async function listNames(dir: string): Promise<string[]> {
  const library = await openLibrary(dir);
  try {
    return (await library.list({ prototypes: false })).map((a) => a.name);
  } finally {
    library.close();
  }
}
