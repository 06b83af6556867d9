/**
 * One reader of the `adapterCompose` settings for the server and the VS Code client: the manifest's
 * defaults and enums are the server's, and the `libraryUri` setting names the same library wherever it
 * is read — the server (plans, the library view) and the client's "Open Library" / "Add Adapter".
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chooseLibrary } from '../../client/src/libraryChoice';
import { DEFAULT_SETTINGS, readSettings, settingReadRoots } from '../../server/src/lsp/settings';
import { LibraryRequests } from '../../server/src/protocol';
import type { LibrarySummary } from '../../server/src/protocol';
import { ServerClient } from './lspClient';

const ROOT = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const properties = manifest.contributes.configuration.properties as Record<string, { default?: unknown; enum?: string[] }>;

describe('settings: one reader', () => {
  it("the manifest's defaults are the server's, and every value it offers is accepted", () => {
    const defaults = readSettings({});
    assert.deepEqual(defaults, DEFAULT_SETTINGS);
    for (const key of ['executionProvider', 'debounceMs', 'logLevel'] as const) {
      assert.equal(properties[`adapterCompose.${key}`].default, defaults[key], key);
    }
    assert.equal(properties['adapterCompose.libraryUri'].default, '', 'no default library');
    assert.equal(readSettings({ libraryUri: '' }).libraryUri, undefined);
    for (const key of ['executionProvider', 'logLevel'] as const) {
      for (const value of properties[`adapterCompose.${key}`].enum ?? []) assert.equal(readSettings({ [key]: value })[key], value, `${key}: ${value}`);
    }
  });
});

describe('the readRoots setting', () => {
  it('is machine-scoped and restricted (a repository cannot widen what its recipes read), and read as a list of folders', () => {
    const property = properties['adapterCompose.readRoots'] as { default?: unknown; scope?: string };
    assert.equal(property.scope, 'machine');
    assert.deepEqual(property.default, DEFAULT_SETTINGS.readRoots);
    assert.ok((manifest.capabilities.untrustedWorkspaces.restrictedConfigurations as string[]).includes('adapterCompose.readRoots'));
    assert.deepEqual(readSettings({ readRoots: [' /mnt/loras ', '', 7, null, 'rel/dir'] }).readRoots, ['/mnt/loras', 'rel/dir']);
    assert.deepEqual(readSettings({ readRoots: '/mnt/loras' }).readRoots, [], 'a string is not a list');
    assert.equal(readSettings({ readRoots: Array.from({ length: 100 }, (_, i) => `/r${i}`) }).readRoots.length, 64);
    assert.deepEqual(settingReadRoots(['/mnt/loras', 'rel/dir', 'file:///srv/x', 's3://bucket/a'], '/ws'), ['/mnt/loras', '/ws/rel/dir', '/srv/x']);
  });
});

describe('the libraryUri setting names one library', () => {
  let root: string;
  let client: ServerClient;
  before(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-settings-')));
    fs.mkdirSync(path.join(root, 'recipes'));
    client = new ServerClient({ workspace: root, initializationOptions: { settings: { adapterCompose: { libraryUri: 'libs/main' } } } });
    await client.initialize();
  });
  after(async () => {
    await client?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a relative setting resolves against the workspace folder in the server and in the client alike', async () => {
    const libraries = await client.request<LibrarySummary[]>(LibraryRequests.list, {});
    const fromServer = libraries.find((l) => l.usedBy.includes('setting'))?.uri;
    assert.equal(fromServer, path.join(root, 'libs', 'main'), 'the server: against the workspace folder, as the manifest says');
    const recipeFile = path.join(root, 'recipes', 'a.compose.yaml');
    assert.equal(chooseLibrary({ setting: 'libs/main', recipeFile, workspaceFolder: root }), fromServer, 'the client names the same library');
    // What the plan or the status names is the server's already: taken as it is.
    assert.equal(chooseLibrary({ fromPlan: '/srv/lib', setting: 'libs/main', recipeFile, workspaceFolder: root }), '/srv/lib');
    assert.equal(chooseLibrary({ fromStatus: 's3://bucket/lib', setting: 'libs/main', workspaceFolder: root }), 's3://bucket/lib');
    assert.equal(chooseLibrary({ setting: pathToFileURL(path.join(root, 'x')).href, workspaceFolder: root }), path.join(root, 'x'));
    assert.equal(chooseLibrary({ workspaceFolder: root }), undefined);
  });
});
