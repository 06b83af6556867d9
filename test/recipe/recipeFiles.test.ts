// The CLI's recipe arguments (`check recipes/`, `check 'recipes/**/*.compose.yaml'`, `eval …`): a folder's
// recipes and a glob's matches are found without following a link out of the folder (or out of the
// working folder): a pull request that adds `recipes/x → /` made `check recipes/` in CI walk the whole
// disk and check recipe files from outside the repository. Such a link is skipped and reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandRecipeArgs } from '../../server/src/cli/recipeFiles';

test('recipe folders and globs never follow a link out of the folder; the link is reported, links inside are followed', async () => {
  const top = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-recipe-files-')));
  try {
    const repo = path.join(top, 'repo');
    const elsewhere = path.join(top, 'elsewhere');
    fs.mkdirSync(path.join(repo, 'recipes', 'team'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'shared'), { recursive: true });
    fs.mkdirSync(elsewhere, { recursive: true });
    fs.writeFileSync(path.join(repo, 'recipes', 'a.compose.yaml'), 'compose: 1\n');
    fs.writeFileSync(path.join(repo, 'recipes', 'team', 'b.compose.yaml'), 'compose: 1\n');
    fs.writeFileSync(path.join(repo, 'shared', 'c.compose.yaml'), 'compose: 1\n');
    fs.writeFileSync(path.join(elsewhere, 'theirs.compose.yaml'), 'compose: 1\n');
    fs.symlinkSync(elsewhere, path.join(repo, 'recipes', 'away'));
    fs.symlinkSync('/', path.join(repo, 'recipes', 'root'));
    fs.symlinkSync(path.join(repo, 'shared'), path.join(repo, 'shared-link')); // inside the working folder
    for (const arg of ['recipes', 'recipes/**/*.compose.yaml']) {
      const skipped: string[] = [];
      const files = await expandRecipeArgs([arg], repo, (link, real) => skipped.push(`${link} → ${real}`));
      assert.deepEqual(files, [path.join(repo, 'recipes', 'a.compose.yaml'), path.join(repo, 'recipes', 'team', 'b.compose.yaml')], arg);
      assert.deepEqual(skipped, [`${path.join(repo, 'recipes', 'away')} → ${elsewhere}`, `${path.join(repo, 'recipes', 'root')} → /`], arg);
    }
    // a link that stays in the working folder is followed
    assert.deepEqual(await expandRecipeArgs(['shared-link/*.compose.yaml'], repo), [path.join(repo, 'shared-link', 'c.compose.yaml')]);
    // a folder or glob the user names outside the working folder is theirs to name
    assert.deepEqual(await expandRecipeArgs([elsewhere], repo), [path.join(elsewhere, 'theirs.compose.yaml')]);
  } finally {
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('paths in CLI reports: relative inside the working folder, absolute outside it (never ../../…)', async () => {
  const { displayPath } = await import('../../server/src/cli/recipeFiles');
  const { shownFolder } = await import('../../server/src/cli/commands/demo');
  const cwd = path.join(os.tmpdir(), 'ac-display', 'work');
  assert.equal(displayPath(path.join(cwd, 'recipes', 'a.compose.yaml'), cwd), path.join('recipes', 'a.compose.yaml'));
  assert.equal(displayPath(path.join(cwd, '..x', 'a'), cwd), path.join('..x', 'a'), 'a folder named ..x is inside');
  assert.equal(displayPath(path.join(os.tmpdir(), 'ac-display', 'demo'), cwd), path.join(os.tmpdir(), 'ac-display', 'demo'));
  assert.equal(displayPath(path.dirname(cwd), cwd), path.dirname(cwd));
  assert.equal(displayPath(cwd, cwd), cwd);
  // the demo's "Demo workspace: …/" line and its "Next: adapter-composer plan …" (seen: ../../tmp/ux-trial/demo/)
  assert.equal(shownFolder(cwd, cwd), '.');
  assert.equal(shownFolder(path.join(cwd, 'demo'), cwd), 'demo');
  assert.equal(shownFolder('/tmp/ux-trial/demo', '/work/wt/x'), '/tmp/ux-trial/demo');
});
