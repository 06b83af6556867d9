/**
 * Restricted mode: in an untrusted workspace the extension still validates and plans recipes, but refuses
 * Compose (which reads adapter weights, writes files and may run the recipe's evaluate command), the
 * leave-one-out evaluation (which runs the evaluator) and the write-backs into the recipe (λ/ρ from the
 * panel, Pin Weights, Add to Recipe) — each with a message that says why and how to trust the workspace.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClientCommands, LibraryRequests, ServerCommands, type LibraryPage } from '../../../server/src/protocol';
import type { AdapterComposerApi } from '../../../client/src/extension';

async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 60000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Adapter Composer in an untrusted workspace', function () {
  const root = vscode.workspace.workspaceFolders![0].uri;
  const manifest = JSON.parse(fs.readFileSync(path.join(root.fsPath, '.vscode-test-manifest.json'), 'utf8')) as { recipe?: string; broken: string; brokenNeedle: string };
  let api: AdapterComposerApi;

  before(async () => {
    const extension = vscode.extensions.getExtension<AdapterComposerApi>('adapter-composer.adapter-composer');
    assert.ok(extension);
    api = await extension.activate();
  });

  it('runs in restricted mode', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    assert.ok(api.client.isRunning(), 'the language server runs in restricted mode too');
  });

  it('still validates recipes', async () => {
    const uri = vscode.Uri.joinPath(root, manifest.broken);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await waitFor('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length ? d : undefined;
    });
    assert.ok(diagnostics.some((d) => d.message.includes(manifest.brokenNeedle)));
  });

  /** The refusal `action` showed: it names the action, says why, and says how to trust the workspace. */
  function assertRefusal(action: RegExp, why: RegExp): void {
    const message = api.trustRefusals().at(-1) ?? '';
    assert.match(message, action, `the refusal names the action: ${message}`);
    assert.match(message, /disabled in an untrusted workspace/, message);
    assert.match(message, why, `the refusal says why: ${message}`);
    assert.match(message, /trust this workspace \(Manage Workspace Trust/, `the refusal says how to trust: ${message}`);
  }

  it('still plans, but refuses Compose (and with it the evaluator) with a message, and writes nothing', async function () {
    if (!manifest.recipe) this.skip();
    const recipe = vscode.Uri.joinPath(root, manifest.recipe);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(recipe));
    await waitFor('a plan', () => api.plans.get(recipe)?.plan);
    const before = snapshot(root.fsPath);
    const result = await vscode.commands.executeCommand(ClientCommands.compose, recipe.toString());
    assert.equal(result, undefined, 'Compose refused');
    assertRefusal(/^Compose is disabled/, /writes a new adapter and may run the recipe's evaluate command/);
    // The server refuses too (another client, or a client that skips the check).
    await assert.rejects(api.runServerCommand(ServerCommands.compose, [recipe.toString()]), /untrusted workspace .*trust the workspace/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(snapshot(root.fsPath), before, 'no files written');
  });

  it('refuses the leave-one-out evaluation (it runs the evaluator) with a message, client and server', async function () {
    if (!manifest.recipe) this.skip();
    const recipe = vscode.Uri.joinPath(root, manifest.recipe);
    const before = snapshot(root.fsPath);
    const result = await vscode.commands.executeCommand(ClientCommands.evaluate, recipe.toString());
    assert.equal(result, undefined, 'the evaluation refused');
    assertRefusal(/^The leave-one-out evaluation is disabled/, /runs the recipe's evaluator/);
    await assert.rejects(api.runServerCommand(ServerCommands.evaluate, [recipe.toString()]), /untrusted workspace .*trust the workspace/);
    const shown = api.weightsPanel()?.lastMessage;
    assert.ok(!(shown?.type === 'state' && shown.state.evaluation), 'the panel shows no evaluation');
    assert.deepEqual(snapshot(root.fsPath), before, 'no files written');
  });

  it('refuses the write-backs into the recipe (ρ/λ from the panel, Pin Weights) with a message, and edits nothing', async function () {
    if (!manifest.recipe) this.skip();
    const recipe = vscode.Uri.joinPath(root, manifest.recipe);
    const doc = await vscode.workspace.openTextDocument(recipe);
    const text = doc.getText();
    const plan = await waitFor('a plan', () => api.plans.get(recipe)?.plan);
    assert.equal(await vscode.commands.executeCommand(ClientCommands.pinWeights, recipe.toString()), undefined, 'Pin Weights refused');
    assertRefusal(/^Pin Weights is disabled/, /edits the recipe for you/);
    await vscode.commands.executeCommand(ClientCommands.showChart, recipe.toString());
    const panel = await waitFor('the weights panel', () => api.weightsPanel());
    await panel.receive({ type: 'setLambda', uri: recipe.toString(), lambda: (plan.lambda_path?.lambda_star ?? 1) / 3 });
    assertRefusal(/^Writing ρ\/λ into the recipe is disabled/, /edits the recipe for you/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(doc.getText(), text, 'the recipe is unchanged');
    assert.equal(doc.isDirty, false);
  });

  it('still browses the library, but refuses Remove from Library and writes nothing', async function () {
    if (!manifest.recipe) this.skip();
    const recipe = vscode.Uri.joinPath(root, manifest.recipe);
    const plan = await waitFor('a plan', () => api.plans.get(recipe)?.plan);
    const library = plan.library!.uri;
    const page = await api.client.sendRequest<LibraryPage>(LibraryRequests.page, { library, offset: 0, limit: 5 });
    assert.ok(page.rows.length > 0, 'the view can page the library');
    const before = snapshot(root.fsPath);
    const removed = await vscode.commands.executeCommand(ClientCommands.removeFromLibrary, { kind: 'adapter', library, row: page.rows[0] });
    assert.equal(removed, false, 'Remove from Library refused');
    const after = await api.client.sendRequest<LibraryPage>(LibraryRequests.page, { library, offset: 0, limit: 5 });
    assert.equal(after.total, page.total, 'the library kept its adapters');
    assert.deepEqual(snapshot(root.fsPath), before, 'no files written');
  });

  it('tells the weights panel that Compose is off', async function () {
    if (!manifest.recipe) this.skip();
    await vscode.commands.executeCommand(ClientCommands.showChart, vscode.Uri.joinPath(root, manifest.recipe).toString());
    const message = await waitFor('the panel state', () => {
      const m = api.weightsPanel()?.lastMessage;
      return m?.type === 'state' ? m : undefined;
    }, 30000);
    assert.equal(message.type === 'state' && message.state.trusted, false);
  });
});

/** Every file under the workspace with its size: a compose would add the output folder and the lock. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)}:${fs.statSync(p).size}`);
    }
  };
  walk(dir);
  return out.sort();
}
