/**
 * Adapter Composer inside a real VS Code extension host (code-server here, desktop VS Code elsewhere):
 * activation, the language id, diagnostics, code lenses, the weights panel, λ, Compose and Pin Weights,
 * against the workspace that test/vscode/workspace.mjs prepared (the CLI's demo plus a planted error).
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PlanJson } from '../../../server/src/engine/types';
import { ClientCommands, LanguageId, LibraryRequests, ServerCommands, type EvaluationResult, type LibraryMap, type LibraryPage } from '../../../server/src/protocol';
import type { AdapterComposerApi } from '../../../client/src/extension';
import type { ComposeResult } from '../../../client/src/composeCommand';
import { readSettings } from '../../../client/src/settings';

const EXTENSION_ID = 'adapter-composer.adapter-composer';

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 60000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return folder.uri;
}

/** The manifest the workspace preparer wrote: which recipe plans, which has the planted error. */
interface Manifest { recipe?: string; broken: string; brokenNeedle: string }
function manifest(): Manifest {
  return JSON.parse(fs.readFileSync(path.join(workspaceRoot().fsPath, '.vscode-test-manifest.json'), 'utf8')) as Manifest;
}

describe('Adapter Composer in the extension host', function () {
  let api: AdapterComposerApi;
  let recipe: vscode.Uri | undefined;
  let recipeText = '';

  before(async function () {
    const extension = vscode.extensions.getExtension<AdapterComposerApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is loaded`);
    api = await extension.activate();
    const m = manifest();
    if (m.recipe) {
      recipe = vscode.Uri.joinPath(workspaceRoot(), m.recipe);
      recipeText = fs.readFileSync(recipe.fsPath, 'utf8');
    }
    console.log(`    VS Code ${vscode.version}, Node ${process.versions.node}, remote ${vscode.env.remoteName ?? 'none'}`);
  });

  after(async () => {
    // leave the demo recipe as it was (Pin Weights / λ edit it)
    if (recipe && recipeText) fs.writeFileSync(recipe.fsPath, recipeText);
  });

  it('activates on the workspace and starts the language server', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(extension.isActive, true);
    assert.ok(api.client.isRunning(), 'language client running');
    const commands = await vscode.commands.getCommands(true);
    for (const id of Object.values(ClientCommands)) assert.ok(commands.includes(id), `command ${id} registered`);
  });

  it('a repository cannot widen what its recipes read: .vscode/settings.json does not set adapterCompose.readRoots (machine scope)', async () => {
    const file = path.join(workspaceRoot().fsPath, '.vscode', 'settings.json');
    const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, JSON.stringify({ 'adapterCompose.readRoots': ['/'], 'adapterCompose.libraryPollMs': 2001 }));
      // the file is read (a window-scoped setting in it takes effect) ...
      await waitFor('the workspace settings read', () => vscode.workspace.getConfiguration('adapterCompose').get('libraryPollMs') === 2001, 20000);
      // ... the machine-scoped one is not, and cannot be written there
      assert.deepEqual(vscode.workspace.getConfiguration('adapterCompose').get('readRoots'), []);
      assert.deepEqual(readSettings().readRoots, [], 'the client reads none either');
      await assert.rejects(Promise.resolve(vscode.workspace.getConfiguration('adapterCompose').update('readRoots', ['/'], vscode.ConfigurationTarget.Workspace)));
    } finally {
      if (before === undefined) fs.rmSync(file, { force: true });
      else fs.writeFileSync(file, before);
    }
  });

  it('gives *.compose.yaml files the adapter-compose language', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), manifest().broken));
    assert.equal(doc.languageId, LanguageId);
  });

  it('opens *.compose.lock as JSON, validated against schemas/lock.schema.json', async () => {
    const uri = vscode.Uri.joinPath(workspaceRoot(), 'schema-check.compose.lock');
    fs.writeFileSync(uri.fsPath, '{ "format": 1 }\n'); // missing every other required field
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, 'json');
      await vscode.window.showTextDocument(doc);
      const problems = await waitFor('schema diagnostics on the lock', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length ? d : undefined;
      });
      assert.ok(problems.some((d) => /missing|required/i.test(d.message)), problems.map((d) => d.message).join(' | '));
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      fs.rmSync(uri.fsPath, { force: true });
    }
  });

  it('shows a diagnostic for the planted error', async () => {
    const m = manifest();
    const uri = vscode.Uri.joinPath(workspaceRoot(), m.broken);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diagnostics = await waitFor('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length ? d : undefined;
    });
    const planted = diagnostics.find((d) => d.message.includes(m.brokenNeedle));
    assert.ok(planted, `a diagnostic mentions "${m.brokenNeedle}": ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.equal(planted.severity, vscode.DiagnosticSeverity.Error);
    const line = doc.lineAt(planted.range.start.line).text;
    assert.ok(line.includes(m.brokenNeedle) || planted.range.start.line > 0, `range points at the error (line: "${line}")`);
  });

  describe('with the demo library', function () {
    before(function () {
      if (!recipe) this.skip(); // no demo (CLI not built): only the planted-error tests ran
    });

    it('receives a plan for the recipe', async () => {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(recipe!));
      const held = await waitFor('a plan notification', () => api.plans.get(recipe!)?.plan);
      assert.ok(held.candidates.length > 0, 'candidates retrieved');
      const selected = held.strategies[held.strategy];
      assert.ok(selected, `the selected strategy ${held.strategy} was solved`);
      const sum = Object.values(selected.weights).reduce((s, w) => s + w, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `weights sum to 1 (${sum})`);
    });

    it('shows the weights in code lenses', async () => {
      const plan = api.plans.get(recipe!)!.plan!;
      const lenses = await waitFor('code lenses with weights', async () => {
        const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', recipe!);
        return found?.some((l) => /\d\.\d/.test(l.command?.title ?? '')) ? found : undefined;
      });
      const titles = lenses.map((l) => l.command?.title ?? '');
      const top = Object.entries(plan.strategies[plan.strategy]!.weights).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0][0];
      assert.ok(titles.some((t) => t.includes(top)), `a lens names the top-weighted adapter ${top}: ${titles.join(' | ')}`);
      assert.ok(lenses.some((l) => l.command?.command === ClientCommands.compose), 'a Compose lens');
    });

    it('logs how long it took to be ready, to show the library and to give the first code lens', async () => {
      const times = await waitFor('the startup times', () => {
        const t = api.startupTimes();
        return t.ready !== undefined && t.library !== undefined && t.lens !== undefined ? t : undefined;
      });
      // the order, not the speed: the server answers initialize before any plan reaches the status bar or a lens
      assert.ok(times.ready! <= times.library! && times.ready! <= times.lens!, JSON.stringify(times));
      // the output channel's log file (in the extension's log folder, or beside it)
      const logs = (dir: string, depth = 0): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() && depth < 2 ? logs(path.join(dir, e.name), depth + 1) : e.name.endsWith('.log') ? [path.join(dir, e.name)] : []);
      const text = await waitFor('the startup lines in the log', () => {
        const all = logs(path.dirname(api.logUri.fsPath)).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
        return all.includes('Adapter Composer: first code lens in') ? all : undefined;
      });
      assert.ok(text.includes(`Adapter Composer: ready in ${times.ready} ms (language server answered initialize)`), 'the ready line with the same time');
      assert.ok(text.includes(`Adapter Composer: library shown in ${times.library} ms`), 'the library line');
      assert.ok(text.includes(`Adapter Composer: first code lens in ${times.lens} ms`), 'the first-lens line');
    });

    it('opens the weights panel with the plan', async () => {
      const panel = await vscode.commands.executeCommand<unknown>(ClientCommands.showChart, recipe!.toString());
      assert.ok(panel, 'Show Weights Chart returns the panel');
      const message = await waitFor('the panel state', () => {
        const m = api.weightsPanel()?.lastMessage;
        return m?.type === 'state' && m.state.plan ? m : undefined;
      }, 30000);
      assert.equal(message.type, 'state');
      if (message.type === 'state') {
        assert.equal(vscode.Uri.parse(message.state.uri).fsPath, recipe!.fsPath);
        assert.equal(message.state.trusted, true);
      }
    });

    it('with no recipe open, Show Weights Chart asks which recipe, opens it and charts it', async function () {
      this.timeout(90000);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      // the first recipe as the pick sorts them: by folder, then name (read from the disk, not from findFiles)
      const root = workspaceRoot().fsPath;
      const all: string[] = [];
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (e.name === 'node_modules') continue;
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p); else if (/\.compose\.ya?ml$/.test(e.name)) all.push(p);
        }
      };
      walk(root);
      const expected = [...all].sort((a, b) => path.relative(root, a).localeCompare(path.relative(root, b)))[0];
      const shown = vscode.commands.executeCommand<unknown>(ClientCommands.showChart);
      // the pick is open once accepting it settles the command; retried until it has appeared
      let settled = false;
      void shown.then(() => { settled = true; }, () => { settled = true; });
      await waitFor('the recipe pick to be accepted', async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        await new Promise((r) => setTimeout(r, 300));
        return settled;
      }, 30000);
      assert.ok(await shown, 'the panel opened');
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, expected, 'the picked recipe is open');
      const message = await waitFor('the panel state of the picked recipe', () => {
        const m = api.weightsPanel()?.lastMessage;
        return m?.type === 'state' && vscode.Uri.parse(m.state.uri).fsPath === expected ? m : undefined;
      }, 60000);
      assert.equal(message.type, 'state');
    });

    it('composes the adapter and writes the lock', async function () {
      this.timeout(240000);
      const result = await vscode.commands.executeCommand<ComposeResult | undefined>(ClientCommands.compose, recipe!.toString());
      assert.ok(result, 'Compose returned a result');
      assert.ok(result.output, 'the result names the output folder');
      assert.ok(fs.existsSync(result.output), `output ${result.output} exists`);
      const files = fs.readdirSync(result.output);
      assert.ok(files.includes('adapter_config.json'), `adapter_config.json in ${files.join(', ')}`);
      assert.ok(files.some((f) => f.endsWith('.safetensors')), `a safetensors file in ${files.join(', ')}`);
      assert.ok(result.lock && fs.existsSync(result.lock), `lock file ${result.lock}`);
    });

    it('runs the leave-one-out evaluation in the panel: cancel leaves nothing behind, a full run matches the CLI', async function () {
      this.timeout(240000);
      const scratch = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ac-eval-')).sort();
      const files = () => fs.readdirSync(workspaceRoot().fsPath, { recursive: true }).map(String).sort();
      const beforeScratch = scratch();
      const beforeFiles = files();
      const panelEvaluation = () => {
        const m = api.weightsPanel()?.lastMessage;
        return m?.type === 'state' && vscode.Uri.parse(m.state.uri).fsPath === recipe!.fsPath ? m.state.evaluation : undefined;
      };
      // Cancel from the panel while it runs (as its Cancel button does).
      const first = vscode.commands.executeCommand<EvaluationResult | undefined>(ClientCommands.evaluate, recipe!.toString());
      await waitFor('the panel showing the evaluation running', () => panelEvaluation()?.state === 'running', 30000);
      await api.weightsPanel()!.receive({ type: 'cancelEvaluation', uri: recipe!.toString() });
      assert.equal(await first, undefined, 'a cancelled evaluation returns nothing');
      assert.equal(panelEvaluation()?.state, 'cancelled');
      await waitFor('the server to remove its scratch folder', () => JSON.stringify(scratch()) === JSON.stringify(beforeScratch), 10000);
      assert.deepEqual(files(), beforeFiles, 'nothing written in the workspace');

      // A full run: the same numbers as `adapter-composer eval <recipe> --leave-one-out --json`.
      const result = await vscode.commands.executeCommand<EvaluationResult | undefined>(ClientCommands.evaluate, recipe!.toString());
      assert.ok(result, 'the evaluation returns its result');
      const shown = panelEvaluation();
      assert.equal(shown?.state, 'done');
      const cli = JSON.parse(execFileSync(process.execPath, [path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist/cli.js'), 'eval', recipe!.fsPath, '--leave-one-out', '--json'], {
        encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 64 * 1024 * 1024,
      })) as EvaluationResult['leaveOneOut'];
      assert.deepEqual(result.leaveOneOut.targets.map((t) => t.target), cli.targets.map((t) => t.target));
      for (const s of cli.strategies) {
        const got = result.leaveOneOut.summary[s]!.mean_delta_rel_error;
        const want = cli.summary[s]!.mean_delta_rel_error;
        assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, want), `${s}: ${got} vs the CLI's ${want}`);
      }
      assert.deepEqual(scratch(), beforeScratch, 'no scratch folder left');
      assert.deepEqual(files(), beforeFiles, 'nothing written in the workspace');
    });

    it('sets λ from the panel through the server', async function () {
      const plan = api.plans.get(recipe!)!.plan as PlanJson;
      if (!plan.lambda_path) this.skip();
      const doc = await vscode.workspace.openTextDocument(recipe!);
      const lambda = Number((plan.lambda_path.lambda_star / 3).toPrecision(3));
      // A recipe with an absolute `lambda` gets λ; one with the scale-free `rho` (the demo's) gets ρ = λ/λ*.
      const absolute = /^\s*lambda:/m.test(doc.getText());
      const rho = Number((lambda / plan.lambda_path.lambda_star).toPrecision(3)); // written to 3 significant figures
      const [key, value] = absolute ? ['lambda', lambda] : ['rho', rho];
      await api.runServerCommand(ServerCommands.setLambda, [recipe!.toString(), lambda]);
      await waitFor(`${key} written into the recipe`, () => new RegExp(`${key}:\\s*${String(value).replace('.', '\\.')}`).test(doc.getText()), 15000);
    });

    it('drives the status bar from the server status', async () => {
      const plan = api.plans.get(recipe!)!.plan!;
      const status = await waitFor('a status with the library size', () => (api.status.last?.librarySize !== undefined ? api.status.last : undefined), 30000);
      if (plan.library) assert.equal(status.librarySize, plan.library.size);
    });

    it('opens the library through the CLI', async () => {
      const plan = api.plans.get(recipe!)!.plan!;
      const adapters = await vscode.commands.executeCommand<{ name: string }[] | undefined>(ClientCommands.openLibrary);
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.ok(adapters, 'Open Library lists the adapters');
      if (plan.library) assert.equal(adapters.length, plan.library.size);
      for (const c of plan.candidates) assert.ok(adapters.some((a) => a.name === c.name), `${c.name} is in the library`);
    });

    it('draws the library map of the recipe (server PCA) in its panel', async () => {
      const plan = api.plans.get(recipe!)!.plan!;
      const map = await vscode.commands.executeCommand<LibraryMap | undefined>(ClientCommands.showLibraryMap, recipe!.toString());
      assert.ok(map, 'Show Library Map returns the map');
      assert.deepEqual(map.points.filter((p) => p.role === 'candidate').map((p) => p.name).sort(), plan.candidates.map((c) => c.name).sort());
      assert.equal(map.explained.length, 2);
      assert.ok(map.explained[0] >= map.explained[1] && map.explained[0] + map.explained[1] <= 1 + 1e-9);
      const message = await waitFor('the map panel message', () => api.libraryMap()?.lastMessage, 30000);
      assert.equal(message.type, 'map');
    });

    it('adds a library adapter to exclude and toggles it out again, through the server', async () => {
      const doc = await vscode.workspace.openTextDocument(recipe!);
      await vscode.window.showTextDocument(doc);
      const page = await api.client.sendRequest<LibraryPage>(LibraryRequests.page, { library: api.plans.get(recipe!)!.plan!.library!.uri, offset: 0, limit: 50 });
      const plan = api.plans.get(recipe!)!.plan!;
      const original = doc.getText();
      const outsider = page.rows.find((r) => !plan.candidates.some((c) => c.name === r.name) && !original.includes(r.name));
      assert.ok(outsider, 'an adapter that is not a candidate and not named in the recipe');
      await api.runServerCommand(ServerCommands.addToRecipe, [recipe!.toString(), outsider.name, 'exclude']);
      await waitFor('the adapter in exclude', () => doc.getText().includes(outsider.name), 15000);
      await api.runServerCommand(ServerCommands.addToRecipe, [recipe!.toString(), outsider.name, 'toggle-exclude']);
      await waitFor('the adapter out of exclude', () => !doc.getText().includes(outsider.name), 15000);
      await doc.save();
    });

    it('Show Card opens a read-only card, the same tab again on a second click, never a dirty untitled buffer', async () => {
      const doc = await vscode.workspace.openTextDocument(recipe!);
      await vscode.window.showTextDocument(doc);
      const plan = await waitFor('a plan', () => api.plans.get(recipe!)?.plan, 60000);
      const library = plan.library!.uri;
      const page = await api.client.sendRequest<LibraryPage>(LibraryRequests.page, { library, offset: 0, limit: 1 });
      const row = page.rows[0];
      const node = { kind: 'adapter', library, row };
      const first = await vscode.commands.executeCommand<string | undefined>(ClientCommands.showAdapterCard, node);
      assert.ok(first?.includes(row.name), `the card names ${row.name}`);
      await vscode.commands.executeCommand(ClientCommands.showAdapterCard, node);
      const cards = vscode.workspace.textDocuments.filter((d) => d.getText().includes(row.name) && d.uri.toString() !== recipe!.toString() && d.languageId === 'markdown');
      assert.equal(cards.length, 1, `one card document: ${cards.map((d) => d.uri.toString()).join(', ')}`);
      assert.equal(cards[0].isUntitled, false, 'not an untitled buffer');
      assert.equal(cards[0].isDirty, false, 'closing it asks nothing');
    });

    it('pins the weights as manual weights', async () => {
      const doc = await vscode.workspace.openTextDocument(recipe!);
      await vscode.commands.executeCommand(ClientCommands.pinWeights, recipe!.toString());
      await waitFor('manual weights in the recipe', () => /strategy:\s*manual/.test(doc.getText()), 15000);
      await doc.save();
    });
  });
});
