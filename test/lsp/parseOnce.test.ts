/**
 * One YAML parse per buffer version: the editor's structure (RecipeDocument) and the planner share the
 * parse the scheduler makes, through a didChange → plan → publish → features round, with the real
 * planner against the LSP fixture. Parses are counted at the one place recipe text becomes YAML
 * (engine/recipe/yamlParse.ts); outcomes are compared with a plan from the text alone.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPlanner } from '../../server/src/engine/planner';
import type { Planner } from '../../server/src/engine/planner';
import { recipeYamlParses } from '../../server/src/engine/recipe/yamlParse';
import { PlanScheduler } from '../../server/src/lsp/planScheduler';
import type { TrackedRecipe } from '../../server/src/lsp/planScheduler';
import { codeLenses } from '../../server/src/service/codeLens';
import { diagnostics } from '../../server/src/service/diagnostics';
import { hover } from '../../server/src/service/hover';
import { GOOD_RECIPE, buildFixture, removeFixture } from './fixture';
import type { Fixture } from './fixture';

let fixture: Fixture;
let planner: Planner;

before(async () => {
  fixture = await buildFixture('ac-parse-once-');
  planner = createPlanner();
});

after(async () => {
  await planner?.dispose();
  removeFixture(fixture);
});

function schedulerWith(options: () => Record<string, unknown>, published: TrackedRecipe[]): PlanScheduler {
  const s: PlanScheduler = new PlanScheduler(planner, {
    planOptions: options,
    debounceMs: () => 0,
    // what the server's publish does: diagnostics and lenses from the current view
    onPlanned: (r) => {
      const view = s.currentView(r);
      diagnostics(view);
      codeLenses(view);
      published.push(r);
    },
    onBusyChange: () => undefined,
    logError: (m, e) => assert.fail(`${m}: ${String(e)}`),
  });
  return s;
}

describe('one parse per buffer version', () => {
  it('didChange → plan → publish → hover parses the text once, and plans as the text alone does', async () => {
    const file = path.join(fixture.recipes, 'parse-once.compose.yaml');
    const options = () => ({ workspaceRoot: fixture.root });
    const published: TrackedRecipe[] = [];
    const s = schedulerWith(options, published);
    try {
      for (const [version, text] of [[1, GOOD_RECIPE], [2, GOOD_RECIPE.replace('k: 4', 'k: 3')]] as const) {
        const before = recipeYamlParses.count;
        s.update('file:///parse-once', file, version, text);
        const view = await s.view('file:///parse-once', 20000);
        assert.ok(view?.outcome?.plan, 'the version planned');
        hover(view, { line: 1, character: 2 }, undefined);
        assert.equal(recipeYamlParses.count - before, 1, `version ${version}: one YAML parse for the editor and the planner`);
        // The same answer as planning the text alone (which parses it itself).
        const alone = await planner.plan(text, file, options());
        assert.deepEqual(view.outcome.plan, alone.plan);
        assert.deepEqual(view.outcome.problems, alone.problems);
      }
      assert.equal(published.length, 2);
    } finally {
      s.dispose();
    }
  });

  it('a re-plan of the same version (settings changed) reuses the parse without keeping the old setting', async () => {
    const file = path.join(fixture.recipes, 'parse-once-default-library.compose.yaml');
    const text = GOOD_RECIPE.replace('library: ../library\n', '');
    let libraryUri: string | undefined = fixture.library;
    const published: TrackedRecipe[] = [];
    const s = schedulerWith(() => ({ workspaceRoot: fixture.root, ...(libraryUri ? { libraryUri } : {}) }), published);
    try {
      s.update('file:///default-library', file, 1, text);
      const first = await s.view('file:///default-library', 20000);
      assert.equal(path.resolve(first?.outcome?.plan?.library?.uri ?? ''), path.resolve(fixture.library), 'the setting names the library');
      const before = recipeYamlParses.count;
      libraryUri = undefined;
      s.replanAll(0);
      await new Promise<void>((resolve) => {
        const poll = () => (published.length >= 2 ? resolve() : setTimeout(poll, 10));
        poll();
      });
      const second = s.currentView(published[1]);
      assert.equal(recipeYamlParses.count, before, 'the same version is not parsed again');
      assert.equal(second.outcome?.plan, undefined, 'without the setting the recipe names no library');
      assert.ok(second.outcome?.problems.some((p) => p.code === 'missing-key' && p.path?.[0] === 'library'), 'missing library: reported again');
    } finally {
      s.dispose();
    }
  });
});
