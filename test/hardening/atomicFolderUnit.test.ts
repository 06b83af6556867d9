/**
 * Never destroy, at the unit level: the atomic publish of an output folder (engine/lora/atomicFolder.ts).
 * A composite is built in a staging folder and renamed into place; the previous output is swapped out
 * and removed only after the swap; a publish killed half-way is put back by the next compose; and a
 * folder swapped for a link while compose wrote is never written through or removed. Each test makes
 * that situation on real files and asserts what is left on disk: what a user would lose if a line of
 * the publish were wrong. (merge tests publish too, but only the plain path; the CLI-level hardening
 * tests run dist/cli.js, which no mutant reaches.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStagingFolder, discardStagingFolder, publishStagingFolder, recoverInterruptedPublish, writeFailure } from '../../server/src/engine/lora/atomicFolder';
import { isComposerError } from '../../server/src/engine/errors';
import { thrown } from './thrown';

/** A pid no process has (above Linux's pid_max). */
const DEAD = 2_000_000_000;

function tempDir(prefix = 'ac-atomic-'): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** Every file under `dir` with its content (links as `-> target`), for before/after comparisons. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[`${rel}/`] = '';
        walk(p);
      } else out[rel] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function composite(folder: string, weights: string): void {
  fs.writeFileSync(path.join(folder, 'adapter_model.safetensors'), weights);
}

test('publish into a new folder: the staging folder beside it becomes the output, nothing else is left', () => {
  const ws = tempDir();
  const target = path.join(ws, 'out', 'deeper', 'c');
  const staging = createStagingFolder(target);
  assert.equal(path.dirname(staging), path.dirname(target), 'staged beside the output (a rename, not a copy)');
  assert.match(path.basename(staging), new RegExp(`^\\.c\\.tmp-${process.pid}-[0-9a-z]+$`));
  assert.ok(fs.statSync(staging).isDirectory());
  composite(staging, 'new');
  publishStagingFolder(staging, target);
  assert.deepEqual(tree(path.join(ws, 'out', 'deeper')), { 'c/': '', 'c/adapter_model.safetensors': 'new' });
});

test('publish over a previous output: the new one replaces it whole and the previous one is removed after the swap', () => {
  const ws = tempDir();
  const target = path.join(ws, 'c');
  fs.mkdirSync(target);
  composite(target, 'old');
  fs.writeFileSync(path.join(target, 'stale.json'), 'only in the old output');
  const staging = createStagingFolder(target, { checked: true });
  composite(staging, 'new');
  publishStagingFolder(staging, target);
  assert.deepEqual(tree(ws), { 'c/': '', 'c/adapter_model.safetensors': 'new' });
});

test('createStagingFolder refuses a file at the output and a folder compose did not write (unless checked); an empty folder or its own output is fine', () => {
  const ws = tempDir();
  const file = path.join(ws, 'file');
  fs.writeFileSync(file, 'the user\'s');
  const notFolder = thrown(() => createStagingFolder(file, { checked: true }));
  assert.ok(isComposerError(notFolder));
  assert.match(notFolder.message, /exists and is not a folder/);
  assert.equal(notFolder.code, 'io');
  assert.equal(notFolder.location?.file, file);
  const user = path.join(ws, 'user');
  fs.mkdirSync(user);
  fs.writeFileSync(path.join(user, 'notes.txt'), 'n');
  const refused = thrown(() => createStagingFolder(user));
  assert.ok(isComposerError(refused));
  assert.match(refused.message, /refusing to replace .*user: it exists and was not written by compose/);
  assert.match(refused.hint!, /remove it yourself/);
  assert.equal(refused.location?.file, user);
  assert.deepEqual(fs.readdirSync(ws).sort(), ['file', 'user'], 'no staging folder made for a refused output');
  assert.ok(createStagingFolder(user, { checked: true }), 'compose decided (--force) after its own checks');
  const empty = path.join(ws, 'empty');
  fs.mkdirSync(empty);
  const staging = createStagingFolder(empty);
  discardStagingFolder(staging);
  assert.equal(fs.existsSync(staging), false, 'discarded');
});

test('discard removes the staging folder only while it is the one created; one put in its place is left alone and the error says so', () => {
  const ws = tempDir();
  const target = path.join(ws, 'c');
  const first = createStagingFolder(target);
  composite(first, 'partial');
  assert.equal(discardStagingFolder(first, target), undefined);
  assert.equal(fs.existsSync(first), false);
  assert.equal(discardStagingFolder(first, target), undefined, 'a second discard (after a failed publish) is quiet');
  const second = createStagingFolder(target);
  fs.renameSync(second, `${second}-moved`);
  fs.mkdirSync(second);
  fs.writeFileSync(path.join(second, 'theirs.txt'), 'someone else\'s folder under the staging name');
  const error = discardStagingFolder(second, target);
  assert.ok(isComposerError(error));
  assert.match(error.message, new RegExp(`the output ${target} changed while compose wrote it: .* was replaced; nothing was published`));
  assert.equal(error.location?.file, target);
  assert.equal(error.code, 'io');
  assert.equal(error.hint, 'compose again once nothing else writes that folder');
  assert.equal(fs.readFileSync(path.join(second, 'theirs.txt'), 'utf8'), 'someone else\'s folder under the staging name');
  const third = createStagingFolder(target);
  fs.rmSync(third, { recursive: true });
  assert.match(discardStagingFolder(third)!.message, new RegExp(`the output ${third.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed .* is gone \\(ENOENT\\)`), 'no target: the staging folder named');
  const fourth = createStagingFolder(target);
  fs.rmSync(fourth, { recursive: true });
  fs.writeFileSync(fourth, 'a file now');
  assert.match(discardStagingFolder(fourth, target)!.message, /was replaced/);
  assert.equal(fs.readFileSync(fourth, 'utf8'), 'a file now');
});

test('the output\'s folder swapped for a link while compose wrote: nothing is published or removed through it', () => {
  const ws = tempDir();
  const elsewhere = tempDir('ac-atomic-victim-');
  const out = path.join(ws, 'out');
  const target = path.join(out, 'c');
  const staging = createStagingFolder(target, { within: ws });
  composite(staging, 'new');
  // the attacker moves out/ away and links it to a folder of the user's holding the same names
  fs.renameSync(out, path.join(ws, 'out-moved'));
  fs.mkdirSync(path.join(elsewhere, path.basename(staging)));
  fs.writeFileSync(path.join(elsewhere, path.basename(staging), 'precious'), 'p');
  fs.mkdirSync(path.join(elsewhere, 'c'));
  fs.writeFileSync(path.join(elsewhere, 'c', 'precious'), 'q');
  fs.symlinkSync(elsewhere, out);
  const before = tree(elsewhere);
  const publish = thrown(() => publishStagingFolder(staging, target));
  assert.ok(isComposerError(publish));
  assert.match(publish.message, new RegExp(`changed while compose wrote it: the folder ${out} now resolves to ${elsewhere} \\(it was ${out}\\)`));
  assert.deepEqual(tree(elsewhere), before);
  assert.ok(isComposerError(discardStagingFolder(staging, target)));
  assert.deepEqual(tree(elsewhere), before, 'discard removed nothing through the link');
});

test('within the workspace: a staging folder is never created, and nothing published, where the output resolves outside it', () => {
  const ws = tempDir();
  const elsewhere = tempDir('ac-atomic-victim-');
  fs.symlinkSync(elsewhere, path.join(ws, 'out'));
  const target = path.join(ws, 'out', 'c');
  const refused = thrown(() => createStagingFolder(target, { within: ws }));
  assert.ok(isComposerError(refused));
  assert.match(refused.message, new RegExp(`output ${target} now resolves to ${elsewhere}/c, outside the workspace ${ws}`));
  assert.match(refused.hint!, /make the output a folder of the workspace/);
  assert.equal(refused.code, 'io');
  assert.equal(refused.location?.file, target);
  assert.deepEqual(fs.readdirSync(elsewhere), [], 'nothing written there');
  // the output itself becomes a link out after the staging folder was made
  const inside = path.join(ws, 'c2');
  const staging = createStagingFolder(inside, { within: ws });
  composite(staging, 'new');
  fs.mkdirSync(path.join(elsewhere, 'victim'));
  fs.writeFileSync(path.join(elsewhere, 'victim', 'precious'), 'p');
  fs.symlinkSync(path.join(elsewhere, 'victim'), inside);
  const before = tree(elsewhere);
  assert.match(thrown(() => publishStagingFolder(staging, inside)).message, /outside the workspace/);
  assert.deepEqual(tree(elsewhere), before);
  assert.equal(fs.lstatSync(inside).isSymbolicLink(), true, 'the link is left as it was');
});

test('without a workspace to keep to, a link at the output is renamed away, never followed', () => {
  const ws = tempDir();
  const elsewhere = tempDir('ac-atomic-victim-');
  fs.writeFileSync(path.join(elsewhere, 'precious'), 'p');
  const target = path.join(ws, 'c');
  const staging = createStagingFolder(target, { checked: true });
  composite(staging, 'new');
  fs.symlinkSync(elsewhere, target);
  publishStagingFolder(staging, target);
  assert.deepEqual(tree(elsewhere), { precious: 'p' });
  assert.deepEqual(tree(ws), { 'c/': '', 'c/adapter_model.safetensors': 'new' });
  // a dangling link at the output too
  const dangling = path.join(ws, 'd');
  fs.symlinkSync(path.join(ws, 'missing'), dangling);
  const second = createStagingFolder(dangling, { checked: true });
  publishStagingFolder(second, dangling);
  assert.ok(fs.lstatSync(dangling).isDirectory());
});

test('publish of a staging folder replaced meanwhile throws and leaves the previous output', () => {
  const ws = tempDir();
  const target = path.join(ws, 'c');
  fs.mkdirSync(target);
  composite(target, 'previous');
  const staging = createStagingFolder(target, { checked: true });
  fs.renameSync(staging, `${staging}-moved`);
  fs.mkdirSync(staging);
  composite(staging, 'not ours');
  const error = thrown(() => publishStagingFolder(staging, target));
  assert.match(error.message, /was replaced; nothing was published/);
  assert.equal(fs.readFileSync(path.join(target, 'adapter_model.safetensors'), 'utf8'), 'previous');
});

test('a publish killed between its renames is put back: the newest backup of a dead process returns, the other leftovers go', () => {
  const ws = tempDir();
  const target = path.join(ws, 'c');
  const leftover = (name: string, weights: string, mtime: number) => {
    fs.mkdirSync(path.join(ws, name));
    composite(path.join(ws, name), weights);
    fs.utimesSync(path.join(ws, name), mtime, mtime);
  };
  leftover(`.c.old-${DEAD}-aaa`, 'older', 1_000_000);
  leftover(`.c.old-${DEAD}-bbb`, 'newest', 3_000_000);
  leftover(`.c.old-${DEAD}-ccc`, 'middle', 2_000_000);
  leftover(`.c.tmp-${DEAD}-ddd`, 'half-written', 4_000_000);
  // never touched: a live process's staging, another output's leftovers, the user's folders
  leftover(`.c.tmp-${process.pid}-eee`, 'being written', 1);
  leftover(`.c.x.old-${DEAD}-fff`, 'output c.x', 1);
  leftover(`.c.old-notes`, 'user', 1);
  leftover(`.c.old-${DEAD}-ggg.keep`, 'user', 1);
  leftover(`.c.old-${DEAD}-HHH`, 'user', 1);
  leftover(`.c.bak-${DEAD}-iii`, 'user', 1);
  recoverInterruptedPublish(target);
  assert.equal(fs.readFileSync(path.join(target, 'adapter_model.safetensors'), 'utf8'), 'newest');
  assert.deepEqual(fs.readdirSync(ws).sort(), ['.c.bak-2000000000-iii', `.c.old-${DEAD}-HHH`, `.c.old-${DEAD}-ggg.keep`, '.c.old-notes', `.c.tmp-${process.pid}-eee`, `.c.x.old-${DEAD}-fff`, 'c'].sort());
});

test('recovery with the output in place removes the dead backups without restoring them; a name with regular-expression characters matches only itself', () => {
  const ws = tempDir();
  const target = path.join(ws, 'a.b');
  fs.mkdirSync(target);
  composite(target, 'current');
  fs.mkdirSync(path.join(ws, `.a.b.old-${DEAD}-x1`));
  fs.mkdirSync(path.join(ws, `.aXb.old-${DEAD}-x2`), { recursive: true });
  fs.mkdirSync(path.join(ws, `.a.b.tmp-${DEAD}-x3`));
  recoverInterruptedPublish(target);
  assert.equal(fs.readFileSync(path.join(target, 'adapter_model.safetensors'), 'utf8'), 'current');
  assert.deepEqual(fs.readdirSync(ws).sort(), [`.aXb.old-${DEAD}-x2`, 'a.b']);
  assert.doesNotThrow(() => recoverInterruptedPublish(path.join(ws, 'missing-parent', 'c')), 'no parent folder: nothing to recover');
  // createStagingFolder recovers first: the backup is the output it then checks
  fs.rmSync(target, { recursive: true });
  fs.mkdirSync(path.join(ws, `.a.b.old-${DEAD}-y1`));
  fs.writeFileSync(path.join(ws, `.a.b.old-${DEAD}-y1`, 'notes.txt'), 'n');
  assert.match(thrown(() => createStagingFolder(target)).message, /refusing to replace/);
  assert.equal(fs.readFileSync(path.join(target, 'notes.txt'), 'utf8'), 'n');
});

test('a failed write is said with its cause and nothing replaced; other errors pass through unchanged', () => {
  const target = '/somewhere/out';
  const failure = (code: string) => writeFailure(Object.assign(new Error(code), { code }), target) as Error & { hint?: string; location?: { file: string } };
  for (const [code, words] of [['ENOSPC', 'no space left on the device'], ['EDQUOT', 'the disk quota is exhausted'], ['EFBIG', 'file-size limit']] as const) {
    const e = failure(code);
    assert.ok(isComposerError(e));
    assert.match(e.message, new RegExp(`cannot write ${target}: .*${words.replace(/[()]/g, '\\$&')}.* \\(${code}\\); nothing was replaced`));
    assert.match(e.hint!, /free some space/);
    assert.equal(e.location?.file, target);
    assert.equal(e.code, 'io');
  }
  for (const [code, words] of [['EROFS', 'read-only'], ['EACCES', 'permission denied'], ['EPERM', 'not permitted'], ['EIO', 'I/O error']] as const) {
    const e = failure(code);
    assert.match(e.message, new RegExp(words));
    assert.equal(e.hint, undefined, code);
  }
  const other = Object.assign(new Error('x'), { code: 'EBUSY' });
  assert.equal(writeFailure(other, target), other);
  const plain = new Error('no code');
  assert.equal(writeFailure(plain, target), plain);
  assert.equal(writeFailure(undefined, target), undefined);
});
