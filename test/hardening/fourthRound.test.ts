/**
 * Hostile inputs, fourth round: a hostile lock or committed file claiming a user's folder as
 * compose's output, and the other commands' paths (see docs/reliability.md, "fourth round"). Real
 * CLI on a demo workspace; every attack compares the files it targets byte for byte before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addRowsUnchecked, cli, demoRound, sameSnapshot, snapshot } from './workspace';

const { workspaceCopy } = demoRound('fourth');

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A folder of the user's: a committed README (whose hash anyone can know) and an ignored checkpoint. */
function usersFolder(ws: string): string {
  const models = path.join(ws, 'models');
  fs.mkdirSync(models);
  fs.writeFileSync(path.join(models, 'README.md'), '# models\n');
  fs.writeFileSync(path.join(models, 'checkpoint.bin'), 'weeks of training\n');
  return models;
}

function pointOutputAt(ws: string, output: string): string {
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace(/^output: .*$/m, `output: ${output}`));
  return recipe;
}

test('a lock that records a folder of the user\'s as its output, with the hash of one file in it, does not make compose replace it', () => {
  const ws = workspaceCopy();
  const models = usersFolder(ws);
  const recipe = pointOutputAt(ws, '../models');
  // the lock of a pull request: format and fields do not even need to be valid
  fs.writeFileSync(recipe.replace(/\.yaml$/, '.lock'), JSON.stringify({ format: 1, output: { path: '../models', files: [{ path: 'README.md', sha256: sha256(path.join(models, 'README.md')) }] } }));
  const before = snapshot(models);
  const checked = cli(['check', recipe], { cwd: ws });
  assert.equal(checked.status, 1, checked.stdout + checked.stderr);
  assert.match(checked.stdout + checked.stderr, /grammar-01\.compose\.yaml:\d+:\d+: error: output .*models is a non-empty folder that compose did not write/);
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 1, composed.stderr);
  assert.match(composed.stderr, /non-empty folder that compose did not write.*--force/s);
  assert.ok(sameSnapshot(before, snapshot(models)), 'the user\'s folder is unchanged');
});

test('a composition.json of adapter-composer committed into a folder of the user\'s does not make compose replace what else it holds', () => {
  const ws = workspaceCopy();
  const models = usersFolder(ws);
  fs.writeFileSync(path.join(models, 'composition.json'), JSON.stringify({ tool: 'adapter-composer' }));
  const recipe = pointOutputAt(ws, '../models');
  const before = snapshot(models);
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 1, composed.stderr);
  assert.match(composed.stderr, /non-empty folder that compose did not write/);
  assert.ok(sameSnapshot(before, snapshot(models)), 'the user\'s folder is unchanged');
});

test('a composition.json committed beside a user\'s adapter (its weights git-ignored) does not make compose replace it: the marker must list every file with its hash', () => {
  const ws = workspaceCopy();
  // a user's adapter: the config committed, the weights ignored (only compose-named files)
  const mine = path.join(ws, 'my-lora');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'adapter_config.json'), '{"r": 8}\n');
  fs.writeFileSync(path.join(mine, 'adapter_model.safetensors'), 'weeks of training, git-ignored\n');
  const recipe = pointOutputAt(ws, '../my-lora');
  const attempts = [
    { tool: 'adapter-composer' }, // the marker of an older composite: no files listed
    { tool: 'adapter-composer', files: [{ path: 'adapter_config.json', sha256: sha256(path.join(mine, 'adapter_config.json')) }] }, // the weights not listed
    { tool: 'adapter-composer', files: ['adapter_config.json', 'adapter_model.safetensors'].map((f) => ({ path: f, sha256: f === 'adapter_config.json' ? sha256(path.join(mine, f)) : '0'.repeat(64) })) }, // a guessed hash
  ];
  for (const marker of attempts) {
    fs.writeFileSync(path.join(mine, 'composition.json'), JSON.stringify(marker));
    const before = snapshot(mine);
    const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
    assert.equal(composed.status, 1, `${JSON.stringify(marker)}: ${composed.stderr}`);
    assert.match(composed.stderr, /non-empty folder that compose did not write/);
    assert.ok(sameSnapshot(before, snapshot(mine)), 'the user\'s adapter is unchanged');
  }
  // compose's own output, its lock removed: its composition.json alone (every file, every hash) still claims it
  const own = pointOutputAt(ws, '../out/own');
  assert.equal(cli(['compose', own, '--skip-evaluate'], { cwd: ws }).status, 0);
  fs.rmSync(own.replace(/\.yaml$/, '.lock'));
  const again = cli(['compose', own, '--skip-evaluate'], { cwd: ws });
  assert.equal(again.status, 0, again.stderr);
  // one byte of its weights changed: not what compose wrote any more
  const weights = path.join(ws, 'out', 'own', 'adapter_model.safetensors');
  fs.rmSync(own.replace(/\.yaml$/, '.lock'));
  fs.appendFileSync(weights, Buffer.from([0]));
  const changed = cli(['compose', own, '--skip-evaluate'], { cwd: ws });
  assert.equal(changed.status, 1, changed.stderr);
  assert.match(changed.stderr, /non-empty folder that compose did not write/);
});

test('compose\'s own output, with only the files compose wrote, is still replaced freely (also through its lock alone)', () => {
  const ws = workspaceCopy();
  const recipe = pointOutputAt(ws, '../out/mine');
  const first = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(first.status, 0, first.stderr);
  const again = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(again.status, 0, again.stderr);
  // the marker gone, the lock's recorded files still match: owned by the lock
  const out = path.join(ws, 'out', 'mine');
  const lock = JSON.parse(fs.readFileSync(recipe.replace(/\.yaml$/, '.lock'), 'utf8')) as { output: { files: { path: string }[] } };
  fs.rmSync(path.join(out, 'composition.json'));
  lock.output.files = lock.output.files.filter((f) => f.path !== 'composition.json');
  fs.writeFileSync(recipe.replace(/\.yaml$/, '.lock'), JSON.stringify(lock));
  const third = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(third.status, 0, third.stderr);
  // a note of the user's inside it: no longer compose's alone, refused without --force
  fs.writeFileSync(path.join(out, 'NOTES.md'), 'mine\n');
  const before = snapshot(out);
  const refused = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(refused.status, 1, refused.stderr);
  assert.ok(sameSnapshot(before, snapshot(out)));
  const forced = cli(['compose', recipe, '--skip-evaluate', '--force'], { cwd: ws });
  assert.equal(forced.status, 0, forced.stderr);
});

test('a base with a line break: refused at add; a row another tool wrote cannot inject keys into the recipe `new` writes', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const hostile = 'zzz\nevaluate:\n  command: [touch, /tmp/pwned]\n#';
  const added = cli(['library', 'add', lib, 'adapters/code-14', '--name', 'evil', '--base', hostile, '--override-base', '--samples', 'data/code-14/*.npy'], { cwd: ws });
  assert.equal(added.status, 1, added.stdout + added.stderr);
  assert.match(added.stderr, /base .*control character U\+000A/);
  for (const tags of ['a\nb', 'esc\u001b[2J']) {
    const tagged = cli(['library', 'add', lib, 'adapters/code-14', '--name', 'evil', '--tags', tags, '--samples', 'data/code-14/*.npy'], { cwd: ws });
    assert.equal(tagged.status, 1, tagged.stdout + tagged.stderr);
    assert.match(tagged.stderr, /tag .*control character U\+00(0A|1B)/);
  }
  // rows written straight through LanceDB (no validation): two of another base, so that `new`
  // chooses the demo's base and lists the hostile one in its comment; one more as the chosen base
  const { openLibrary } = await import('../../server/src/engine/library/library');
  const library = await openLibrary(lib);
  const twin = (await library.get('code-14'))!;
  library.close();
  await addRowsUnchecked(lib, [{ ...twin, name: 'evil-1', base: hostile }]);
  const made = cli(['new', 'recipes/fresh', '--library', 'library', '--target', 'data/code-14/*.npy'], { cwd: ws });
  assert.equal(made.status, 0, made.stderr);
  const written = path.join(ws, 'recipes', 'fresh.compose.yaml');
  const text = fs.readFileSync(written, 'utf8');
  assert.doesNotMatch(text, /^evaluate:/m, text);
  const checked = cli(['check', written], { cwd: ws });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  // the recipe parses to the keys `new` writes, and nothing else
  const { parse } = await import('yaml');
  assert.deepEqual(Object.keys(parse(text) as object).sort(), ['base', 'compose', 'library', 'merge', 'name', 'output', 'retrieve', 'target', 'weights']);
});

test('a committed library\'s encoder.json that names a tokenizer outside the workspace, or an encoder linked out of it: check and compose refuse at `library:`, the file is never opened', async () => {
  const ws = workspaceCopy();
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-fourth-elsewhere-'));
  // a FIFO: opening it (even to hash it) would hang; the refusal must come before
  const secret = path.join(elsewhere, 'tokenizer.json');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [secret]);
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const line = fs.readFileSync(recipe, 'utf8').split('\n').findIndex((l) => l.startsWith('library:')) + 1;
  for (const tokenizer of [secret, path.relative(path.join(ws, 'library'), secret)]) {
    fs.writeFileSync(path.join(ws, 'library', 'encoder.json'), JSON.stringify({ kind: 'text', text: { tokenizer, max_length: 8 } }));
    const checked = cli(['check', recipe], { cwd: ws, timeoutMs: 20_000 });
    assert.equal(checked.status, 1, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`grammar-01\\.compose\\.yaml:${line}:\\d+: error: .*tokenizer .*${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*outside the workspace`));
    const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws, timeoutMs: 20_000 });
    assert.equal(composed.status, 1, composed.stderr);
    assert.match(composed.stderr, /outside the workspace.*--allow-outside-workspace/s);
  }
  // the encoder itself linked out of the workspace (the encoder.json gone)
  fs.rmSync(path.join(ws, 'library', 'encoder.json'));
  const moved = path.join(elsewhere, 'encoder.onnx');
  fs.renameSync(path.join(ws, 'library', 'encoder.onnx'), moved);
  fs.symlinkSync(moved, path.join(ws, 'library', 'encoder.onnx'));
  const checked = cli(['check', recipe], { cwd: ws, timeoutMs: 20_000 });
  assert.equal(checked.status, 1, checked.stdout + checked.stderr);
  assert.match(checked.stdout, new RegExp(`:${line}:\\d+: error: .*encoder .*resolves to ${moved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*outside the workspace`));
  // allowed: composes with the encoder where it is
  const allowed = cli(['compose', recipe, '--skip-evaluate', '--allow-outside-workspace'], { cwd: ws });
  assert.equal(allowed.status, 0, allowed.stderr);
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

test('an output under a file, a dangling symlink or a name the file system cannot hold: check reports it at `output:` as compose refuses it (no internal error), nothing changes', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const line = fs.readFileSync(recipe, 'utf8').split('\n').findIndex((l) => l.startsWith('output:')) + 1;
  fs.symlinkSync(path.join(ws, 'nowhere', 'composite'), path.join(ws, 'dangling'));
  const cases: [string, RegExp][] = [
    ['../README.md/composite', /output .*README\.md\/composite lies under .*README\.md, which is not a folder/],
    ['../dangling', /output .*dangling is a symbolic link to .*nowhere\/composite, which does not exist/],
    [`../${'a'.repeat(300)}`, /output .*a{8}.* folder name is 300 bytes long/],
  ];
  const readme = fs.readFileSync(path.join(ws, 'README.md'));
  for (const [output, message] of cases) {
    pointOutputAt(ws, output);
    // (the workspace's folders: a snapshot of its root would follow the dangling link)
    const state = () => ['recipes', 'library', 'adapters'].map((d) => snapshot(path.join(ws, d)));
    const before = state();
    const checked = cli(['check', recipe], { cwd: ws });
    assert.equal(checked.status, 1, `${output}: ${checked.stdout}${checked.stderr}`);
    assert.match(checked.stdout, new RegExp(`grammar-01\\.compose\\.yaml:${line}:\\d+: error: ${message.source}`), output);
    const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
    assert.equal(composed.status, 1, composed.stderr);
    assert.doesNotMatch(composed.stderr, /internal error/);
    assert.match(composed.stderr, new RegExp(`grammar-01\\.compose\\.yaml:${line}:\\d+: ${message.source}`), output);
    state().forEach((after, i) => assert.ok(sameSnapshot(before[i], after), `${output}: the workspace is unchanged`));
    assert.deepEqual(fs.readdirSync(ws).filter((e) => e.startsWith('.') && e !== '.adapter-composer-demo'), [], 'no staging folder or lock left');
  }
  assert.deepEqual(fs.readFileSync(path.join(ws, 'README.md')), readme);
  assert.equal(fs.readlinkSync(path.join(ws, 'dangling')), path.join(ws, 'nowhere', 'composite'));
});

test('a lock that lists a candidate (or an output file) twice is damaged: diff and lock show say so instead of "no changes" with the second entry hiding the first', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  const honest = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { candidates: { name: string; sha256: string; path: string }[]; output: { files: { path: string; sha256: string }[] } };
  // the pull request's lock: the first entry is what it merges (other bytes, another folder); the
  // second, with the same name, repeats the reviewed one
  const forged = structuredClone(honest);
  forged.candidates.unshift({ ...honest.candidates[0], sha256: 'f'.repeat(64), path: '../elsewhere/adapter' });
  const forgedFile = path.join(ws, 'forged.compose.lock');
  fs.writeFileSync(forgedFile, JSON.stringify(forged, null, 2));
  const diffed = cli(['diff', lockFile, forgedFile], { cwd: ws });
  assert.equal(diffed.status, 1, diffed.stdout + diffed.stderr);
  assert.doesNotMatch(diffed.stdout, /no changes/i);
  assert.match(diffed.stderr, new RegExp(`"candidates" lists "${honest.candidates[0].name}" twice`));
  // lock show (git's textconv) shows a lock it cannot read as it is: both entries, and why
  const shown = cli(['lock', 'show', forgedFile], { cwd: ws });
  assert.match(shown.stdout, new RegExp(`not a readable lock .*"candidates" lists "${honest.candidates[0].name}" twice`));
  assert.ok(shown.stdout.includes('f'.repeat(64)) && shown.stdout.includes(honest.candidates[0].sha256), shown.stdout);
  const twiceFiles = structuredClone(honest);
  twiceFiles.output.files.push({ ...honest.output.files[0], sha256: '0'.repeat(64) });
  fs.writeFileSync(forgedFile, JSON.stringify(twiceFiles, null, 2));
  const files = cli(['diff', lockFile, forgedFile, '--format', 'markdown'], { cwd: ws });
  assert.equal(files.status, 1, files.stdout + files.stderr);
  assert.match(files.stderr, new RegExp(`"output\\.files" lists "${honest.output.files[0].path}" twice`));
});

test('a row whose details are not a JSON object or are nested 200,000 deep: refused at add; rows another tool wrote neither crash `library show` nor surface as a TypeError in check', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const { openLibrary } = await import('../../server/src/engine/library/library');
  const library = await openLibrary(lib);
  const twin = (await library.get('code-14'))!;
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  for (const details of ['null', '5', '"text"', deep]) {
    await assert.rejects(library.add({ ...twin, name: 'odd', details }), (e: unknown) => e instanceof Error && /'details' must be a JSON object/.test(e.message), details.slice(0, 10));
  }
  library.close();
  await addRowsUnchecked(lib, [{ ...twin, name: 'deep', details: deep }, { ...twin, name: 'nothing', details: 'null' }]);
  const shown = cli(['library', 'show', lib, 'deep'], { cwd: ws });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^details +\(not a JSON object nested at most 32 levels deep; not shown\)$/m);
  const json = cli(['library', 'show', lib, 'deep', '--json'], { cwd: ws });
  assert.equal(json.status, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { details: unknown }).details, null);
  // a plan over both: the rows are read as rows without details, like the twin they copy
  const recipe = path.join(ws, 'recipes', 'medical-08.compose.yaml');
  fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace(/^retrieve:\n( {2}.*\n)*/m, 'retrieve:\n  adapters: [deep, nothing, code-14]\n'));
  const checked = cli(['check', recipe], { cwd: ws });
  assert.doesNotMatch(checked.stdout + checked.stderr, /Cannot read properties|internal error/);
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
});

test('names with bidi overrides or zero-width characters (a lookalike of grammar-01, a Trojan-source reordering): refused at add; rows another tool wrote are shown escaped by ls, lock show and diff', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const { openLibrary } = await import('../../server/src/engine/library/library');
  const library = await openLibrary(lib);
  const twin = (await library.get('grammar-01'))!;
  const lookalike = 'grammar-01\u200b';
  const reordered = 'legal\u202e10-lagel';
  for (const name of [lookalike, reordered, 'a\u2066b', '\ufeffgrammar-01']) {
    await assert.rejects(library.add({ ...twin, name }), (e: unknown) => e instanceof Error && /invisible or reordering character U\+/.test(e.message), JSON.stringify(name));
  }
  await assert.rejects(library.add({ ...twin, name: 'fine', base: 'demo/tiny\u202etransformer' }), (e: unknown) => e instanceof Error && /base .*U\+202E/.test(e.message));
  library.close();
  await addRowsUnchecked(lib, [{ ...twin, name: lookalike }, { ...twin, name: reordered }]);
  const invisible = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
  const listed = cli(['library', 'ls', lib], { cwd: ws });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /^grammar-01\\u200b /m);
  assert.match(listed.stdout, /^legal\\u202e10-lagel /m);
  assert.doesNotMatch(listed.stdout, invisible);
  // the lock of a compose that retrieved them (twins of grammar-01): lock show and diff (text and
  // Markdown) print the escapes
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace(/^ {2}k: \d+$/m, '  k: 14'));
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { candidates: { name: string }[]; weights: Record<string, number> };
  assert.ok(lock.candidates.some((c) => c.name === lookalike) && lock.candidates.some((c) => c.name === reordered), JSON.stringify(lock.candidates));
  const shown = cli(['lock', 'show', lockFile], { cwd: ws });
  assert.equal(shown.status, 0, shown.stderr);
  assert.doesNotMatch(shown.stdout, invisible);
  assert.match(shown.stdout, /grammar-01\\u200b/);
  const changed = structuredClone(lock);
  changed.weights[lookalike] = (changed.weights[lookalike] ?? 0) + 0.25;
  const changedFile = path.join(ws, 'changed.compose.lock');
  fs.writeFileSync(changedFile, JSON.stringify(changed, null, 2));
  for (const format of ['text', 'markdown']) {
    const diffed = cli(['diff', lockFile, changedFile, '--format', format], { cwd: ws });
    assert.doesNotMatch(diffed.stdout, invisible, format);
    assert.match(diffed.stdout, /grammar-01\\\\?u200b/, format);
  }
  // a lock lock show cannot read (git's textconv prints it as it is): its lines are escaped too — raw,
  // an ESC ] 52 sequence in a pull request's lock wrote the reviewer's clipboard through `git log -p`
  const raw = path.join(ws, 'raw.compose.lock');
  fs.writeFileSync(raw, `<<<<<<< HEAD\n{"name": "x\u001b]52;c;cm0gLXJmIH4=\u0007 ${reordered}"}\n>>>>>>> theirs\n`);
  const rawShown = cli(['lock', 'show', raw], { cwd: ws });
  assert.equal(rawShown.status, 0, rawShown.stderr);
  assert.match(rawShown.stdout, /^# not a readable lock/);
  assert.match(rawShown.stdout, /^<<<<<<< HEAD$/m);
  assert.match(rawShown.stdout, /\\u001b\]52;c;cm0gLXJmIH4=\\u0007/);
  // eslint-disable-next-line no-control-regex -- asserting that no control character reaches the terminal
  assert.doesNotMatch(rawShown.stdout, /[\u0000-\u0008\u000b-\u001f]/);
  assert.doesNotMatch(rawShown.stdout, invisible);
});

test('a recipe (or library ls) naming a folder that is not a library writes nothing into it: check said "no library" after creating a LanceDB __manifest there — in an input adapter, the workspace root, on every keystroke in the editor', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const text = fs.readFileSync(recipe, 'utf8');
  const folders = ['adapters/grammar-05', '.', 'data'];
  const before = folders.map((f) => fs.readdirSync(path.join(ws, f)).sort());
  for (const folder of folders) {
    fs.writeFileSync(recipe, text.replace(/^library: .*$/m, `library: ../${folder}`));
    const checked = cli(['check', recipe], { cwd: ws });
    assert.equal(checked.status, 1, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /error: no library at /);
    const listed = cli(['library', 'ls', folder], { cwd: ws });
    assert.equal(listed.status, 1, listed.stdout + listed.stderr);
    assert.match(listed.stderr, /no library at /);
  }
  assert.deepEqual(folders.map((f) => fs.readdirSync(path.join(ws, f)).sort()), before);
  assert.equal(fs.existsSync(path.join(ws, '__manifest')), false);
});

test('an output at the path of the recipe\'s own lock file: check reports it where compose refuses it (it wrote the composite there, then died on an internal EISDIR writing the lock)', () => {
  const ws = workspaceCopy();
  const recipe = pointOutputAt(ws, './grammar-01.compose.lock');
  const line = fs.readFileSync(recipe, 'utf8').split('\n').findIndex((l) => l.startsWith('output:')) + 1;
  const checked = cli(['check', recipe], { cwd: ws });
  assert.equal(checked.status, 1, checked.stdout + checked.stderr);
  assert.match(checked.stdout, new RegExp(`grammar-01\\.compose\\.yaml:${line}:\\d+: error: output .*grammar-01\\.compose\\.lock is the recipe's lock file`));
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 1, composed.stderr);
  assert.doesNotMatch(composed.stderr, /internal error/);
  assert.equal(fs.existsSync(recipe.replace(/\.yaml$/, '.lock')), false, 'nothing written at the lock\'s path');
});

test('compose --force never replaces the folder of the recipe\'s own target samples (or a features file\'s folder): an input, protected like an adapter', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'medical-08.compose.yaml');
  const text = fs.readFileSync(recipe, 'utf8');
  const line = text.split('\n').findIndex((l) => l.startsWith('output:')) + 1;
  const samples = path.join(ws, 'data', 'medical-08');
  const before = snapshot(samples);
  for (const output of ['../data/medical-08', '../data']) {
    fs.writeFileSync(recipe, text.replace(/^output: .*$/m, `output: ${output}`));
    const checked = cli(['check', recipe], { cwd: ws });
    assert.equal(checked.status, 1, checked.stdout);
    assert.match(checked.stdout, new RegExp(`medical-08\\.compose\\.yaml:${line}:\\d+: error: output .* overlaps the target's samples \\(${samples.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`), output);
    const forced = cli(['compose', recipe, '--force', '--skip-evaluate'], { cwd: ws });
    assert.equal(forced.status, 1, forced.stderr);
    assert.match(forced.stderr, /overlaps the target's samples/);
    assert.ok(sameSnapshot(before, snapshot(samples)), `${output}: the samples are unchanged`);
  }
  // a folder of its own inside the samples' folder replaces none of them: allowed
  fs.writeFileSync(recipe, text.replace(/^output: .*$/m, 'output: ../data/medical-08/composite'));
  const inside = cli(['check', recipe], { cwd: ws });
  assert.doesNotMatch(inside.stdout, /overlaps the target/);
  // a features file: its folder is protected the same way
  const features = path.join(ws, 'features');
  fs.mkdirSync(features);
  // one 16-d row (the demo encoder's dimension) as an .npy v1 file
  const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 16), }";
  const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt16LE(padded.length, 8);
  fs.writeFileSync(path.join(features, 'target.npy'), Buffer.concat([prefix, Buffer.from(padded, 'latin1'), Buffer.from(Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1)).buffer)]));
  fs.writeFileSync(recipe, text.replace(/^target:\n( {2}.*\n)+/m, 'target:\n  features: ../features/target.npy\n').replace(/^output: .*$/m, 'output: ../features'));
  const forced = cli(['compose', recipe, '--force', '--skip-evaluate'], { cwd: ws });
  assert.equal(forced.status, 1, forced.stderr);
  assert.match(forced.stderr, /overlaps the target's features file/);
  assert.ok(fs.existsSync(path.join(features, 'target.npy')));
});

test('compose --force never replaces the built-in evaluator\'s model folder (or a folder holding its data or labels)', () => {
  const ws = workspaceCopy();
  const model = path.join(ws, 'model');
  fs.mkdirSync(model);
  fs.writeFileSync(path.join(model, 'model.onnx'), 'a trained classifier\n');
  fs.writeFileSync(path.join(model, 'config.json'), '{}\n');
  const recipe = path.join(ws, 'recipes', 'medical-08.compose.yaml');
  const text = `${fs.readFileSync(recipe, 'utf8')}evaluate:\n  builtin: classification\n  model: ../model\n  data: ../model/x.npy\n  labels: ../model/y.npy\n`;
  const before = snapshot(model);
  for (const output of ['../model', '.']) {
    fs.writeFileSync(recipe, text.replace(/^output: .*$/m, `output: ${output === '.' ? '../model/..' : output}`));
    const forced = cli(['compose', recipe, '--force', '--skip-evaluate'], { cwd: ws });
    assert.equal(forced.status, 1, forced.stderr);
    assert.ok(sameSnapshot(before, snapshot(model)), `${output}: the model is unchanged`);
  }
  fs.writeFileSync(recipe, text.replace(/^output: .*$/m, 'output: ../model'));
  const checked = cli(['check', recipe], { cwd: ws });
  assert.match(checked.stdout, /error: output .*model overlaps the evaluator's model \(/);
});

test('a file of the user\'s named <output>.composing that is too large to be a lock, or a folder of that name, is refused, never removed', () => {
  const ws = workspaceCopy();
  const recipe = pointOutputAt(ws, '../out/mine');
  fs.mkdirSync(path.join(ws, 'out'), { recursive: true });
  const big = path.join(ws, 'out', 'mine.composing');
  const bytes = Buffer.alloc(100_000, 7); // over the 64 KB a lock read allows: it read as "empty" and was removed
  fs.writeFileSync(big, bytes);
  const first = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(first.status, 1, first.stderr);
  assert.match(first.stderr, /mine\.composing exists and is not a compose lock file/);
  assert.deepEqual(fs.readFileSync(big), bytes);
  fs.rmSync(big);
  fs.mkdirSync(big);
  fs.writeFileSync(path.join(big, 'notes'), 'mine\n');
  const second = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(second.status, 1, second.stderr);
  assert.doesNotMatch(second.stderr, /internal error/);
  assert.match(second.stderr, /mine\.composing exists and is not a compose lock file/);
  assert.equal(fs.readFileSync(path.join(big, 'notes'), 'utf8'), 'mine\n');
});

test('a run history row a pull request committed with the library (ESC ]52, a forged ::error:: line, a cursor move) is printed by `history` on its own lines with visible escapes', async () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'medical-08.compose.yaml');
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  const lancedb = await import('@lancedb/lancedb');
  const db = await lancedb.connect(path.join(ws, 'library'));
  const table = await db.openTable('runs');
  const [row] = (await table.query().limit(1).toArray()) as Record<string, unknown>[];
  await table.add([{
    ...row,
    id: 'forged',
    strategy: 'sparse\u001b]52;c;cm0gLXJmIH4=\u0007\n::error::forged\u202e',
    metrics: JSON.stringify({ 'acc\u001b[2J': 1 }),
    weights: JSON.stringify({ 'grammar-01\u001b[31m': 0.5 }),
  }]);
  table.close();
  db.close();
  const shown = cli(['history', recipe], { cwd: ws });
  assert.equal(shown.status, 0, shown.stderr);
  // eslint-disable-next-line no-control-regex -- asserting that no control character reaches the terminal
  assert.doesNotMatch(shown.stdout, /[\u0000-\u0008\u000b-\u001f\u202e]/);
  assert.doesNotMatch(shown.stdout, /^::error::/m);
  assert.match(shown.stdout, /sparse\\u001b\]52;c;cm0gLXJmIH4=\\u0007\\n::error::forged/);
  assert.match(shown.stdout, /grammar-01\\u001b\[31m 0\.5/);
  assert.equal(shown.stdout.trimEnd().split('\n').length, 4, 'two runs, two lines each');
});

test('an adapter row another tool wrote with ESC, a line break and ::error:: in its name or description: plan, compose (the CI log of compose --locked) and library show print it escaped, on its own line', async () => {
  const ws = workspaceCopy();
  const lib = path.join(ws, 'library');
  const { openLibrary } = await import('../../server/src/engine/library/library');
  const library = await openLibrary(lib);
  const twin = (await library.get('code-14'))!;
  library.close();
  const name = 'evil\u001b[2J\n::error::forged';
  await addRowsUnchecked(lib, [{ ...twin, name, description: 'd\u001b]52;c;AAAA\u0007\nline' }]);
  const recipe = path.join(ws, 'recipes', 'medical-08.compose.yaml');
  fs.writeFileSync(recipe, fs.readFileSync(recipe, 'utf8').replace(/^ {2}k: \d+$/m, '  k: 15'));
  // eslint-disable-next-line no-control-regex -- asserting that no control character reaches the terminal
  const control = /[\u0000-\u0008\u000b-\u001f]/;
  for (const args of [['plan', recipe], ['compose', recipe, '--strategy', 'avg', '--skip-evaluate'], ['library', 'show', lib, name]]) {
    const r = cli(args, { cwd: ws });
    assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, control, args[0]);
    assert.doesNotMatch(r.stdout, /^::error::/m, args[0]);
    assert.match(r.stdout, /evil\\(u001b|x1b)\[2J\\n::error::forged/, args[0]);
  }
});

test('a lock naming a folder that holds a user\'s own adapter (its committed config\'s hash listed, the ignored weights not) does not make compose replace it', () => {
  const ws = workspaceCopy();
  const mine = path.join(ws, 'trained', 'lora-v3');
  fs.mkdirSync(mine, { recursive: true });
  fs.copyFileSync(path.join(ws, 'adapters', 'grammar-05', 'adapter_config.json'), path.join(mine, 'adapter_config.json'));
  fs.writeFileSync(path.join(mine, 'adapter_model.safetensors'), 'weeks of training (not in git)\n');
  const recipe = pointOutputAt(ws, '../trained/lora-v3');
  fs.writeFileSync(recipe.replace(/\.yaml$/, '.lock'), JSON.stringify({ output: { path: '../trained/lora-v3', files: [{ path: 'adapter_config.json', sha256: sha256(path.join(mine, 'adapter_config.json')) }] } }));
  const before = snapshot(mine);
  const composed = cli(['compose', recipe, '--skip-evaluate'], { cwd: ws });
  assert.equal(composed.status, 1, composed.stderr);
  assert.match(composed.stderr, /non-empty folder that compose did not write/);
  assert.ok(sameSnapshot(before, snapshot(mine)), 'the user\'s adapter is unchanged');
});
