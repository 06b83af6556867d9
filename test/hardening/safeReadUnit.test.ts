/**
 * Never hang, never echo, at the unit level: the bounded reads of engine/safeRead.ts. A path from a
 * recipe, an adapter or a library may be a FIFO with no writer (an open that blocks forever), a
 * device (/dev/zero: a read that never ends), a folder, a link to any of these, or a file far larger
 * than its kind; each must be refused at once by name, without a leaked descriptor, and a broken JSON
 * file must never be quoted. The CLI-level tests (hardening/hostileFiles) check the same through the
 * built CLI, which no mutant of the source reaches: this file is what `npm run mutate -- guard`
 * measures the reads with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { READ_CAPS, assertRegularFile, isRegularFile, openRegular, parseJsonQuiet, readAt, readFileSafe, readTextSafe, type ReadKind } from '../../server/src/engine/safeRead';
import { isComposerError } from '../../server/src/engine/errors';
import { thrown } from './thrown';

function tempDir(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-saferead-')));
}

/** Open descriptors of this process (a refusal that leaked one would, repeated, exhaust them). */
const openFds = () => fs.readdirSync('/proc/self/fd').length;

function fifo(dir: string): string {
  const p = path.join(dir, 'pipe');
  execFileSync('mkfifo', [p]);
  return p;
}

const MiB = 1024 * 1024;

test('the caps per kind of file', () => {
  assert.deepEqual(READ_CAPS, { recipe: MiB, lock: 16 * MiB, config: 8 * MiB, tokenizer: 64 * MiB, text: 64 * MiB, image: 256 * MiB, small: 64 * 1024 });
});

test('a FIFO with no writer, a folder, a character or block device (or a link to one) is refused at once, by name, with its kind', () => {
  const dir = tempDir();
  const pipe = fifo(dir);
  fs.symlinkSync(pipe, path.join(dir, 'pipe-link'));
  fs.symlinkSync('/dev/zero', path.join(dir, 'zero-link'));
  const cases: [string, RegExp][] = [
    [pipe, /is a FIFO \(named pipe\), not a regular file/],
    [path.join(dir, 'pipe-link'), /is a FIFO \(named pipe\)/],
    [dir, /is a directory, not a regular file/],
    ['/dev/zero', /is a character device, not a regular file/],
    [path.join(dir, 'zero-link'), /is a character device/],
  ];
  if (fs.existsSync('/dev/loop0') && fs.statSync('/dev/loop0').isBlockDevice()) cases.push(['/dev/loop0', /is a block device, not a regular file/]);
  for (const [file, kind] of cases) {
    const started = Date.now();
    const e = thrown(() => readTextSafe(file, 'config', 'adapter config'));
    assert.ok(Date.now() - started < 2000, `${file}: refused at once`);
    assert.ok(isComposerError(e), file);
    assert.equal(e.code, 'io');
    assert.match(e.message, new RegExp(`^adapter config ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    assert.match(e.message, kind);
    assert.equal(e.hint, 'only regular files are read (a symlink must point to one)');
    assert.equal(e.location?.file, file);
  }
  assert.equal(thrown(() => openRegular(pipe, 'the recipe', undefined, 'recipe')).code, 'recipe', 'the caller\'s error code');
});

test('a missing file is "not found"; a file that cannot be opened says why', () => {
  const dir = tempDir();
  const missing = thrown(() => readFileSafe(path.join(dir, 'none.json'), 'lock', 'the lock'));
  assert.ok(isComposerError(missing));
  assert.equal(missing.message, `the lock not found: ${path.join(dir, 'none.json')}`);
  assert.equal(missing.location?.file, path.join(dir, 'none.json'));
  assert.equal(missing.code, 'io');
  // every entry point names the file `file` when the caller gives no name
  assert.equal(thrown(() => readTextSafe(path.join(dir, 'none'), 'small')).message, `file not found: ${path.join(dir, 'none')}`);
  assert.equal(thrown(() => assertRegularFile(path.join(dir, 'none'))).message, `file not found: ${path.join(dir, 'none')}`);
  assert.equal(thrown(() => openRegular(dir)).message, `file ${dir} is a directory, not a regular file`);
  assert.equal(thrown(() => openRegular(dir)).code, 'io');
  fs.writeFileSync(path.join(dir, 'file'), 'x');
  const under = thrown(() => readFileSafe(path.join(dir, 'file', 'below'), 'lock', 'the lock'));
  assert.match(under.message, /^cannot read the lock .*file\/below: .*ENOTDIR/);
  assert.equal(thrown(() => readFileSafe(path.join(dir, 'none'), 'lock')).message, `file not found: ${path.join(dir, 'none')}`, 'the default name');
});

test('each kind reads a file up to its cap and refuses one byte more, naming the size and the cap', () => {
  const dir = tempDir();
  for (const kind of Object.keys(READ_CAPS) as ReadKind[]) {
    const cap = READ_CAPS[kind];
    const small = path.join(dir, `${kind}.small`);
    fs.writeFileSync(small, 'k'.repeat(1024));
    assert.equal(readFileSafe(small, kind).length, 1024, kind);
    const over = path.join(dir, `${kind}.over`);
    fs.writeFileSync(over, '');
    fs.truncateSync(over, cap + 1); // sparse: refused before a byte is read
    const e = thrown(() => readFileSafe(over, kind, `the ${kind}`));
    assert.ok(isComposerError(e));
    assert.equal(e.message, `the ${kind} ${over} is ${cap + 1} bytes; at most ${cap} bytes are read for it`);
    assert.equal(e.hint, 'is this the right file?');
    assert.equal(e.code, 'io');
    assert.equal(e.location?.file, over);
  }
  const exact = path.join(dir, 'exact');
  fs.writeFileSync(exact, 'e'.repeat(READ_CAPS.small));
  assert.equal(readTextSafe(exact, 'small'), 'e'.repeat(READ_CAPS.small));
  assert.equal(assertRegularFile(exact, 'file', READ_CAPS.small), READ_CAPS.small);
  assert.match(thrown(() => assertRegularFile(exact, 'the encoder', READ_CAPS.small - 1)).message, /^the encoder .* is 65536 bytes; at most 65535/);
  assert.equal(assertRegularFile(exact), READ_CAPS.small, 'no cap');
});

test('reads are whole, UTF-8, through links to regular files; an empty file is empty', () => {
  const dir = tempDir();
  const text = 'ünïcode ✓\n'.repeat(5000);
  fs.writeFileSync(path.join(dir, 'a.txt'), text);
  fs.symlinkSync(path.join(dir, 'a.txt'), path.join(dir, 'link.txt'));
  assert.equal(readTextSafe(path.join(dir, 'link.txt'), 'text'), text);
  assert.deepEqual(readFileSafe(path.join(dir, 'a.txt'), 'text'), Buffer.from(text));
  fs.writeFileSync(path.join(dir, 'empty'), '');
  assert.equal(readTextSafe(path.join(dir, 'empty'), 'small'), '');
});

test('readAt fills the target from a position, or stops at the end of the file', () => {
  const dir = tempDir();
  const file = path.join(dir, 'bytes');
  fs.writeFileSync(file, Buffer.from(Array.from({ length: 100 }, (_, i) => i)));
  const { fd, size } = openRegular(file);
  try {
    assert.equal(size, 100);
    const middle = new Uint8Array(10);
    assert.equal(readAt(fd, middle, 40), 10);
    assert.deepEqual([...middle], Array.from({ length: 10 }, (_, i) => 40 + i));
    const tail = new Uint8Array(30);
    assert.equal(readAt(fd, tail, 90), 10, 'only what is left');
    assert.deepEqual([...tail.subarray(0, 10)], Array.from({ length: 10 }, (_, i) => 90 + i));
    assert.equal(readAt(fd, new Uint8Array(0), 0), 0);
    assert.equal(readAt(fd, new Uint8Array(4), 100), 0, 'at the end');
  } finally {
    fs.closeSync(fd);
  }
});

test('a FIFO is not a regular file: isRegularFile says no, assertRegularFile refuses it', () => {
  const dir = tempDir();
  const pipe = fifo(dir);
  assert.equal(isRegularFile(pipe), false);
  assert.match(thrown(() => assertRegularFile(pipe)).message, /FIFO/);
});

test('refusals and reads leak no file descriptor', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'big'), '');
  fs.truncateSync(path.join(dir, 'big'), READ_CAPS.small + 1);
  fs.writeFileSync(path.join(dir, 'ok'), 'ok');
  const before = openFds();
  for (let i = 0; i < 50; i++) {
    thrown(() => readFileSafe(dir, 'small'));
    thrown(() => readFileSafe(path.join(dir, 'big'), 'small'));
    readFileSafe(path.join(dir, 'ok'), 'small');
    assertRegularFile(path.join(dir, 'ok'));
  }
  assert.equal(openFds(), before);
});

test('isRegularFile: a file or a link to one, nothing else, never throws', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'f'), 'x');
  fs.symlinkSync(path.join(dir, 'f'), path.join(dir, 'l'));
  fs.symlinkSync(path.join(dir, 'none'), path.join(dir, 'dangling'));
  assert.equal(isRegularFile(path.join(dir, 'f')), true);
  assert.equal(isRegularFile(path.join(dir, 'l')), true);
  assert.equal(isRegularFile(dir), false);
  assert.equal(isRegularFile('/dev/zero'), false);
  assert.equal(isRegularFile(path.join(dir, 'dangling')), false);
  assert.equal(isRegularFile(path.join(dir, 'none')), false);
});

test('parseJsonQuiet never quotes the text: it names the line and column, or says the file is empty', () => {
  assert.deepEqual(parseJsonQuiet('{"a": [1, 2]}'), { a: [1, 2] });
  const message = (text: string) => thrown(() => parseJsonQuiet(text)).message;
  assert.equal(message('{\n"a" 1}'), 'not valid JSON (line 2, column 5)');
  assert.equal(message('[1,\n  2 3]'), 'not valid JSON (line 2, column 5)');
  assert.equal(message('{'), 'not valid JSON (line 1, column 2)');
  assert.equal(message('{"aaaaaaaaaaaa" 1}'), 'not valid JSON (line 1, column 17)', 'a position of two digits');
  assert.equal(message('{\n"a" 1,\n"b": 2\n}'), 'not valid JSON (line 2, column 5)', 'lines after the error do not count');
  assert.equal(message('root:x:0:0:root:/root:/bin/bash'), 'not valid JSON');
  assert.equal(message(''), 'not valid JSON (the file is empty)');
  assert.equal(message(' \n\t'), 'not valid JSON (the file is empty)');
  const e = thrown(() => parseJsonQuiet('secret-token-123'));
  assert.ok(!e.message.includes('secret'));
  assert.equal((e as Error & { cause?: unknown }).cause, undefined, 'no cause carrying the text');
});
