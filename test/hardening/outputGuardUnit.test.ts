/**
 * Never destroy, at the unit level: `outputHazards` (engine/outputGuard.ts) decides which folders
 * compose may replace whole. Each test builds the situation on real files and asserts which hazards
 * come back — the folders a user would lose if the check said "safe" (the root, home, the recipe, the
 * workspace, the library, a repository, an input, a folder compose did not write) and the outputs
 * that must stay writable (a sibling whose name merely starts the same, a folder inside the samples'
 * folder, compose's own previous output). The CLI-level tests (hardening/outputSafety) check the same
 * through compose and `check`, but they run dist/cli.js, which no mutant of the source reaches: this
 * file is what `npm run mutate -- guard` measures the guard with (fast: no compose, no model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCompositionMarker, outputHazards, recipeInputs, requireSafeOutput, targetInputs, type OutputContext } from '../../server/src/engine/outputGuard';
import { isComposerError } from '../../server/src/engine/errors';

function tempDir(prefix = 'ac-guard-'): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** A workspace with a recipe, a library and an adapter, nothing else. */
function workspace(): { ws: string; recipeFile: string; library: string; adapter: string } {
  const ws = tempDir();
  fs.mkdirSync(path.join(ws, 'recipes'));
  const recipeFile = path.join(ws, 'recipes', 'r.compose.yaml');
  fs.writeFileSync(recipeFile, 'output: ../out/r\n');
  const library = path.join(ws, 'library');
  fs.mkdirSync(library);
  const adapter = path.join(ws, 'adapters', 'a');
  fs.mkdirSync(adapter, { recursive: true });
  fs.writeFileSync(path.join(adapter, 'adapter_model.safetensors'), 'weights');
  return { ws, recipeFile, library, adapter };
}

const codes = (ctx: OutputContext) => outputHazards(ctx).map((h) => h.code);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A folder as compose writes it: weights, config and a composition.json listing both with their hashes. */
function composedFolder(folder: string, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(folder, { recursive: true });
  const files = { 'adapter_model.safetensors': 'composite weights', 'adapter_config.json': '{"r": 4}' };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(folder, name), text);
  const listed = Object.entries(files).map(([name, text]) => ({ path: name, sha256: sha256(text) }));
  fs.writeFileSync(path.join(folder, 'composition.json'), JSON.stringify({ tool: 'adapter-composer', files: listed, ...extra }));
}

test('a fresh output in its own folder is safe; the same output one level up is not (the recipe, then the workspace)', () => {
  const { ws, recipeFile, library } = workspace();
  const base = { recipeFile, library, workspaceRoot: ws };
  assert.deepEqual(codes({ ...base, output: path.join(ws, 'out', 'r') }), []);
  const recipes = outputHazards({ ...base, output: path.join(ws, 'recipes') })[0];
  assert.equal(recipes.code, 'output-contains-recipe');
  assert.equal(recipes.message, `output ${path.join(ws, 'recipes')} contains the recipe itself; compose replaces its output folder as a whole`);
  assert.equal(recipes.hint, 'write composites to a folder of their own, e.g. ../out/<name>');
  assert.deepEqual(codes({ ...base, output: ws }), ['output-contains-recipe', 'output-contains-workspace', 'output-in-library', 'output-not-composed']);
  assert.equal(outputHazards({ ...base, output: ws })[1].message, `output ${ws} is or contains the workspace ${ws}; compose replaces its output folder as a whole`);
  // inside the workspace is where outputs go: `contains`, not `either`
  assert.ok(!codes({ ...base, output: path.join(ws, 'out') }).includes('output-contains-workspace'));
});

test('the file-system root and the home folder (or one above it) are never an output; a folder inside home is', () => {
  const { recipeFile } = workspace();
  const root = outputHazards({ output: path.parse(os.tmpdir()).root, recipeFile });
  assert.equal(root[0].code, 'output-protected');
  assert.match(root[0].message, /is the file-system root/);
  assert.equal(root.filter((h) => h.code === 'output-protected').length, 1, 'one protected hazard, not two');
  // a link to the root is the root (its real spelling), said as such
  const link = path.join(workspace().ws, 'root-link');
  fs.symlinkSync(path.parse(os.tmpdir()).root, link);
  assert.match(outputHazards({ output: link, recipeFile })[0].message, new RegExp(`output ${link} is the file-system root`));
  const home = os.homedir();
  assert.ok(home && home !== path.parse(home).root, 'a home folder to test with');
  const atHome = outputHazards({ output: home, recipeFile });
  assert.match(atHome[0].message, /is the home folder or one above it/);
  assert.equal(atHome[0].code, 'output-protected');
  assert.ok(!codes({ output: path.join(home, 'never-created-by-this-test', 'out'), recipeFile }).includes('output-protected'), 'a folder inside home is an output like any other');
});

test('an output that is a link to the home folder is the home folder', () => {
  const { ws, recipeFile } = workspace();
  const link = path.join(ws, 'home-link');
  fs.symlinkSync(os.homedir(), link);
  assert.equal(codes({ output: link, recipeFile })[0], 'output-protected');
});

test('the library: an output inside it or containing it is refused; a sibling whose name starts the same is not', () => {
  const { ws, recipeFile, library } = workspace();
  assert.ok(codes({ output: path.join(library, 'out'), recipeFile, library }).includes('output-in-library'));
  assert.ok(codes({ output: library, recipeFile, library }).includes('output-in-library'));
  const containing = outputHazards({ output: ws, recipeFile, library }).find((h) => h.code === 'output-in-library');
  assert.match(containing!.message, new RegExp(`overlaps the library folder ${library}`));
  // `lib` is a string prefix of `library` but not a folder of it
  assert.deepEqual(codes({ output: path.join(ws, 'lib'), recipeFile, library }), []);
  assert.deepEqual(codes({ output: `${library}-out`, recipeFile, library }), []);
  // a remote library (no local folder) overlaps nothing
  assert.deepEqual(codes({ output: path.join(library, 'out'), recipeFile }), []);
});

test('a library at the file-system root overlaps every output', () => {
  const { ws, recipeFile } = workspace();
  assert.ok(codes({ output: path.join(ws, 'out'), recipeFile, library: path.parse(ws).root }).includes('output-in-library'));
});

test('the lock file: an output that is the lock (or its other spelling through a link) is refused; any other path is not', () => {
  const { ws, recipeFile } = workspace();
  const lockFile = recipeFile.replace(/\.compose\.yaml$/, '.compose.lock');
  const hazards = outputHazards({ output: lockFile, recipeFile, lockFile });
  assert.deepEqual(hazards.map((h) => h.code), ['output-is-lock']);
  assert.match(hazards[0].message, /is the recipe's lock file r\.compose\.lock/);
  assert.match(hazards[0].hint!, /a folder of their own/);
  assert.deepEqual(codes({ output: `${lockFile}.d`, recipeFile, lockFile }), []);
  // the lock named through a linked folder, the output by its real path
  fs.symlinkSync(path.join(ws, 'recipes'), path.join(ws, 'recipes-link'));
  const viaLink = path.join(ws, 'recipes-link', 'r.compose.lock');
  assert.deepEqual(codes({ output: lockFile, recipeFile, lockFile: viaLink }), ['output-is-lock']);
});

test('a repository: an output inside .git, holding a .git (folder or file), or reached through a link into one is refused', () => {
  const { ws, recipeFile } = workspace();
  const repo = path.join(ws, 'repo');
  fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
  assert.ok(codes({ output: path.join(repo, '.git', 'out'), recipeFile }).includes('output-git'));
  assert.ok(codes({ output: repo, recipeFile }).includes('output-git'));
  assert.equal(outputHazards({ output: repo, recipeFile })[0].message, `output ${repo} is, holds or lies inside a .git folder; compose never replaces a repository`);
  const worktree = path.join(ws, 'worktree');
  fs.mkdirSync(worktree);
  fs.writeFileSync(path.join(worktree, '.git'), 'gitdir: ../repo/.git\n');
  assert.ok(codes({ output: worktree, recipeFile }).includes('output-git'), 'a worktree\'s .git is a file');
  fs.symlinkSync(path.join(repo, '.git'), path.join(ws, 'git-link'));
  assert.ok(codes({ output: path.join(ws, 'git-link', 'out'), recipeFile }).includes('output-git'), 'a link into .git');
  assert.deepEqual(codes({ output: path.join(ws, 'repo-out'), recipeFile }), []);
});

test('adapters: an output that is, holds or lies inside an adapter is refused once; an adapter without a local path is skipped', () => {
  const { ws, recipeFile, adapter } = workspace();
  const adapters = [{ name: 'a', path: adapter }, { name: 'a-again', path: adapter }];
  for (const output of [adapter, path.join(adapter, 'sub'), path.dirname(adapter)]) {
    const hazards = outputHazards({ output, recipeFile, adapters }).filter((h) => h.code === 'output-overlaps-adapter');
    assert.equal(hazards.length, 1, `one hazard for ${output}`);
    assert.match(hazards[0].message, new RegExp(`adapter \`a\` \\(${adapter}\\)`));
  }
  assert.deepEqual(codes({ output: `${adapter}-out`, recipeFile, adapters }), []);
  // a remote adapter has no path: it must not resolve to the current folder and block an output there
  const cwd = process.cwd();
  process.chdir(ws);
  try {
    assert.deepEqual(codes({ output: path.join(ws, 'out'), recipeFile, adapters: [{ name: 'remote', path: '' }] }), []);
  } finally {
    process.chdir(cwd);
  }
});

test('adapters are compared by their normal spelling (relative, `..`, trailing separator) and through links (the editor: for up to 64 adapters; compose: all)', () => {
  const { ws, recipeFile, adapter } = workspace();
  const filler = Array.from({ length: 64 }, (_, i) => ({ name: `f${i}`, path: path.join(ws, 'elsewhere', `f${i}`) }));
  // 65 adapters: the link spellings are not computed, the normal ones always are
  const cwd = process.cwd();
  process.chdir(ws);
  try {
    for (const spelling of [`${ws}/adapters/x/../a`, `${ws}/adapters/./a`, `${adapter}${path.sep}`, 'adapters/a', `adapters${path.sep}a${path.sep}`]) {
      const adapters = [...filler, { name: 'a', path: spelling }];
      assert.ok(codes({ output: adapter, recipeFile, adapters }).includes('output-overlaps-adapter'), spelling);
      assert.ok(codes({ output: path.join(adapter, 'sub'), recipeFile, adapters }).includes('output-overlaps-adapter'), spelling);
    }
  } finally {
    process.chdir(cwd);
  }
  // exactly 64 adapters, one a link to the output's folder: found through the link
  const link = path.join(ws, 'adapter-link');
  fs.symlinkSync(adapter, link);
  const adapters = [...filler.slice(0, 63), { name: 'linked', path: link }];
  assert.equal(adapters.length, 64);
  assert.ok(codes({ output: adapter, recipeFile, adapters }).includes('output-overlaps-adapter'));
  assert.ok(codes({ output: adapter, recipeFile, adapters: [{ name: 'linked', path: link }] }).includes('output-overlaps-adapter'));
  // compose (deepScan) follows every adapter's links, however many: a library of 65 adapters, one of
  // them a link to a composite the recipe now writes again, had compose replace that adapter
  const many = [...filler, { name: 'linked', path: link }];
  assert.equal(many.length, 65);
  assert.ok(codes({ output: adapter, recipeFile, adapters: many, deepScan: true }).includes('output-overlaps-adapter'));
});

test("the recipe's inputs: an output that contains one is refused once; an output inside the samples' folder is not", () => {
  const { ws, recipeFile } = workspace();
  const data = path.join(ws, 'data', 'task');
  const inputs = [{ what: "the target's samples", path: data }, { what: "the evaluator's data", path: path.join(data, 'eval.npy') }];
  const hazards = outputHazards({ output: path.join(ws, 'data'), recipeFile, inputs }).filter((h) => h.code === 'output-overlaps-input');
  assert.equal(hazards.length, 1);
  assert.match(hazards[0].message, new RegExp(`overlaps the target's samples \\(${data}\\)`));
  assert.ok(codes({ output: data, recipeFile, inputs }).includes('output-overlaps-input'));
  assert.deepEqual(codes({ output: path.join(data, 'out'), recipeFile, inputs: inputs.slice(0, 1) }), []);
});

test('an output the file system cannot hold is said before compose writes: too long a name, a file or a dangling link above it, a dangling link at it', () => {
  const { ws, recipeFile } = workspace();
  const notFolder = (output: string) => outputHazards({ output, recipeFile }).filter((h) => h.code === 'output-not-a-folder').map((h) => h.message);
  assert.deepEqual(notFolder(path.join(ws, 'x'.repeat(220))), [], '220 bytes is the longest name compose publishes');
  assert.match(notFolder(path.join(ws, 'x'.repeat(221)))[0], /its folder name is 221 bytes long; compose can write at most 220/);
  assert.match(notFolder(path.join(ws, 'é'.repeat(111)))[0], /its folder name is 222 bytes long/, 'bytes, not characters');
  assert.deepEqual(notFolder(path.join(ws, 'y'.repeat(255), 'out')), [], 'a 255-byte folder name above is legal');
  const tooLong = notFolder(path.join(ws, 'y'.repeat(256), 'out'));
  assert.equal(tooLong.length, 1);
  assert.match(tooLong[0], /the folder name y{40}… above it is 256 bytes long/);
  fs.writeFileSync(path.join(ws, 'file'), 'a file');
  assert.deepEqual(notFolder(path.join(ws, 'file', 'a', 'out')), [`output ${path.join(ws, 'file', 'a', 'out')} lies under ${path.join(ws, 'file')}, which is not a folder`]);
  fs.symlinkSync(path.join(ws, 'missing'), path.join(ws, 'dangling'));
  assert.deepEqual(notFolder(path.join(ws, 'dangling', 'out')), [`output ${path.join(ws, 'dangling', 'out')} lies under ${path.join(ws, 'dangling')}, a symbolic link to ${path.join(ws, 'missing')}, which does not exist`]);
  assert.deepEqual(notFolder(path.join(ws, 'dangling')), [`output ${path.join(ws, 'dangling')} is a symbolic link to ${path.join(ws, 'missing')}, which does not exist`]);
  assert.deepEqual(notFolder(path.join(ws, 'new', 'deeper', 'out')), [], 'folders that do not exist yet are created');
  fs.mkdirSync(path.join(ws, 'real-out'));
  fs.symlinkSync(path.join(ws, 'real-out'), path.join(ws, 'linked-out'));
  assert.deepEqual(notFolder(path.join(ws, 'linked-out')), [], 'a link to a folder that exists is not dangling');
  const file = outputHazards({ output: path.join(ws, 'file'), recipeFile });
  assert.deepEqual(file.map((h) => [h.code, h.message]), [['output-not-a-folder', `output ${path.join(ws, 'file')} exists and is not a folder`]]);
});

test('a symbolic link that loops, above the output or at it, is said before compose writes (compose failed creating the folder, unlocated)', () => {
  const { ws, recipeFile } = workspace();
  const notFolder = (output: string) => outputHazards({ output, recipeFile }).filter((h) => h.code === 'output-not-a-folder').map((h) => h.message);
  fs.symlinkSync('loop-b', path.join(ws, 'loop-a'));
  fs.symlinkSync('loop-a', path.join(ws, 'loop-b'));
  assert.deepEqual(notFolder(path.join(ws, 'loop-a', 'out')), [`output ${path.join(ws, 'loop-a', 'out')} lies under ${path.join(ws, 'loop-a')}, a symbolic link that loops (it leads back to itself through loop-b)`]);
  assert.deepEqual(notFolder(path.join(ws, 'loop-a', 'deeper', 'out')), [`output ${path.join(ws, 'loop-a', 'deeper', 'out')} lies under ${path.join(ws, 'loop-a')}, a symbolic link that loops (it leads back to itself through loop-b)`]);
  assert.deepEqual(notFolder(path.join(ws, 'loop-a')), [`output ${path.join(ws, 'loop-a')} is a symbolic link that loops (it leads back to itself through loop-b)`]);
  fs.symlinkSync('self', path.join(ws, 'self'));
  assert.deepEqual(notFolder(path.join(ws, 'self', 'out')), [`output ${path.join(ws, 'self', 'out')} lies under ${path.join(ws, 'self')}, a symbolic link that loops (it leads back to itself through self)`]);
});

test('an existing folder: empty or written by compose is replaced; one holding anything of the user\'s is not (forcible)', () => {
  const { ws, recipeFile } = workspace();
  const out = path.join(ws, 'out');
  fs.mkdirSync(out);
  assert.deepEqual(codes({ output: out, recipeFile, verifyHashes: true }), [], 'empty');
  composedFolder(out);
  assert.deepEqual(codes({ output: out, recipeFile, verifyHashes: true }), [], 'compose\'s own');
  // its weights replaced by the user's (same names): compose verifies the hashes, the editor checks names
  fs.writeFileSync(path.join(out, 'adapter_model.safetensors'), 'the user\'s own weights');
  assert.deepEqual(codes({ output: out, recipeFile, verifyHashes: true }), ['output-not-composed']);
  assert.deepEqual(codes({ output: out, recipeFile }), []);
  assert.deepEqual(codes({ output: out, recipeFile, verifyHashes: false }), []);
  composedFolder(out);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'the user\'s notes');
  const hazards = outputHazards({ output: out, recipeFile, verifyHashes: true });
  assert.deepEqual(hazards.map((h) => [h.code, h.forcible]), [['output-not-composed', true]]);
  assert.match(hazards[0].message, /is a non-empty folder that compose did not write/);
  assert.match(hazards[0].hint!, /--force/);
});

test('the composition.json marker claims a folder only when it lists every other file with its hash (verified by compose, names only for the editor)', () => {
  const { ws } = workspace();
  let n = 0;
  const folder = (extra: Record<string, unknown> = {}) => {
    const f = path.join(ws, `c${n++}`);
    composedFolder(f, extra);
    return f;
  };
  const good = folder();
  assert.equal(hasCompositionMarker(good), true);
  assert.equal(hasCompositionMarker(folder({ tool: 'other-tool' })), false, 'another tool');
  assert.equal(hasCompositionMarker(folder({ files: undefined })), false, 'an older composition.json without files');
  assert.equal(hasCompositionMarker(folder({ files: [] })), false, 'an empty list claims nothing');
  const weights = { path: 'adapter_model.safetensors', sha256: sha256('composite weights') };
  const config = { path: 'adapter_config.json', sha256: sha256('{"r": 4}') };
  assert.equal(hasCompositionMarker(folder({ files: [weights] })), false, 'the config is not listed');
  assert.equal(hasCompositionMarker(folder({ files: [weights, config, { path: 'adapters.safetensors', sha256: 'x' }] })), false, 'a listed file is missing');
  assert.equal(hasCompositionMarker(folder({ files: [weights, config, { path: 'composition.json', sha256: 'x' }] })), false, 'composition.json lists itself');
  assert.equal(hasCompositionMarker(folder({ files: [weights, config, { path: '../elsewhere', sha256: 'x' }] })), false, 'a path out of the folder');
  assert.equal(hasCompositionMarker(folder({ files: [weights, { path: 'adapter_config.json' }] })), false, 'no hash');
  assert.equal(hasCompositionMarker(folder({ files: [weights, { path: 'adapter_config.json' }] }), false), false, 'no hash, names only');
  assert.equal(hasCompositionMarker(folder({ files: [weights, { path: 7, sha256: 'x' }] })), false, 'not a path');
  // the editor checks names only: they must still be exactly the folder's
  assert.equal(hasCompositionMarker(folder({ files: [weights, config, { path: 'adapters.safetensors', sha256: 'x' }] }), false), false, 'one listed file missing, names only');
  assert.equal(hasCompositionMarker(folder({ files: [weights, { path: 'adapters.safetensors', sha256: 'x' }] }), false), false, 'one file not listed, another listed instead, names only');
  const onlyMarker = path.join(ws, 'only-marker');
  fs.mkdirSync(onlyMarker);
  fs.writeFileSync(path.join(onlyMarker, 'composition.json'), JSON.stringify({ tool: 'adapter-composer', files: [] }));
  assert.equal(hasCompositionMarker(onlyMarker), false, 'an empty list claims nothing, not even a folder holding only the marker');
  assert.equal(hasCompositionMarker(folder({ files: [weights, null] })), false, 'a null entry');
  const tampered = folder();
  fs.writeFileSync(path.join(tampered, 'adapter_model.safetensors'), 'the user\'s own weights, same name');
  assert.equal(hasCompositionMarker(tampered), false, 'compose verifies hashes');
  assert.equal(hasCompositionMarker(tampered, false), true, 'the editor checks names only');
  const sub = folder();
  fs.mkdirSync(path.join(sub, 'adapter_config.json.d'));
  assert.equal(hasCompositionMarker(sub), false, 'a subfolder of the user\'s');
  const linked = folder();
  fs.renameSync(path.join(linked, 'adapter_config.json'), path.join(ws, 'config-elsewhere.json'));
  fs.symlinkSync(path.join(ws, 'config-elsewhere.json'), path.join(linked, 'adapter_config.json'));
  assert.equal(hasCompositionMarker(linked, false), false, 'a listed name that is a link');
  const json = folder();
  fs.writeFileSync(path.join(json, 'composition.json'), '{"tool": "adapter-composer", ');
  assert.equal(hasCompositionMarker(json), false, 'broken JSON');
  fs.writeFileSync(path.join(json, 'composition.json'), 'null');
  assert.equal(hasCompositionMarker(json), false, 'null');
  fs.writeFileSync(path.join(json, 'composition.json'), '"adapter-composer"');
  assert.equal(hasCompositionMarker(json), false, 'a string');
  // a composition.json padded to `size` bytes (ASCII, still valid JSON)
  const padded = (size: number) => {
    const f = folder();
    const text = fs.readFileSync(path.join(f, 'composition.json'), 'utf8').slice(0, -1);
    fs.writeFileSync(path.join(f, 'composition.json'), `${text},"pad":"${' '.repeat(size - text.length - 10)}"}`);
    assert.equal(fs.statSync(path.join(f, 'composition.json')).size, size);
    return f;
  };
  assert.equal(hasCompositionMarker(padded(1 << 20)), true, 'exactly 1 MiB is read');
  assert.equal(hasCompositionMarker(padded((1 << 20) + 1)), false, 'a composition.json over 1 MiB is not read');
  assert.equal(hasCompositionMarker(path.join(ws, 'missing')), false);
  const markerLink = folder();
  fs.renameSync(path.join(markerLink, 'composition.json'), path.join(ws, 'marker-elsewhere.json'));
  fs.symlinkSync(path.join(ws, 'marker-elsewhere.json'), path.join(markerLink, 'composition.json'));
  assert.equal(hasCompositionMarker(markerLink), false, 'a composition.json that is a link');
});

test('the previous lock claims its output only when it names this folder and lists exactly its files with their hashes', () => {
  const { ws, recipeFile } = workspace();
  const out = path.join(ws, 'out', 'r');
  fs.mkdirSync(out, { recursive: true });
  const files = { 'adapter_model.safetensors': 'weights of a composite', 'adapter_config.json': '{}' };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(out, name), text);
  const recorded = Object.entries(files).map(([name, text]) => ({ path: name, sha256: sha256(text) }));
  const lockFile = recipeFile.replace(/\.compose\.yaml$/, '.compose.lock');
  const writeLock = (output: unknown) => fs.writeFileSync(lockFile, JSON.stringify({ output }));
  const owned = (verifyHashes: boolean) => !codes({ output: out, recipeFile, lockFile, verifyHashes }).includes('output-not-composed');
  writeLock({ path: '../out/r', files: recorded });
  assert.equal(owned(true), true, 'the lock\'s own output, relative to the lock');
  assert.equal(owned(false), true);
  assert.equal(codes({ output: out, recipeFile, verifyHashes: true }).includes('output-not-composed'), true, 'no lock: not compose\'s');
  writeLock({ path: '../out/other', files: recorded });
  assert.equal(owned(false), false, 'another output');
  writeLock({ path: '../out/r', files: recorded.slice(0, 1) });
  assert.equal(owned(true), false, 'a record of one file does not claim the file beside it');
  assert.equal(owned(false), true, 'the editor checks the path only');
  writeLock({ path: '../out/r', files: [] });
  assert.equal(owned(false), false, 'no files recorded');
  writeLock({ path: '../out/r' });
  assert.equal(owned(false), false, 'no files at all');
  writeLock({ path: 7, files: recorded });
  assert.equal(owned(false), false, 'a path that is not a string');
  writeLock({ path: '../out/r', files: [{ ...recorded[0], sha256: sha256('other') }, recorded[1]] });
  assert.equal(owned(true), false, 'a changed file');
  fs.writeFileSync(lockFile, '{ not json');
  assert.equal(owned(false), false);
  fs.writeFileSync(lockFile, 'null');
  assert.equal(owned(false), false, 'a lock of null');
  for (const text of ['{}', '{"output": null}', '{"output": 7}', '[]']) {
    fs.writeFileSync(lockFile, text);
    assert.equal(owned(false), false, `a lock of ${text}: no crash, not owned`);
  }
  writeLock({ path: '../out/r', files: recorded });
  fs.writeFileSync(path.join(out, 'notes.txt'), 'the user\'s');
  assert.equal(owned(false), false, 'a file of the user\'s beside the recorded ones');
  fs.rmSync(path.join(out, 'notes.txt'));
  assert.equal(owned(true), true);
  assert.equal(codes({ output: out, recipeFile, lockFile: path.join(ws, 'missing.lock'), verifyHashes: true }).includes('output-not-composed'), true);
});

test('forcing a folder compose did not write looks through it for a .git at any depth (links not followed) and refuses one too large to look through', () => {
  const { ws, recipeFile } = workspace();
  const out = path.join(ws, 'out');
  fs.mkdirSync(path.join(out, 'a', 'b', '.git'), { recursive: true });
  fs.writeFileSync(path.join(out, 'x.txt'), 'x');
  assert.deepEqual(codes({ output: out, recipeFile, deepScan: true }), ['output-git', 'output-not-composed']);
  assert.deepEqual(codes({ output: out, recipeFile }), ['output-not-composed'], 'the editor does not walk');
  assert.match(outputHazards({ output: out, recipeFile, deepScan: true })[0].message, /holds a \.git folder further down/);
  const linking = path.join(ws, 'linking');
  fs.mkdirSync(linking);
  fs.symlinkSync(path.join(out, 'a'), path.join(linking, 'link'));
  assert.deepEqual(codes({ output: linking, recipeFile, deepScan: true }), ['output-not-composed'], 'replacing a link removes the link, not the repository');
  // exactly the limit of entries is looked through; one more is too many
  const wide = path.join(ws, 'wide');
  fs.mkdirSync(path.join(wide, 'd'), { recursive: true });
  for (let i = 0; i < 9_999; i++) fs.writeFileSync(path.join(wide, 'd', String(i)), '');
  assert.deepEqual(codes({ output: wide, recipeFile, deepScan: true }), ['output-not-composed'], '10,000 entries');
  fs.writeFileSync(path.join(wide, 'one-more'), '');
  const large = outputHazards({ output: wide, recipeFile, deepScan: true });
  assert.deepEqual(large.map((h) => h.code), ['output-too-large', 'output-not-composed']);
  assert.match(large[0].message, /holds more than 10000 entries/);
  assert.match(large[0].hint!, /choose a new output folder/);
});

test('requireSafeOutput throws the first hazard at the given location; --force passes only a folder compose did not write', () => {
  const { ws, recipeFile, library } = workspace();
  const out = path.join(ws, 'out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'n');
  const location = { file: recipeFile, line: 1 };
  const thrown = (ctx: OutputContext, force?: boolean) => {
    try {
      requireSafeOutput(ctx, location, force);
    } catch (e) {
      assert.ok(isComposerError(e));
      return e;
    }
    return undefined;
  };
  const refused = thrown({ output: out, recipeFile });
  assert.match(refused!.message, /non-empty folder that compose did not write/);
  assert.deepEqual(refused!.location, location);
  assert.equal(refused!.code, 'recipe');
  assert.match(refused!.hint!, /--force/);
  assert.equal(thrown({ output: out, recipeFile }, true), undefined, 'forced');
  const inLibrary = thrown({ output: library, recipeFile, library }, true);
  assert.match(inLibrary!.message, /overlaps the library folder/);
  assert.equal(inLibrary!.hint, 'choose an output folder of its own, e.g. ../out/<name>', 'the default hint');
  assert.equal(thrown({ output: path.join(ws, 'fresh'), recipeFile }), undefined);
});

test("the target's inputs: a features or prototype file, each samples glob's fixed folder (or the file itself); the evaluator's files", () => {
  const dir = path.join(os.tmpdir(), 'recipe-dir');
  assert.deepEqual(targetInputs({ source: 'features', file: '/data/f.npy' }, dir), [{ what: "the target's features file", path: '/data/f.npy' }]);
  assert.deepEqual(targetInputs({ source: 'prototype', file: '/data/p.npy' }, dir), [{ what: "the target's prototype file", path: '/data/p.npy' }]);
  assert.deepEqual(targetInputs({ source: 'features' }, dir), []);
  assert.deepEqual(targetInputs({ source: 'text', file: '/data/t.txt' }, dir), []);
  assert.deepEqual(targetInputs({ source: 'samples' }, dir), []);
  assert.deepEqual(targetInputs({ source: 'text', patterns: ['data/*.txt'] }, dir), [], 'patterns count for samples only');
  const samples = targetInputs({ source: 'samples', patterns: ['data/task/*.npy', 'data\\win\\**\\x.txt', 'one/file.npy', '*.npy', 'a/{b,c}/x', 'q/?.npy', 'r/[ab].npy', 's/!(x).npy'] }, dir);
  assert.deepEqual(samples.map((s) => s.path), ['data/task', 'data/win', 'one/file.npy', '.', 'a', 'q', 'r', 's'].map((p) => path.resolve(dir, p)));
  assert.ok(samples.every((s) => s.what === "the target's samples"));
  assert.deepEqual(recipeInputs({ source: 'features', file: '/data/f.npy' }, { builtin: { model: 'm.onnx', data: '', labels: 'l.txt' } }, dir).map((i) => [i.what, i.path]), [
    ["the target's features file", '/data/f.npy'],
    ["the evaluator's model", path.join(dir, 'm.onnx')],
    ["the evaluator's labels", path.join(dir, 'l.txt')],
  ]);
  assert.deepEqual(recipeInputs({ source: 'text' }, {}, dir), []);
  // a recipe with the wrong types (the schema reports them; the language server must not crash on them)
  const wrong = { builtin: { model: 5, data: null, labels: 'l.txt' } } as unknown as Parameters<typeof recipeInputs>[1];
  assert.deepEqual(recipeInputs({ source: 'text' }, wrong, dir).map((i) => i.what), ["the evaluator's labels"]);
  assert.deepEqual(recipeInputs({ source: 'text' }, undefined, dir), []);
});

test('the per-keystroke check leaks no directory handle (the editor runs it on every change of a recipe)', () => {
  const { ws, recipeFile } = workspace();
  const composed = path.join(ws, 'composed');
  composedFolder(composed);
  const foreign = path.join(ws, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'adapter_config.json'), '{}');
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'n');
  const openFds = () => fs.readdirSync('/proc/self/fd').length;
  const before = openFds();
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(codes({ output: composed, recipeFile }), []);
    assert.deepEqual(codes({ output: foreign, recipeFile }), ['output-not-composed']);
  }
  assert.equal(openFds(), before);
});
