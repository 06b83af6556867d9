/**
 * The adapters a library row names are read like the recipe's own paths: inside the workspace unless
 * the user allows otherwise. A committed library can name `/elsewhere/adapter`, and a symlink in the
 * workspace can point out of it; before this, `check` passed and `compose` merged such files (the
 * known gap in docs/reliability.md). Through the planner (the editor's diagnostics) and the real CLI.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { initLibrary, openLibrary } from '../../server/src/engine/library/library';
import { createPlanner } from '../../server/src/engine/planner';
import { ADAPTERS, buildFixture, removeFixture, writePeft, BASE, type Fixture } from '../lsp/fixture';
import { cli, ensureBuilt } from './workspace';
import { ServerClient } from '../lsp/lspClient';
import { pathToFileURL } from 'node:url';
import { ServerCommands } from '../../server/src/protocol';

describe('adapters outside the workspace', () => {
  let fixture: Fixture | undefined;
  let elsewhere = '';
  before(async () => {
    ensureBuilt();
    fixture = await buildFixture('ac-adapter-confine-');
    // a sibling sharing the workspace's path as a string prefix: outside it
    elsewhere = `${fixture.root}-elsewhere`;
    // prostate-f (the nearest to the target) moved out, a symlink left where its row points
    fs.mkdirSync(elsewhere, { recursive: true });
    const moved = path.join(elsewhere, 'prostate-f');
    fs.renameSync(path.join(fixture.root, 'adapters', 'prostate-f'), moved);
    fs.symlinkSync(moved, path.join(fixture.root, 'adapters', 'prostate-f'));
    // a row whose path is absolute, outside: added to the library as `library add` would
    writePeft(path.join(elsewhere, 'pinned-g'), BASE, 2, 99);
    const library = await openLibrary(fixture.library);
    try {
      const record = await adapterRecord(library, { adapterPath: path.join(elsewhere, 'pinned-g'), name: 'pinned-g', tags: [], description: 'outside', source: { vector: Float64Array.from([0, 0, 1, 1]) } });
      await library.add([record]);
    } finally {
      library.close();
    }
  });
  after(() => {
    removeFixture(fixture);
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it('the planner reports each one where the recipe names it, and opens none of them', async () => {
    const text = fs.readFileSync(fixture!.goodRecipe, 'utf8').replace('  k: 4\n', '  adapters: [prostate-a, pinned-g, prostate-f]\n');
    const planner = createPlanner();
    try {
      const outcome = await planner.plan(text, fixture!.goodRecipe, { workspaceRoot: fixture!.root });
      const outside = outcome.problems.filter((p) => p.code === 'adapter-outside-workspace');
      assert.deepEqual(outside.map((p) => [p.severity, p.path]), [['error', ['retrieve', 'adapters', 1]], ['error', ['retrieve', 'adapters', 2]]]);
      assert.match(outside[0].message, new RegExp(`adapter \`pinned-g\` is read from ${path.join(elsewhere, 'pinned-g')} .*outside the workspace ${fixture!.root}$`));
      assert.match(outside[1].message, new RegExp(`adapter \`prostate-f\` is read from ${path.join(elsewhere, 'prostate-f')} \\(its library row names ${path.join(fixture!.root, 'adapters', 'prostate-f')}\\)`));
      // not opened: no integrity or shape finding about them
      assert.ok(!outcome.problems.some((p) => p.code === 'adapter-unreadable' || p.code === 'adapter-changed'), JSON.stringify(outcome.problems));
      // allowed: no such error
      const allowed = await planner.plan(text, fixture!.goodRecipe, { workspaceRoot: fixture!.root, allowOutsideWorkspace: true });
      assert.ok(!allowed.problems.some((p) => p.code === 'adapter-outside-workspace'));
    } finally {
      await planner.dispose();
    }
  });

  it('check and compose refuse a retrieved one (exit 1, located, nothing written); --allow-outside-workspace composes', () => {
    const root = fixture!.root;
    const recipe = fixture!.goodRecipe;
    const line = fs.readFileSync(recipe, 'utf8').split('\n').findIndex((l) => l.startsWith('retrieve:')) + 1;
    const checked = cli(['check', recipe], { cwd: root });
    assert.equal(checked.status, 1, checked.stdout + checked.stderr);
    assert.match(checked.stdout + checked.stderr, new RegExp(`prostate-e\\.compose\\.yaml:${line}:\\d+: .*adapter \`prostate-f\` is read from ${path.join(elsewhere, 'prostate-f')}`));
    const composed = cli(['compose', recipe], { cwd: root });
    assert.equal(composed.status, 1, composed.stderr);
    assert.match(composed.stderr, /outside the workspace .*--allow-outside-workspace/s);
    assert.equal(fs.existsSync(path.join(root, 'out')), false, 'nothing written');
    assert.equal(fs.existsSync(recipe.replace(/\.compose\.yaml$/, '.compose.lock')), false, 'no lock');
    const allowed = cli(['compose', recipe, '--allow-outside-workspace', '--skip-evaluate'], { cwd: root });
    assert.equal(allowed.status, 0, allowed.stderr);
    const lock = JSON.parse(fs.readFileSync(recipe.replace(/\.compose\.yaml$/, '.compose.lock'), 'utf8')) as { candidates: { name: string }[] };
    assert.ok(lock.candidates.some((c) => c.name === 'prostate-f'));
  });

  it('--read-root names a folder the recipe may read, never write: check and compose pass, an output there is still refused', () => {
    const root = fixture!.root;
    const recipe = fixture!.goodRecipe;
    const lockFile = recipe.replace(/\.compose\.yaml$/, '.compose.lock');
    fs.rmSync(lockFile, { force: true });
    const checked = cli(['check', recipe, '--read-root', elsewhere], { cwd: root });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.doesNotMatch(checked.stdout, /outside the workspace/);
    // a read root that does not contain the adapter: still refused, and the message names the read roots
    const unrelated = cli(['check', recipe, '--read-root', path.join(elsewhere, 'pinned-g')], { cwd: root });
    assert.equal(unrelated.status, 1);
    assert.match(unrelated.stdout, new RegExp(`adapter \`prostate-f\` .*outside the workspace ${root} and the read root ${path.join(elsewhere, 'pinned-g')}`));
    const composed = cli(['compose', recipe, '--read-root', elsewhere, '--skip-evaluate'], { cwd: root });
    assert.equal(composed.status, 0, composed.stderr);
    // writing into a read root is not reading
    const into = path.join(fixture!.recipes, 'into-read-root.compose.yaml');
    fs.writeFileSync(into, fs.readFileSync(recipe, 'utf8').replace('output: ../out/prostate-e', `output: ${path.join(elsewhere, 'out')}`));
    const refused = cli(['compose', into, '--read-root', elsewhere], { cwd: root });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, new RegExp(`output \`${path.join(elsewhere, 'out')}\` resolves to .*, outside the workspace ${root}\\b(?! and the read)`));
    assert.equal(fs.existsSync(path.join(elsewhere, 'out')), false, 'nothing written into the read root');
  });

  it('the editor: an error at `retrieve:` without the adapterCompose.readRoots setting, none with it', async () => {
    const text = fs.readFileSync(fixture!.goodRecipe, 'utf8');
    const line = text.split('\n').findIndex((l) => l.startsWith('retrieve:'));
    const diagnosticsWith = async (settings: Record<string, unknown>) => {
      const client = new ServerClient({ workspace: fixture!.root, initializationOptions: { settings: { adapterCompose: settings } } });
      try {
        await client.initialize();
        const uri = client.open(path.join(fixture!.recipes, 'editor.compose.yaml'), text);
        return (await client.diagnosticsFor(uri)).diagnostics.filter((d) => d.code === 'adapter-outside-workspace');
      } finally {
        await client.stop();
      }
    };
    const without = await diagnosticsWith({});
    assert.deepEqual(without.map((d) => [d.range.start.line, d.severity]), [[line, 1]]);
    assert.match(without[0].message, /adapter `prostate-f` is read from .* outside the workspace/);
    assert.deepEqual(await diagnosticsWith({ readRoots: [elsewhere] }), []);
    // a URI is not a folder of this machine: ignored, the error stands
    assert.equal((await diagnosticsWith({ readRoots: ['s3://bucket/adapters'] })).length, 1);
  });

  it('the editor reads a recipe\'s run history only from inside the workspace or a read root', async () => {
    // a library outside naming the workspace's adapters, with a run recorded in it (a compose allowed to read it)
    const library = path.join(elsewhere, 'library');
    const outsideLibrary = await initLibrary(library, { dim: 4 });
    try {
      const names = ['prostate-a', 'prostate-b', 'prostate-c', 'prostate-d'];
      await outsideLibrary.add(await Promise.all(names.map((name) => adapterRecord(outsideLibrary, { adapterPath: path.join(fixture!.root, 'adapters', name), name, tags: [], description: name, source: { vector: Float64Array.from(ADAPTERS[name].prototype) } }))));
    } finally {
      outsideLibrary.close();
    }
    const file = path.join(fixture!.recipes, 'history-outside.compose.yaml');
    fs.writeFileSync(file, fs.readFileSync(fixture!.goodRecipe, 'utf8').replace('library: ../library', `library: ${library}`).replace('output: ../out/prostate-e', 'output: ../out/history-outside'));
    const composed = cli(['compose', file, '--read-root', elsewhere, '--skip-evaluate'], { cwd: fixture!.root });
    assert.equal(composed.status, 0, composed.stderr);
    const historyWith = async (settings: Record<string, unknown>) => {
      const client = new ServerClient({ workspace: fixture!.root, initializationOptions: { settings: { adapterCompose: settings } } });
      try {
        await client.initialize();
        return await client.request<{ recipe: string }[]>('workspace/executeCommand', { command: ServerCommands.history, arguments: [pathToFileURL(file).href] });
      } finally {
        await client.stop();
      }
    };
    await assert.rejects(historyWith({}), new RegExp(`run history of library \`${library}\` is not read: it resolves to ${library}, outside the workspace ${fixture!.root}`));
    const runs = await historyWith({ readRoots: [elsewhere] });
    assert.equal(runs.length, 1, 'the run compose recorded, read from the read root');
  });
});

