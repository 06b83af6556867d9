/**
 * Language-server trust over real LSP traffic: a client that says nothing about trust (Neovim, Helix,
 * Emacs with default settings) gets an untrusted server — `adapterCompose.server.compose` is refused
 * and a recipe's `evaluate` command never runs; settings sent later cannot grant trust; only
 * `initializationOptions.trusted: true` does. Without a workspace folder (rootUri null) a trusted
 * compose writes nothing outside the recipe's folder.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ServerCommands, type EvaluationResult } from '../../server/src/protocol';
import { GOOD_RECIPE, buildFixture, removeFixture, type Fixture } from '../lsp/fixture';
import { ServerClient } from '../lsp/lspClient';

let fixture: Fixture;
let outside: string;

before(async () => {
  fixture = await buildFixture('ac-lsp-trust-');
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lsp-trust-outside-'));
});

after(() => {
  removeFixture(fixture);
  fs.rmSync(outside, { recursive: true, force: true });
});

/** A recipe whose evaluator creates `marker` (argv, no shell): proof that it ran. */
function evaluatingRecipe(name: string, marker: string): string {
  const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); console.log('{}')`;
  const text = GOOD_RECIPE.replace('../out/prostate-e', `../out/${name}`) + `evaluate: { command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(script)}], timeout: 60 }\n`;
  const file = path.join(fixture.recipes, `${name}.compose.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

async function withServer<T>(options: Partial<ConstructorParameters<typeof ServerClient>[0]>, body: (client: ServerClient) => Promise<T>): Promise<T> {
  const client = new ServerClient({ workspace: fixture.root, ...options });
  try {
    await client.initialize();
    return await body(client);
  } finally {
    await client.stop();
  }
}

const composeRequest = (client: ServerClient, file: string) =>
  client.request<{ output: string }>('workspace/executeCommand', { command: ServerCommands.compose, arguments: [pathToFileURL(file).toString()] });
const evaluateRequest = (client: ServerClient, file: string) =>
  client.request<EvaluationResult>('workspace/executeCommand', { command: ServerCommands.evaluate, arguments: [pathToFileURL(file).toString()] });

test('default initialization options: untrusted — compose is refused, the evaluator never runs, later settings cannot grant trust', async () => {
  const marker = path.join(fixture.root, 'evaluated-default');
  const file = evaluatingRecipe('default-trust', marker);
  await withServer({}, async (client) => {
    await assert.rejects(composeRequest(client, file), /untrusted/);
    // the leave-one-out evaluation runs the recipe's evaluator: refused the same way
    await assert.rejects(evaluateRequest(client, file), /untrusted workspace .*trust the workspace/);
    // a workspace's settings (workspace/configuration, didChangeConfiguration) only ever take trust away
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: { adapterCompose: { trusted: true }, trusted: true } });
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(composeRequest(client, file), /untrusted/);
    await assert.rejects(evaluateRequest(client, file), /untrusted/);
  });
  await withServer({ initializationOptions: { settings: { adapterCompose: { debounceMs: 20 } } } }, async (client) => {
    await assert.rejects(composeRequest(client, file), /untrusted/);
  });
  assert.ok(!fs.existsSync(marker), 'the evaluate command did not run');
  assert.ok(!fs.existsSync(path.join(fixture.root, 'out', 'default-trust')), 'nothing was composed');
});

test('initializationOptions.trusted: true (what the VS Code client sends in a trusted workspace, and what other editors opt into) composes and evaluates', async () => {
  const marker = path.join(fixture.root, 'evaluated-trusted');
  const file = evaluatingRecipe('trusted', marker);
  await withServer({ initializationOptions: { trusted: true } }, async (client) => {
    const result = await composeRequest(client, file);
    assert.ok(fs.existsSync(path.join(result.output, 'composition.json')));
    assert.ok(fs.existsSync(marker), 'the evaluate command ran');
    fs.rmSync(marker);
    // trusted, the leave-one-out evaluation scores each strategy's composite with the recipe's command
    const evaluation = await evaluateRequest(client, file);
    const scored = Object.values(evaluation.metrics!.targets[0].strategies);
    assert.ok(scored.length > 0 && scored.every((r) => r!.status === 'ok'), JSON.stringify(evaluation.metrics));
  });
  assert.ok(fs.existsSync(marker), 'the evaluate command ran for the evaluation too');
  // the nested form is read too
  await withServer({ initializationOptions: { settings: { adapterCompose: { trusted: true } } } }, async (client) => {
    const again = GOOD_RECIPE.replace('../out/prostate-e', '../out/trusted-nested');
    const nested = path.join(fixture.recipes, 'trusted-nested.compose.yaml');
    fs.writeFileSync(nested, again);
    await composeRequest(client, nested);
  });
  assert.ok(fs.existsSync(path.join(fixture.root, 'out', 'trusted-nested', 'composition.json')));
});

test('no workspace folder (rootUri null): even trusted, compose writes nothing outside the recipe folder', async () => {
  const escaped = path.join(outside, 'composite');
  const file = path.join(fixture.recipes, 'no-folder.compose.yaml');
  fs.writeFileSync(file, GOOD_RECIPE.replace('../out/prostate-e', escaped));
  const sibling = path.join(fixture.recipes, 'no-folder-sibling.compose.yaml');
  fs.writeFileSync(sibling, GOOD_RECIPE.replace('../out/prostate-e', '../out/no-folder-sibling'));
  await withServer({ noWorkspaceFolder: true, initializationOptions: { trusted: true } }, async (client) => {
    // the recipe's folder is the workspace: its ../library and the absolute output both lie outside it
    await assert.rejects(composeRequest(client, file), /outside the workspace/);
    await assert.rejects(composeRequest(client, sibling), /outside the workspace/);
  });
  assert.ok(!fs.existsSync(escaped), 'no absolute output was written');
  assert.ok(!fs.existsSync(path.join(fixture.root, 'out', 'no-folder-sibling')), 'nor one next to the recipe folder');
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('the editor reports outputs compose must not replace as errors located at the `output:` value', async () => {
  const notes = path.join(fixture.root, 'notes');
  fs.mkdirSync(notes, { recursive: true });
  fs.writeFileSync(path.join(notes, 'mine.txt'), 'mine');
  const cases: [string, string][] = [
    ['.', 'output-contains-recipe'],
    ['..', 'output-contains-recipe'],
    ['../library', 'output-in-library'],
    ['../adapters/prostate-a', 'output-overlaps-adapter'],
    ['../notes', 'output-not-composed'],
  ];
  await withServer({ initializationOptions: { settings: { adapterCompose: { debounceMs: 20 } } } }, async (client) => {
    for (const [i, [output, code]] of cases.entries()) {
      const text = GOOD_RECIPE.replace('../out/prostate-e', output);
      const since = client.notifications.length;
      const uri = client.open(path.join(fixture.recipes, `editor-output-${i}.compose.yaml`), text);
      const published = await client.diagnosticsFor(uri, 1, 20000, since);
      const hit = published.diagnostics.find((d) => d.code === code);
      assert.ok(hit, `${output}: ${JSON.stringify(published.diagnostics)}`);
      assert.equal(hit.severity, 1, 'an error');
      const line = text.split('\n').findIndex((l) => l.startsWith('output:'));
      assert.deepEqual(hit.range.start, { line, character: 'output: '.length });
      client.close(uri);
    }
  });
  assert.equal(fs.readFileSync(path.join(notes, 'mine.txt'), 'utf8'), 'mine');
});
