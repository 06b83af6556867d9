/**
 * Hostile inputs, fifth round: "never destroy, never escape, never hang" for what a committed library
 * steers (its own files, the adapter paths of its rows) and for an output swapped for a symbolic link
 * after compose's checks (see docs/reliability.md, "fifth round"). Real CLI on a demo workspace; every
 * attack compares the files it targets byte for byte before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addRowsUnchecked, cli, demoRound, sameSnapshot, snapshot } from './workspace';
import type { AdapterRecord } from '../../server/src/engine/types';
import { isComposerError } from '../../server/src/engine/errors';

const { tempDir, workspaceCopy } = demoRound('fifth');

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

/** A data fragment of the library's adapters table. */
function aFragment(ws: string): string {
  const data = path.join(ws, 'library', 'adapters.lance', 'data');
  return path.join(data, fs.readdirSync(data).sort()[0]);
}

test('a library data fragment that is a FIFO: library ls, check and plan end with an error naming it (they hung)', () => {
  const ws = workspaceCopy();
  const fragment = aFragment(ws);
  fs.rmSync(fragment);
  mkfifo(fragment);
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  for (const args of [['library', 'ls', 'library'], ['check', recipe], ['plan', recipe]]) {
    const r = cli(args, { cwd: ws, timeoutMs: 20_000 });
    assert.equal(r.signal, null, `${args.join(' ')} hung`);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, new RegExp(`${path.basename(fragment)} is a FIFO \\(named pipe\\), not a regular file`), args.join(' '));
  }
});

test('a library whose data folder is a symbolic link out of it: library add, rm and index write nothing there (add wrote a fragment through it)', () => {
  const ws = workspaceCopy();
  const elsewhere = tempDir('ac-fifth-elsewhere-');
  const data = path.join(ws, 'library', 'adapters.lance', 'data');
  fs.cpSync(data, elsewhere, { recursive: true });
  fs.rmSync(data, { recursive: true });
  fs.symlinkSync(elsewhere, data);
  const before = snapshot(elsewhere);
  for (const args of [
    ['library', 'add', 'library', 'adapters/code-14', '--name', 'code-14b', '--samples', 'data/code-14/*.npy'],
    ['library', 'rm', 'library', 'code-14'],
    ['library', 'index', 'library', '--force'],
  ]) {
    const r = cli(args, { cwd: ws, timeoutMs: 30_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`adapters\\.lance/data is a symbolic link out of .*library`), args.join(' '));
    assert.ok(sameSnapshot(before, snapshot(elsewhere)), `${args.join(' ')}: nothing written outside the library`);
  }
});

test('a run history whose runs table links out of the library: compose writes no run there (it did) and history reads none, each naming the link', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const first = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(first.status, 0, first.stderr);
  const runsData = path.join(ws, 'library', 'runs.lance', 'data');
  assert.ok(fs.existsSync(runsData), 'compose recorded its run in the library');
  const elsewhere = tempDir('ac-fifth-runs-');
  fs.cpSync(runsData, elsewhere, { recursive: true });
  fs.rmSync(runsData, { recursive: true });
  fs.symlinkSync(elsewhere, runsData);
  const before = snapshot(elsewhere);
  const again = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(again.status, 1, again.stderr);
  assert.match(again.stderr, /grammar-01\.compose\.yaml:\d+:\d+: .*runs\.lance\/data is a symbolic link out of/);
  assert.ok(sameSnapshot(before, snapshot(elsewhere)), 'no run written outside the library');
  const history = cli(['history', recipe], { cwd: ws });
  assert.equal(history.status, 1, history.stdout + history.stderr);
  assert.match(history.stderr, /runs\.lance\/data is a symbolic link out of/);
});

async function rowOf(lib: string, name: string): Promise<AdapterRecord> {
  const { openLibrary } = await import('../../server/src/engine/library/library');
  const library = await openLibrary(lib);
  try {
    return (await library.get(name))!;
  } finally {
    library.close();
  }
}

test('library verify (and --fix) neither reads nor re-records adapters a row places outside the workspace: each is reported by name; --read-root and --allow-outside-workspace let them be verified', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const elsewhere = tempDir('ac-fifth-adapters-');
  // another adapter outside (its weights differ from the row's: a read shows as drift), named three ways
  fs.cpSync(path.join(ws, 'adapters', 'code-14'), path.join(elsewhere, 'other'), { recursive: true });
  const twin = await rowOf(lib, 'grammar-01');
  fs.symlinkSync(path.join(elsewhere, 'other'), path.join(ws, 'adapters', 'linked'));
  await addRowsUnchecked(lib, [
    { ...twin, name: 'abs-out', path: path.join(elsewhere, 'other') },
    { ...twin, name: 'rel-out', path: path.relative(lib, path.join(elsewhere, 'other')) },
    { ...twin, name: 'link-out', path: '../adapters/linked' },
    { ...twin, name: 'piped', path: '../adapters/piped' },
  ]);
  // inside the workspace, a config that is a FIFO: read, refused, no hang
  fs.mkdirSync(path.join(ws, 'adapters', 'piped'));
  fs.copyFileSync(path.join(ws, 'adapters', 'code-14', 'adapter_model.safetensors'), path.join(ws, 'adapters', 'piped', 'adapter_model.safetensors'));
  mkfifo(path.join(ws, 'adapters', 'piped', 'adapter_config.json'));
  const rowsBefore = await Promise.all(['abs-out', 'rel-out', 'link-out'].map((n) => rowOf(lib, n)));
  for (const args of [['library', 'verify', 'library', '--json'], ['library', 'verify', 'library', '--fix', '--json']]) {
    const r = cli(args, { cwd: ws, timeoutMs: 30_000 });
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    const report = JSON.parse(r.stdout) as { adapters: { name: string; status: string; message?: string; fixed?: boolean }[] };
    const outside = report.adapters.filter((e) => e.status === 'outside');
    assert.deepEqual(outside.map((e) => e.name), ['abs-out', 'link-out', 'rel-out'], r.stdout);
    for (const e of outside) assert.match(e.message!, new RegExp(`adapter \`${e.name}\` is read from ${fs.realpathSync(elsewhere)}/other .*outside the workspace ${fs.realpathSync(ws)}`));
    assert.deepEqual(report.adapters.filter((e) => e.status !== 'outside' && e.status !== 'ok').map((e) => [e.name, e.status]), [['piped', 'unreadable']], r.stdout);
    assert.match(report.adapters.find((e) => e.name === 'piped')!.message!, /FIFO/);
  }
  const text = cli(['library', 'verify', 'library'], { cwd: ws });
  assert.match(text.stdout, /^outside +abs-out: adapter `abs-out` is read from /m);
  assert.match(text.stderr, /3 outside the workspace.*\n.*--read-root DIR.*--allow-outside-workspace/);
  // --fix re-recorded nothing from those files
  assert.deepEqual(await Promise.all(['abs-out', 'rel-out', 'link-out'].map((n) => rowOf(lib, n))), rowsBefore);
  // the user names the folder: verified (they differ from their rows: drift, read now)
  for (const extra of [['--read-root', elsewhere], ['--allow-outside-workspace']]) {
    const r = cli(['library', 'verify', 'library', '--json', ...extra], { cwd: ws });
    const report = JSON.parse(r.stdout) as { adapters: { name: string; status: string }[] };
    assert.deepEqual(report.adapters.filter((e) => e.name.endsWith('-out')).map((e) => e.status), ['changed', 'changed', 'changed'], r.stdout);
  }
});

/**
 * The output swapped for a symbolic link after compose's checks, at two moments its progress marks:
 * `writing …` (the output lock taken, before the staging folder exists: the lock can wait minutes
 * for another compose) and the first `merging modules` (the staging folder written). Either the
 * output itself becomes a link to a folder outside the workspace, or the folder above it does, to a
 * folder holding a composite of the user's of that name (compose's own files: the hazard checks let
 * compose replace it) and a note. Nothing there may change.
 */
test('an output (or the folder above it) swapped for a symbolic link out of the workspace after compose checked it: nothing outside the workspace is written, replaced or deleted', async () => {
  const { compose } = await import('../../server/src/engine/compose');
  const base = workspaceCopy();
  // the user's composite outside the workspace: another recipe's output (compose's own files, other bytes)
  const legal = path.join(base, 'recipes', 'legal-03.compose.yaml');
  await compose(legal, { workspaceRoot: base, skipEvaluate: true });
  const theirs = path.join(base, 'out', 'legal-03');
  const outcomes: string[] = [];
  for (const moment of ['writing', 'merging'] as const) {
    for (const swapped of ['output', 'parent'] as const) {
      const ws = tempDir('ac-fifth-race-');
      fs.cpSync(base, ws, { recursive: true });
      const elsewhere = tempDir('ac-fifth-victim-');
      fs.cpSync(theirs, path.join(elsewhere, 'grammar-01'), { recursive: true });
      fs.writeFileSync(path.join(elsewhere, 'note.txt'), 'the user\'s\n');
      const before = snapshot(elsewhere);
      const out = path.join(ws, 'out');
      let done = false;
      const swap = () => {
        done = true;
        if (swapped === 'output') {
          fs.rmSync(path.join(out, 'grammar-01'), { recursive: true, force: true });
          fs.symlinkSync(path.join(elsewhere, 'grammar-01'), path.join(out, 'grammar-01'));
        } else {
          fs.renameSync(out, path.join(ws, 'out-moved'));
          fs.symlinkSync(elsewhere, out);
        }
      };
      let error: unknown;
      try {
        await compose(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), {
          workspaceRoot: ws,
          skipEvaluate: true,
          onProgress: (p) => {
            if (!done && (moment === 'writing' ? p.message.startsWith('writing ') : p.message.startsWith('merging modules'))) swap();
          },
        });
      } catch (e) {
        error = e;
      }
      assert.ok(done, `${moment}/${swapped}: the moment came`);
      outcomes.push(`${moment}/${swapped}: ${error instanceof Error ? error.message : 'composed'}`);
      assert.ok(sameSnapshot(before, snapshot(elsewhere)), `${moment}/${swapped}: the folder outside the workspace is unchanged (${outcomes.at(-1)})`);
      assert.deepEqual(fs.readdirSync(elsewhere).sort(), ['grammar-01', 'note.txt'], `${moment}/${swapped}: nothing left beside it`);
      // refused with the reason (it used to compose into the folder outside, or die on an unlocated ENOENT)
      assert.ok(isComposerError(error), `${moment}/${swapped}: ${String(error)}`);
      const expected = moment === 'merging' && swapped === 'parent' ? /the output .*grammar-01 changed while compose wrote it: the folder .*out now resolves to .*; nothing was published/ : /output .*grammar-01 now resolves to .*outside the workspace .*replaced by a symbolic link after compose checked it/;
      assert.match(error.message, expected, `${moment}/${swapped}`);
    }
  }
});

test('publish without a workspace to keep to (--allow-outside-workspace): a link at the output is renamed away, never followed; what it pointed to stays', async () => {
  const { createStagingFolder, publishStagingFolder } = await import('../../server/src/engine/lora/atomicFolder');
  const ws = tempDir('ac-fifth-publish-');
  const elsewhere = tempDir('ac-fifth-publish-victim-');
  fs.writeFileSync(path.join(elsewhere, 'victim.txt'), 'the user\'s\n');
  const target = path.join(ws, 'out', 'composite');
  const staging = createStagingFolder(target, { checked: true });
  fs.writeFileSync(path.join(staging, 'composition.json'), '{}');
  fs.symlinkSync(elsewhere, target);
  const before = snapshot(elsewhere);
  publishStagingFolder(staging, target);
  assert.ok(sameSnapshot(before, snapshot(elsewhere)));
  assert.ok(fs.lstatSync(target).isDirectory(), 'the composite is a folder now, not the link');
  assert.deepEqual(fs.readdirSync(path.join(ws, 'out')), ['composite']);
});

test('library add --samples with a committed library whose encoder links out of the workspace: refused before the encoder is loaded; --read-root lets it', () => {
  const ws = workspaceCopy();
  const elsewhere = tempDir('ac-fifth-encoder-');
  const moved = path.join(elsewhere, 'encoder.onnx');
  fs.renameSync(path.join(ws, 'library', 'encoder.onnx'), moved);
  fs.symlinkSync(moved, path.join(ws, 'library', 'encoder.onnx'));
  const add = ['library', 'add', 'library', 'adapters/code-14', '--name', 'code-14b', '--samples', 'data/code-14/*.npy'];
  const refused = cli(add, { cwd: ws });
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`the library's encoder \`.*encoder\\.onnx\` resolves to ${fs.realpathSync(moved)}, outside the workspace ${fs.realpathSync(ws)}`));
  assert.match(refused.stderr, /--read-root DIR/);
  assert.equal(cli(['library', 'show', 'library', 'code-14b'], { cwd: ws }).status, 1, 'nothing added');
  const allowed = cli([...add, '--read-root', elsewhere], { cwd: ws });
  assert.equal(allowed.status, 0, allowed.stderr);
});

test('eval <library> --leave-one-out reads no adapter a row places outside the workspace, nor a library a recipe places there: refused by name; --read-root lets it', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const elsewhere = tempDir('ac-fifth-eval-');
  fs.cpSync(path.join(ws, 'adapters', 'grammar-01'), path.join(elsewhere, 'grammar-01'), { recursive: true });
  fs.rmSync(path.join(ws, 'adapters', 'grammar-01'), { recursive: true });
  fs.symlinkSync(path.join(elsewhere, 'grammar-01'), path.join(ws, 'adapters', 'grammar-01'));
  const refused = cli(['eval', 'library', '--leave-one-out', '--products', 'js'], { cwd: ws });
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`adapter \`grammar-01\` is read from ${fs.realpathSync(elsewhere)}/grammar-01 .*outside the workspace ${fs.realpathSync(ws)}`));
  assert.match(refused.stderr, /--read-root DIR/);
  const allowed = cli(['eval', 'library', '--leave-one-out', '--products', 'js', '--read-root', elsewhere], { cwd: ws });
  assert.equal(allowed.status, 0, allowed.stderr);
  // a recipe whose library lies outside the workspace (moved out, a link left)
  const movedLib = path.join(elsewhere, 'library');
  fs.renameSync(lib, movedLib);
  fs.symlinkSync(movedLib, lib);
  const recipe = path.join(ws, 'recipes', 'grammar-02.compose.yaml');
  const viaRecipe = cli(['eval', recipe, '--leave-one-out', '--products', 'js'], { cwd: ws });
  assert.equal(viaRecipe.status, 1, viaRecipe.stdout + viaRecipe.stderr);
  assert.match(viaRecipe.stderr, new RegExp(`grammar-02\\.compose\\.yaml: .*the recipe's library ${lib} resolves to ${fs.realpathSync(movedLib)}, outside the workspace`));
});

test('the lock is written through a temporary file created anew: a symbolic link planted at its name is never written through (the file it points to stays, the lock is a file)', async (t) => {
  const { readLock, writeLock } = await import('../../server/src/engine/lock');
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  const lock = readLock(lockFile)!;
  const victim = path.join(tempDir('ac-fifth-lock-victim-'), 'victim.txt');
  fs.writeFileSync(victim, 'the user\'s\n');
  t.mock.method(Date, 'now', () => 1234);
  const planted = `${lockFile}.tmp-${process.pid}-1234`;
  fs.symlinkSync(victim, planted);
  writeLock(lockFile, lock);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'the user\'s\n', 'the file the link points to is unchanged');
  assert.ok(fs.lstatSync(lockFile).isFile(), 'the lock is a regular file, not the link');
  assert.deepEqual(readLock(lockFile), lock);
  assert.ok(fs.lstatSync(planted).isSymbolicLink(), 'the planted link is not ours to remove');
});

test('the editor\'s planner, holding a library open, checks its files again when its version changes: a FIFO fragment that arrives with a new version is an error at `library:`, not a hung plan', { timeout: 60_000 }, async () => {
  const { createPlanner } = await import('../../server/src/engine/planner');
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const text = fs.readFileSync(recipe, 'utf8');
  const planner = createPlanner();
  try {
    const first = await planner.plan(text, recipe, { workspaceRoot: ws });
    assert.ok(!first.problems.some((p) => p.severity === 'error'), JSON.stringify(first.problems));
    // a pull brings a new version, and with it a fragment that is a FIFO
    const fragment = aFragment(ws);
    const added = cli(['library', 'add', 'library', 'adapters/code-14', '--name', 'code-14b', '--samples', 'data/code-14/*.npy'], { cwd: ws });
    assert.equal(added.status, 0, added.stderr);
    fs.rmSync(fragment);
    mkfifo(fragment);
    const second = await planner.plan(text, recipe, { workspaceRoot: ws });
    const error = second.problems.find((p) => p.severity === 'error');
    assert.ok(error, JSON.stringify(second.problems));
    assert.match(error.message, new RegExp(`${path.basename(fragment)} is a FIFO \\(named pipe\\), not a regular file`));
    assert.deepEqual(error.path, ['library']);
  } finally {
    await planner.dispose();
  }
});

test('a recipe\'s lock committed as a symbolic link to a JSON file outside the workspace: not read (check, plan and compose --locked quoted its "format" value, a CI log included); compose replaces the link, never writes through it', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const secret = path.join(tempDir('ac-fifth-secret-'), 'credentials.json');
  fs.writeFileSync(secret, JSON.stringify({ format: 'SECRET-token-1234', output: { path: 'SECRET-path', files: [] } }));
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  fs.symlinkSync(secret, lockFile);
  const expected = new RegExp(`the lock file ${lockFile} resolves to ${fs.realpathSync(secret)}, outside the workspace ${fs.realpathSync(ws)}; it was not read`);
  for (const args of [['check', recipe], ['plan', recipe], ['compose', recipe, '--locked', '--skip-evaluate']]) {
    const r = cli(args, { cwd: ws });
    assert.doesNotMatch(r.stdout + r.stderr, /SECRET/, args.join(' '));
    assert.match(r.stdout + r.stderr, expected, args.join(' '));
    if (args[0] === 'compose') assert.equal(r.status, 1, r.stderr);
  }
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  assert.match(fs.readFileSync(secret, 'utf8'), /SECRET-token-1234/, 'the file outside is unchanged');
  assert.ok(fs.lstatSync(lockFile).isFile(), 'the lock is a file of the workspace now');
});
