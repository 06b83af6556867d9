/**
 * Workspace confinement on real folders (issue 14): a sibling `<ws>-evil` (a string-prefix check
 * would let it in), `..`, absolute paths, symlinks both ways, folders that do not exist yet, the
 * CLI's default workspace, and the recipe-level decision with its located messages. Fast (no
 * library, no encoder), so the mutation run uses it for engine/recipe/workspaceConfinement.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseRecipe } from '../../server/src/engine/recipe/parse';
import { resolveRecipePaths } from '../../server/src/engine/recipe/paths';
import { adapterEscapes, defaultWorkspaceRoot, isOutsideWorkspace, isReadable, OUTPUT_OUTSIDE_HINT, OUTSIDE_HINT, realLocation, requireInsideWorkspace, sampleFiles, workspaceEscapes } from '../../server/src/engine/recipe/workspaceConfinement';
import { isComposerError } from '../../server/src/engine/errors';

// realpath: os.tmpdir() may itself be a symlink (macOS /var → /private/var)
const top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-confine-')));
after(() => fs.rmSync(top, { recursive: true, force: true }));
const ws = path.join(top, 'ws');
const evil = `${ws}-evil`; // shares the workspace's path as a string prefix, lies outside it
const wsevil = `${ws}evil`;
for (const d of [path.join(ws, 'recipes'), path.join(ws, 'data'), path.join(evil, 'data'), wsevil]) fs.mkdirSync(d, { recursive: true });
fs.writeFileSync(path.join(ws, 'data', 'a.npy'), 'x');
fs.writeFileSync(path.join(evil, 'data', 'b.npy'), 'x');
fs.symlinkSync(evil, path.join(ws, 'link-out')); // inside → outside
fs.symlinkSync(path.join(ws, 'data'), path.join(evil, 'link-in')); // outside → inside

test('realLocation resolves symlinks in the part that exists and appends the rest', () => {
  assert.equal(realLocation(path.join(ws, 'link-out', 'data', 'b.npy')), path.join(evil, 'data', 'b.npy'));
  assert.equal(realLocation(path.join(ws, 'link-out', 'not', 'yet')), path.join(evil, 'not', 'yet'));
  assert.equal(realLocation(path.join(ws, 'new', 'deeper', 'x')), path.join(ws, 'new', 'deeper', 'x'));
  assert.equal(realLocation(path.join(ws, 'recipes', '..', 'data')), path.join(ws, 'data'));
  assert.equal(realLocation(path.join(evil, 'link-in', 'a.npy')), path.join(ws, 'data', 'a.npy'));
  assert.equal(realLocation(path.join(ws, 'link-out')), evil);
});

test('isOutsideWorkspace: a sibling sharing the prefix, .., absolute and symlinked paths are outside', () => {
  const outside = (p: string) => isOutsideWorkspace(p, ws);
  // inside
  for (const p of [ws, `${ws}/`, path.join(ws, 'data'), path.join(ws, 'data', 'a.npy'), path.join(ws, 'new', 'folder'), path.join(ws, '..', 'ws', 'data'),
    path.join(evil, 'link-in', 'a.npy'), path.join(ws, '..evil-name')]) {
    assert.equal(outside(p), false, `${p} is inside`);
  }
  // outside
  for (const p of [evil, path.join(evil, 'data'), path.join(evil, 'data', 'b.npy'), path.join(evil, 'new'), wsevil, path.join(wsevil, 'x'),
    top, path.join(ws, '..'), path.join(ws, '..', 'elsewhere'), path.join(ws, 'link-out'), path.join(ws, 'link-out', 'data', 'b.npy'),
    path.join(ws, 'link-out', 'new'), '/', os.homedir()]) {
    assert.equal(outside(p), true, `${p} is outside`);
  }
  // the workspace given through a symlink is the same workspace
  fs.symlinkSync(ws, path.join(top, 'ws-alias'));
  assert.equal(isOutsideWorkspace(path.join(ws, 'data'), path.join(top, 'ws-alias')), false);
  assert.equal(isOutsideWorkspace(path.join(evil, 'data'), path.join(top, 'ws-alias')), true);
});

test('the default workspace of a recipe in a sibling `<cwd>-evil` is not the current folder', () => {
  const noHome = '/nonexistent-home';
  const inside = path.join(ws, 'recipes', 'r.compose.yaml');
  assert.equal(defaultWorkspaceRoot(inside, ws, noHome), ws);
  assert.equal(defaultWorkspaceRoot(inside, `${ws}/`, noHome), ws);
  // outside the cwd, no .git/.vscode above: the folder above the recipe's folder
  const sibling = path.join(evil, 'recipes', 'r.compose.yaml');
  assert.equal(defaultWorkspaceRoot(sibling, ws, noHome), evil);
  // with a .git above, that folder
  fs.mkdirSync(path.join(evil, 'deep', 'er', 'recipes'), { recursive: true });
  fs.mkdirSync(path.join(evil, 'deep', '.git'));
  assert.equal(defaultWorkspaceRoot(path.join(evil, 'deep', 'er', 'recipes', 'r.compose.yaml'), ws, noHome), path.join(evil, 'deep'));
  fs.mkdirSync(path.join(evil, 'deep', 'er', '.vscode'));
  assert.equal(defaultWorkspaceRoot(path.join(evil, 'deep', 'er', 'recipes', 'r.compose.yaml'), ws, noHome), path.join(evil, 'deep', 'er'));
  // never home itself: the recipe's own folder instead
  assert.equal(defaultWorkspaceRoot(path.join(evil, 'recipes', 'r.compose.yaml'), ws, evil), path.join(evil, 'recipes'));
  // never the file-system root either
  assert.equal(defaultWorkspaceRoot('/ac-no-such-folder/r.compose.yaml', ws, noHome), '/ac-no-such-folder');
  // no HOME at all: only the root rule applies
  const home = process.env.HOME;
  delete process.env.HOME;
  try {
    assert.equal(defaultWorkspaceRoot(sibling, ws), evil);
  } finally {
    process.env.HOME = home;
  }
  // inside the current folder, the current folder wins over a .git between it and the recipe
  fs.mkdirSync(path.join(ws, 'sub', '.git'), { recursive: true });
  assert.equal(defaultWorkspaceRoot(path.join(ws, 'sub', 'recipes', 'r.compose.yaml'), ws, noHome), ws);
  fs.rmSync(path.join(ws, 'sub'), { recursive: true });
});

function recipeIn(dir: string, body: Record<string, string>) {
  const file = path.join(dir, 'recipes', 'r.compose.yaml');
  const fields = { library: '../library', target: '\n  samples: ../data/*.npy', output: '../out/r', ...body };
  const text = `compose: 1\nname: r\nbase: b\n${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
  const { recipe } = parseRecipe(text, file);
  assert.ok(recipe, text);
  return { recipe, paths: resolveRecipePaths(recipe, file), text, file };
}

test('workspaceEscapes names each escaping key (output, library, target file, sample) and the real path', async () => {
  const clean = recipeIn(ws, {});
  assert.deepEqual(await workspaceEscapes(clean.recipe, clean.paths, ws), []);
  await requireInsideWorkspace(clean.recipe, clean.paths, ws);

  const cases: [Record<string, string>, string, string, RegExp][] = [
    [{ output: `${evil}/out` }, 'output', 'output', new RegExp(`^output \`${evil}/out\` resolves to ${evil}/out, outside the workspace ${ws}$`)],
    [{ output: '../../ws-evil/out' }, 'output', 'output', /resolves to .*ws-evil\/out, outside/],
    [{ output: '../link-out/out' }, 'output', 'output', new RegExp(`resolves to ${evil}/out, outside`)],
    [{ library: `${evil}/library` }, 'library', 'library', /^library .* outside the workspace/],
    [{ library: '../link-out/library' }, 'library', 'library', /^library .* outside the workspace/],
    [{ target: `\n  prototype: ${evil}/data/b.npy` }, 'target', 'prototype', /^target prototype file .* outside the workspace/],
    [{ target: `\n  features: ${wsevil}/f.npy` }, 'target', 'features', /^target features file .* outside the workspace/],
    [{ target: '\n  samples: ../link-out/data/*.npy' }, 'target', 'samples', new RegExp(`^sample file .* resolves to ${evil}/data/b.npy, outside`)],
  ];
  for (const [body, key, sub, pattern] of cases) {
    const { recipe, paths } = recipeIn(ws, body);
    const escapes = await workspaceEscapes(recipe, paths, ws);
    assert.equal(escapes.length, 1, JSON.stringify(body));
    assert.deepEqual(escapes[0].path, key === sub ? [key] : [key, sub]);
    assert.match(escapes[0].message, pattern);
    await assert.rejects(requireInsideWorkspace(recipe, paths, ws), (e: unknown) => {
      assert.ok(isComposerError(e));
      assert.equal(e.code, 'recipe');
      assert.equal(e.message, escapes[0].message);
      assert.equal(e.location?.file, paths.recipeFile);
      assert.equal(e.location?.line, recipe.locationOf(escapes[0].path).line);
      assert.match(e.hint ?? '', /--allow-outside-workspace/);
      return true;
    });
  }
  // every escape at once, in key order; a URI library is not a folder of this machine
  const all = recipeIn(ws, { library: 's3://bucket/lib', target: `\n  prototype: ${evil}/data/b.npy`, output: `${evil}/out` });
  assert.deepEqual((await workspaceEscapes(all.recipe, all.paths, ws)).map((e) => e.path), [['output'], ['target', 'prototype']]);
  // samples: only the first escaping file is named; matching nothing escapes nothing
  const none = recipeIn(ws, { target: '\n  samples: ../link-out/nothing/*.npy' });
  assert.deepEqual(await workspaceEscapes(none.recipe, none.paths, ws), []);
  fs.writeFileSync(path.join(evil, 'data', 'c.npy'), 'x');
  const two = recipeIn(ws, { target: '\n  samples: ../link-out/data/*.npy' });
  const escapes = await workspaceEscapes(two.recipe, two.paths, ws);
  assert.equal(escapes.length, 1);
  assert.match(escapes[0].message, /b\.npy/);
  // the first escaping file in path order is named (20 files: directory order is not sorted order)
  const many = path.join(evil, 'many');
  fs.mkdirSync(many);
  for (const c of 'tqmzkaxbnreywcvhsjdg') fs.writeFileSync(path.join(many, `${c}.npy`), 'x');
  const sorted = recipeIn(ws, { target: '\n  samples: ../link-out/many/*.npy' });
  assert.deepEqual((await workspaceEscapes(sorted.recipe, sorted.paths, ws)).map((e) => e.message),
    [`sample file \`${path.join(ws, 'link-out', 'many', 'a.npy')}\` resolves to ${path.join(evil, 'many', 'a.npy')}, outside the workspace ${ws}`]);
  // every file is checked, not only the first: an inside file first, an outside one after it
  const mixed = recipeIn(ws, { target: '\n  samples: [../data/*.npy, ../link-out/data/*.npy]' });
  assert.deepEqual((await workspaceEscapes(mixed.recipe, mixed.paths, ws)).map((e) => e.path), [['target', 'samples']]);
  // files only: a folder matched by the glob is not a sample; a folder named alone matches nothing
  fs.mkdirSync(path.join(evil, 'a-folder.npy'));
  const folders = recipeIn(ws, { target: '\n  samples: ../link-out/*.npy' });
  assert.deepEqual(await workspaceEscapes(folders.recipe, folders.paths, ws), []);
  const folderAlone = recipeIn(ws, { target: '\n  samples: ../link-out/data' });
  assert.deepEqual(await workspaceEscapes(folderAlone.recipe, folderAlone.paths, ws), []);
  // an output that is a URI is not a folder of this machine (compose refuses it for another reason)
  const uriOutput = recipeIn(ws, { output: 's3://bucket/out' });
  assert.deepEqual(await workspaceEscapes(uriOutput.recipe, uriOutput.paths, ws), []);
  // a recipe inside `<ws>-evil` confined to `<ws>-evil` is clean
  fs.mkdirSync(path.join(evil, 'recipes'), { recursive: true });
  const own = recipeIn(evil, {});
  assert.deepEqual(await workspaceEscapes(own.recipe, own.paths, evil), []);
  assert.deepEqual((await workspaceEscapes(own.recipe, own.paths, ws)).map((e) => e.path), [['output'], ['library'], ['target', 'samples']], 'from ws, all of it is outside');
});

test('adapterEscapes: the library rows\' adapters outside the workspace, by name, with real and recorded path; URIs pass', () => {
  const rows = [
    { name: 'inside', path: path.join(ws, 'data') },
    { name: 'sibling', path: path.join(evil, 'data') },
    { name: 'prefix', path: path.join(wsevil, 'x') },
    { name: 'linked', path: path.join(ws, 'link-out', 'data') },
    { name: 'linked-in', path: path.join(evil, 'link-in') },
    { name: 'dotted', path: path.join(ws, 'data', '..', '..', 'ws-evil', 'data') },
    { name: 'remote', path: 's3://bucket/adapters/x' },
    { name: 'hub', path: 'hf://org/adapter' },
  ];
  const escapes = adapterEscapes(rows, ws);
  assert.deepEqual(escapes.map((e) => e.name), ['sibling', 'prefix', 'linked', 'dotted']);
  assert.equal(escapes[0].message, `adapter \`sibling\` is read from ${path.join(evil, 'data')} (its library row names ${path.join(evil, 'data')}), outside the workspace ${ws}`);
  assert.equal(escapes[2].message, `adapter \`linked\` is read from ${path.join(evil, 'data')} (its library row names ${path.join(ws, 'link-out', 'data')}), outside the workspace ${ws}`);
  // the workspace given through a symlink: the message names its real path
  assert.match(adapterEscapes(rows.slice(1, 2), path.join(top, 'ws-alias'))[0].message, new RegExp(`outside the workspace ${ws}$`));
  assert.deepEqual(adapterEscapes([], ws), []);
});

test('read roots: reads inside one pass, writes never; messages name the roots; hints say which applies', async () => {
  const roots = [path.join(evil, 'data')];
  assert.equal(isReadable(path.join(evil, 'data', 'b.npy'), ws, roots), true);
  assert.equal(isReadable(path.join(ws, 'link-out', 'data', 'b.npy'), ws, roots), true, 'through a symlink into the root');
  assert.equal(isReadable(path.join(evil, 'other'), ws, roots), false);
  assert.equal(isReadable(wsevil, ws, [`${ws}-evi`]), false, 'a root that is a string prefix only');
  assert.equal(isReadable(path.join(ws, 'data'), ws, []), true);
  assert.equal(isReadable(path.join(evil, 'data'), ws), false, 'no read roots given: the workspace alone');
  // the library and samples in a read root: no escape; the output there: still one, its message without the roots
  const r = recipeIn(ws, { library: `${evil}/data/lib`, target: '\n  samples: ../link-out/data/*.npy', output: `${evil}/data/out` });
  const escapes = await workspaceEscapes(r.recipe, r.paths, ws, roots);
  assert.deepEqual(escapes.map((e) => e.path), [['output']]);
  assert.equal(escapes[0].message, `output \`${evil}/data/out\` resolves to ${evil}/data/out, outside the workspace ${ws}`);
  await assert.rejects(requireInsideWorkspace(r.recipe, r.paths, ws, roots), (e: unknown) => isComposerError(e) && e.hint === OUTPUT_OUTSIDE_HINT);
  // outside both: the message names the roots, the hint is the read one
  const lib = recipeIn(ws, { library: `${wsevil}/lib` });
  const [one] = await workspaceEscapes(lib.recipe, lib.paths, ws, roots);
  assert.equal(one.message, `library \`${wsevil}/lib\` resolves to ${wsevil}/lib, outside the workspace ${ws} and the read root ${evil}/data`);
  await assert.rejects(requireInsideWorkspace(lib.recipe, lib.paths, ws, [...roots, wsevil + '/x']), (e: unknown) => isComposerError(e) && e.hint === OUTSIDE_HINT && /and the read roots .*, .*\/x$/.test(e.message));
  // adapters
  const rows = [{ name: 'in-root', path: path.join(evil, 'data', 'a') }, { name: 'out', path: path.join(evil, 'x') }];
  assert.deepEqual(adapterEscapes(rows, ws, roots).map((e) => [e.name, e.message.endsWith(`outside the workspace ${ws} and the read root ${evil}/data`)]), [['out', true]]);
});


test('a samples glob never walks out of the workspace: a link out of it (to a folder, to the disk\'s root, to a file) is reported, not followed', async () => {
  // a recursive glob over a tree holding links out: before, the walk followed them (a link to `/`
  // walked the whole disk, ~8 s here, on every keystroke in the editor) and only then refused the files
  const tree = path.join(ws, 'walk');
  fs.mkdirSync(path.join(tree, 'inner', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'inner', 'deep', 'mine.npy'), 'x');
  const secretDir = path.join(evil, 'secret');
  fs.mkdirSync(path.join(secretDir, 'nested'), { recursive: true });
  fs.writeFileSync(path.join(secretDir, 'nested', 'theirs.npy'), 'x');
  fs.symlinkSync(secretDir, path.join(tree, 'inner', 'away'));
  fs.symlinkSync(path.join(ws, 'data'), path.join(tree, 'inner', 'data-link')); // a link that stays inside: followed
  try {
    const { files, linksOut } = await sampleFiles([path.join(tree, '**', '*.npy')], { workspaceRoot: ws });
    assert.deepEqual(files, [path.join(tree, 'inner', 'data-link', 'a.npy'), path.join(tree, 'inner', 'deep', 'mine.npy')]);
    assert.deepEqual(linksOut, [{ link: path.join(tree, 'inner', 'away'), real: secretDir }]);
    // the recipe's escape names the link and where it leads
    const { recipe, paths } = recipeIn(ws, { target: '\n  samples: ../walk/**/*.npy' });
    assert.deepEqual((await workspaceEscapes(recipe, paths, ws)).map((e) => e.message),
      [`samples folder \`${path.join(tree, 'inner', 'away')}\` resolves to ${secretDir}, outside the workspace ${ws}`]);
    // a link to the root of the disk: reported at once, nothing under it listed
    fs.symlinkSync('/', path.join(tree, 'inner', 'root'));
    const root = await sampleFiles([path.join(tree, '**', '*.npy')], { workspaceRoot: ws });
    assert.ok(root.linksOut.some((l) => l.real === '/'), JSON.stringify(root.linksOut));
    assert.ok(root.files.every((f) => !isOutsideWorkspace(f, ws)), `files from outside: ${root.files.filter((f) => isOutsideWorkspace(f, ws)).slice(0, 3).join(', ')}`);
    // a recursive glob whose fixed part already leads out: not walked, the folder is named
    const based = await sampleFiles([path.join(ws, 'link-out', '**', '*.npy')], { workspaceRoot: ws });
    assert.deepEqual(based, { files: [], linksOut: [{ link: path.join(ws, 'link-out'), real: evil }] });
    // a read root makes the link a readable place; --allow-outside-workspace follows everything
    const readable = await sampleFiles([path.join(tree, 'inner', '**', '*.npy')], { workspaceRoot: ws, readRoots: [secretDir] });
    assert.ok(readable.files.includes(path.join(tree, 'inner', 'away', 'nested', 'theirs.npy')), readable.files.join(', '));
    assert.deepEqual(readable.linksOut.filter((l) => l.real !== '/'), []);
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
    fs.rmSync(secretDir, { recursive: true, force: true });
  }
});
