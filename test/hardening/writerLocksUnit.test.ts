/**
 * Never destroy, never hang, at the unit level: the single-writer lock files (engine/singleWriter.ts:
 * `<output>.composing`, the library's write lock) and the LanceDB folder check
 * (engine/library/libraryFolder.ts). A lock file is removed only when it is compose's own (a pid of a
 * dead process, or empty) — never a user's file of that name, a folder, a FIFO or what a link points
 * to — and a live holder makes the next writer wait, then fail by name. A LanceDB folder holding a
 * FIFO, a device or a link out of it is refused before LanceDB reads or writes through it. The
 * CLI-level tests (hardening/*) reach these through the built CLI, which no mutant of the source
 * reaches: this file is what `npm run mutate -- guard` measures them with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive, withLockFile, withOutputLock } from '../../server/src/engine/singleWriter';
import { foreignEntry, requireOwnEntries } from '../../server/src/engine/library/libraryFolder';
import { isComposerError } from '../../server/src/engine/errors';

/** A pid no process has (above Linux's pid_max). */
const DEAD = 2_000_000_000;

function tempDir(prefix = 'ac-writer-'): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; hint?: string; location?: { file: string } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

test('withOutputLock holds <output>.composing with its pid while the body runs, returns its value, and removes it after (also when the body throws)', async () => {
  const dir = tempDir();
  const output = path.join(dir, 'out', 'c');
  const lockFile = path.join(dir, 'out', 'c.composing');
  const value = await withOutputLock(`${output}//`, async () => {
    assert.equal(fs.readFileSync(lockFile, 'utf8'), String(process.pid), 'the lock beside the output, trailing separators dropped');
    return 42;
  });
  assert.equal(value, 42);
  assert.equal(fs.existsSync(lockFile), false);
  const failed = await rejection(withOutputLock(output, async () => {
    throw new Error('the body failed');
  }));
  assert.equal(failed.message, 'the body failed');
  assert.equal(fs.existsSync(lockFile), false, 'released after a failure');
});

test('a second writer waits for the first and then runs; a live holder that stays makes it fail by name, its file untouched', async () => {
  const dir = tempDir();
  const lockFile = path.join(dir, 'x.lock');
  const order: string[] = [];
  let release!: () => void;
  const first = withLockFile(lockFile, 'busy', async () => {
    order.push('first in');
    await new Promise<void>((r) => (release = r));
    order.push('first out');
  });
  await new Promise((r) => setTimeout(r, 20));
  const second = withLockFile(lockFile, 'busy', async () => {
    order.push('second');
  });
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(order, ['first in'], 'the second waits');
  release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first in', 'first out', 'second']);
  // pid 1 is alive (init): a holder that never finishes
  fs.writeFileSync(lockFile, '1');
  const started = Date.now();
  const timedOut = await rejection(withLockFile(lockFile, 'another compose is writing out/c', async () => assert.fail('never runs'), 300));
  assert.ok(Date.now() - started >= 300, 'waited the timeout');
  assert.ok(isComposerError(timedOut));
  assert.equal(timedOut.message, 'another compose is writing out/c (pid 1 holds x.lock)');
  assert.equal(timedOut.hint, `wait for it to finish, or remove ${lockFile} if that process is gone`);
  assert.equal(timedOut.location?.file, lockFile);
  assert.equal(timedOut.code, 'io');
  assert.equal(fs.readFileSync(lockFile, 'utf8'), '1', 'a live holder\'s lock stays');
  // compose's own lock names the output it waited for
  const output = path.join(dir, 'c');
  fs.writeFileSync(`${output}.composing`, '1');
  const busy = await rejection(withOutputLock(output, async () => assert.fail('never runs'), 200));
  assert.equal(busy.message, `another compose is writing ${output} (pid 1 holds c.composing)`);
});

test("a dead holder's lock (or an empty one, or a link) is taken over; the link's target is never touched", async () => {
  const dir = tempDir();
  const lockFile = path.join(dir, 'x.lock');
  for (const content of [String(DEAD), '', `  ${DEAD}\n`, '0', ' '.repeat(54) + String(DEAD)]) {
    fs.writeFileSync(lockFile, content);
    assert.ok(fs.statSync(lockFile).size <= 64);
    assert.equal(await withLockFile(lockFile, 'busy', async () => fs.readFileSync(lockFile, 'utf8'), 1000), String(process.pid), JSON.stringify(content));
    assert.equal(fs.existsSync(lockFile), false);
  }
  const target = path.join(dir, 'users-file');
  fs.writeFileSync(target, 'the user\'s data, not a pid');
  fs.symlinkSync(target, lockFile);
  await withLockFile(lockFile, 'busy', async () => undefined, 1000);
  assert.equal(fs.readFileSync(target, 'utf8'), 'the user\'s data, not a pid');
  fs.symlinkSync('/dev/zero', lockFile);
  await withLockFile(lockFile, 'busy', async () => undefined, 1000);
  assert.equal(fs.existsSync(lockFile), false);
});

test('a file of the user\'s, a folder or a FIFO under the lock\'s name is refused and left as it was', async () => {
  const dir = tempDir();
  const lockFile = path.join(dir, 'x.lock');
  const refusedWith = async (make: () => void, check: () => void) => {
    fs.rmSync(lockFile, { recursive: true, force: true });
    make();
    const e = await rejection(withLockFile(lockFile, 'busy', async () => assert.fail('never runs'), 1000));
    assert.ok(isComposerError(e));
    assert.equal(e.message, `${lockFile} exists and is not a compose lock file (it holds something else)`);
    assert.match(e.hint!, /move that file away/);
    assert.equal(e.code, 'io');
    assert.equal(e.location?.file, lockFile);
    check();
  };
  for (const content of ['my notes', '12345678901', '12 34', `${' '.repeat(55)}${DEAD}`, '-5', '1e3']) {
    await refusedWith(() => fs.writeFileSync(lockFile, content), () => assert.equal(fs.readFileSync(lockFile, 'utf8'), content));
  }
  await refusedWith(() => fs.mkdirSync(path.join(lockFile, 'inside'), { recursive: true }), () => assert.ok(fs.existsSync(path.join(lockFile, 'inside'))));
  await refusedWith(() => execFileSync('mkfifo', [lockFile]), () => assert.ok(fs.lstatSync(lockFile).isFIFO()));
});

test('a lock that cannot be created says why; its folder is created when missing', async () => {
  const dir = tempDir();
  const tooLong = path.join(dir, `${'n'.repeat(300)}.composing`);
  const e = await rejection(withLockFile(tooLong, 'busy', async () => undefined));
  assert.ok(isComposerError(e));
  assert.match(e.message, /^cannot create .*\.composing: .*ENAMETOOLONG/);
  assert.equal(e.code, 'io');
  assert.equal(e.location?.file, tooLong);
  assert.equal(await withLockFile(path.join(dir, 'new', 'deeper', 'x.lock'), 'busy', async () => 'ran'), 'ran');
});

test('processAlive: this process and init are alive, an unused pid is not', () => {
  assert.equal(processAlive(process.pid), true);
  assert.equal(processAlive(1), true);
  assert.equal(processAlive(DEAD), false);
});

/** A LanceDB-like folder: a table with data, versions and a transaction, a manifest, and files of the library's own. */
function lanceFolder(): string {
  const lib = tempDir('ac-lance-');
  for (const d of ['rows.lance/data', 'rows.lance/_versions', 'rows.lance/_transactions', '__manifest']) fs.mkdirSync(path.join(lib, d), { recursive: true });
  fs.writeFileSync(path.join(lib, 'rows.lance', 'data', 'a.lance'), 'fragment');
  fs.writeFileSync(path.join(lib, 'rows.lance', '_versions', '1.manifest'), 'v1');
  fs.writeFileSync(path.join(lib, '__manifest', 'm'), 'm');
  fs.writeFileSync(path.join(lib, 'encoder.json'), '{}');
  return lib;
}

test("a LanceDB folder of folders and regular files passes; LanceDB's entries only are looked at, links inside it are allowed", () => {
  const lib = lanceFolder();
  assert.equal(foreignEntry(lib), undefined);
  assert.doesNotThrow(() => requireOwnEntries(lib, 'the library'));
  // not LanceDB's: the library's own files, whatever they are (the plan confines those)
  execFileSync('mkfifo', [path.join(lib, 'notes')]);
  fs.symlinkSync('/dev/zero', path.join(lib, 'encoder.onnx'));
  fs.mkdirSync(path.join(lib, 'other'));
  execFileSync('mkfifo', [path.join(lib, 'other', 'pipe')]);
  assert.equal(foreignEntry(lib), undefined);
  // links that resolve inside the folder, to a file or a folder (named `..x`: inside, not above)
  fs.writeFileSync(path.join(lib, 'rows.lance', '..x'), 'a file whose name starts with two dots');
  fs.symlinkSync(path.join(lib, 'rows.lance', '..x'), path.join(lib, 'rows.lance', 'data', 'b.lance'));
  fs.symlinkSync(path.join(lib, '__manifest'), path.join(lib, 'rows.lance', 'manifest-link'));
  fs.symlinkSync(lib, path.join(lib, 'rows.lance', 'root-link'));
  assert.equal(foreignEntry(lib), undefined);
  // the folder itself given through a link
  const link = path.join(tempDir(), 'lib-link');
  fs.symlinkSync(lib, link);
  assert.equal(foreignEntry(link), undefined);
  assert.equal(foreignEntry(path.join(lib, 'missing')), undefined, 'a missing folder: the caller says so');
});

test('a FIFO, a device, a link out, a dangling link or a link to a FIFO inside LanceDB\'s entries is refused by name', () => {
  const cases: [string, (lib: string) => void, (lib: string) => string][] = [
    ['a FIFO fragment', (lib) => execFileSync('mkfifo', [path.join(lib, 'rows.lance', 'data', 'b.lance')]), (lib) => `${path.join(lib, 'rows.lance', 'data', 'b.lance')} is a FIFO (named pipe), not a regular file`],
    ['a FIFO in the manifest', (lib) => execFileSync('mkfifo', [path.join(lib, '__manifest', 'p')]), (lib) => `${path.join(lib, '__manifest', 'p')} is a FIFO (named pipe), not a regular file`],
    ['a FIFO under any name inside a table', (lib) => execFileSync('mkfifo', [path.join(lib, 'rows.lance', 'p')]), (lib) => `${path.join(lib, 'rows.lance', 'p')} is a FIFO (named pipe), not a regular file`],
    ['data/ linked out', (lib) => {
      const out = tempDir('ac-lance-out-');
      fs.rmSync(path.join(lib, 'rows.lance', 'data'), { recursive: true });
      fs.symlinkSync(out, path.join(lib, 'rows.lance', 'data'));
    }, (lib) => `${path.join(lib, 'rows.lance', 'data')} is a symbolic link out of ${lib} (to ${fs.realpathSync(path.join(lib, 'rows.lance', 'data'))})`],
    ['a link to a sibling folder whose name starts the same', (lib) => {
      fs.mkdirSync(`${lib}2`);
      fs.writeFileSync(`${lib}2/f`, 'f');
      fs.symlinkSync(`${lib}2/f`, path.join(lib, 'rows.lance', 'data', 'c.lance'));
    }, (lib) => `${path.join(lib, 'rows.lance', 'data', 'c.lance')} is a symbolic link out of ${lib} (to ${lib}2/f)`],
    ['a link to the folder above', (lib) => fs.symlinkSync(path.dirname(lib), path.join(lib, 'rows.lance', 'up')), (lib) => `${path.join(lib, 'rows.lance', 'up')} is a symbolic link out of ${lib} (to ${path.dirname(lib)})`],
    ['a dangling link', (lib) => fs.symlinkSync('gone.lance', path.join(lib, 'rows.lance', 'data', 'd.lance')), (lib) => `${path.join(lib, 'rows.lance', 'data', 'd.lance')} is a symbolic link to a missing gone.lance`],
    ['a link to a FIFO inside', (lib) => {
      execFileSync('mkfifo', [path.join(lib, 'pipe')]);
      fs.symlinkSync(path.join(lib, 'pipe'), path.join(lib, 'rows.lance', 'data', 'e.lance'));
    }, (lib) => `${path.join(lib, 'rows.lance', 'data', 'e.lance')} links to ${path.join(lib, 'pipe')}, a FIFO (named pipe), not a regular file`],
  ];
  for (const [what, make, expected] of cases) {
    const lib = lanceFolder();
    make(lib);
    assert.equal(foreignEntry(lib), expected(lib), what);
  }
  const lib = lanceFolder();
  let device = true;
  try {
    execFileSync('mknod', [path.join(lib, 'rows.lance', 'data', 'z.lance'), 'c', '1', '5'], { stdio: 'ignore' });
  } catch {
    device = false; // not allowed here (not root): the FIFO cases above stand for it
  }
  if (device) assert.equal(foreignEntry(lib), `${path.join(lib, 'rows.lance', 'data', 'z.lance')} is a character device, not a regular file`);
  const blockLib = lanceFolder();
  let block = true;
  try {
    execFileSync('mknod', [path.join(blockLib, 'rows.lance', 'data', 'z.lance'), 'b', '7', '0'], { stdio: 'ignore' });
  } catch {
    block = false;
  }
  if (block) assert.equal(foreignEntry(blockLib), `${path.join(blockLib, 'rows.lance', 'data', 'z.lance')} is a block device, not a regular file`);
});

test('a socket inside a table is refused by name', async () => {
  const lib = lanceFolder();
  const socket = path.join(lib, 'rows.lance', 'data', 's.lance');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    assert.equal(foreignEntry(lib), `${socket} is a socket, not a regular file`);
  } finally {
    server.close();
  }
});

test('the first foreign entry in name order is the one named, and requireOwnEntries refuses the folder with it', () => {
  const lib = lanceFolder();
  // created in a scrambled order (Node's readdir on Linux already lists by name, libuv's scandir sorts;
  // the sort keeps the order where a platform lists otherwise)
  const names = Array.from({ length: 12 }, (_, i) => `f${String((i * 5 + 7) % 12).padStart(2, '0')}.lance`);
  assert.notEqual(names[0], 'f00.lance');
  assert.notEqual(names[names.length - 1], 'f00.lance');
  for (const name of names) execFileSync('mkfifo', [path.join(lib, 'rows.lance', 'data', name)]);
  const problem = `${path.join(lib, 'rows.lance', 'data', 'f00.lance')} is a FIFO (named pipe), not a regular file`;
  assert.equal(foreignEntry(lib), problem);
  let error: unknown;
  try {
    requireOwnEntries(lib, 'the run history');
  } catch (e) {
    error = e;
  }
  assert.ok(isComposerError(error));
  assert.equal(error.code, 'library');
  assert.equal(error.message, `the run history ${lib} holds a file LanceDB did not write: ${problem}`);
  assert.equal(error.location?.file, lib);
  assert.match(error.hint!, /LanceDB writes only folders and regular files/);
});
