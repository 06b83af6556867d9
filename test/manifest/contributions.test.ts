// The extension manifest against the code: every contributed command is registered by the client,
// every client command is contributed, view/menu/walkthrough references resolve, walkthrough media and
// snippet files exist, and every snippet body (placeholders filled with their defaults) is valid YAML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ClientCommands } from '../../server/src/protocol';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/settings';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const contributes = pkg.contributes;
const clientSource = fs.readdirSync(path.join(ROOT, 'client/src')).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(ROOT, 'client/src', f), 'utf8')).join('\n');
const contributed = new Set<string>(contributes.commands.map((c: { command: string }) => c.command));

test('every contributed command is registered by the client, and every client command is contributed', () => {
  const registered = new Set<string>();
  for (const [key, id] of Object.entries(ClientCommands)) if (clientSource.includes(`ClientCommands.${key}`)) registered.add(id);
  for (const m of clientSource.matchAll(/command\('(adapterCompose\.[\w.]+)'/g)) registered.add(m[1]);
  assert.deepEqual([...contributed].filter((c) => !registered.has(c)), []);
  assert.deepEqual(Object.values(ClientCommands).filter((c) => !contributed.has(c)), []);
});

test('menus, views and walkthrough links name contributed commands and views', () => {
  const views = new Set<string>(Object.values(contributes.views as Record<string, { id: string }[]>).flat().map((v) => v.id));
  for (const [menu, items] of Object.entries(contributes.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const item of items) assert.ok(contributed.has(item.command), `${menu}: ${item.command}`);
  }
  for (const container of Object.keys(contributes.views)) assert.ok(contributes.viewsContainers.activitybar.some((c: { id: string }) => c.id === container));
  for (const walkthrough of contributes.walkthroughs) {
    for (const step of walkthrough.steps) {
      assert.ok(fs.existsSync(path.join(ROOT, step.media.markdown)), step.media.markdown);
      assert.ok(step.completionEvents.length > 0, `${step.id} has a completion event`);
      for (const e of step.completionEvents as string[]) {
        if (e.startsWith('onCommand:')) assert.ok(contributed.has(e.slice(10)), e);
        if (e.startsWith('onView:')) assert.ok(views.has(e.slice(7)), e);
      }
      for (const m of (step.description as string).matchAll(/\(command:([\w.]+)\)/g)) {
        assert.ok(contributed.has(m[1]) || m[1].endsWith('.focus') && views.has(m[1].slice(0, -6)), m[1]);
      }
    }
  }
});

test('snippets exist and each body, placeholders filled, is valid YAML', () => {
  for (const s of contributes.snippets) {
    const snippets = JSON.parse(fs.readFileSync(path.join(ROOT, s.path), 'utf8')) as Record<string, { prefix: string; body: string[] }>;
    assert.ok(Object.keys(snippets).length >= 5);
    for (const [name, snippet] of Object.entries(snippets)) {
      const text = snippet.body.join('\n')
        .replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, '$1')
        .replace(/\$\{\d+:([^}]*)\}/g, '$1')
        .replace(/\$\{\d+\}/g, '')
        .replace(/\$0/g, '')
        .replace(/\$\d+/g, 'x');
      assert.doesNotThrow(() => parseYaml(text), name);
      assert.equal(typeof parseYaml(text), 'object', name);
    }
  }
});

test('every setting the client passes to the server is contributed, with the server\'s default', () => {
  const source = fs.readFileSync(path.join(ROOT, 'client/src/settings.ts'), 'utf8');
  const keys = [...(/const KEYS = \[([^\]]*)\]/.exec(source)?.[1] ?? '').matchAll(/'(\w+)'/g)].map((m) => m[1]);
  assert.ok(keys.length >= 5, 'the client\'s KEYS list was found');
  const properties = contributes.configuration.properties as Record<string, { default?: unknown }>;
  assert.deepEqual(keys.filter((k) => !(`adapterCompose.${k}` in properties)), []);
  const defaults = DEFAULT_SETTINGS as unknown as Record<string, unknown>;
  for (const k of keys) if (k in defaults) assert.deepEqual(properties[`adapterCompose.${k}`].default, defaults[k], k);
});

test('the recipe commands are in the palette from any editor (with no recipe open they ask which one)', () => {
  // Tried from a fresh window with README.md open: typing "Compose" found nothing, since the palette hid the
  // recipe commands outside a recipe; the client now offers the workspace's recipes instead (requireRecipeUri).
  const palette = (contributes.menus.commandPalette ?? []) as { command: string; when?: string }[];
  for (const id of [ClientCommands.compose, ClientCommands.showChart, ClientCommands.pinWeights, ClientCommands.compareWithHead, ClientCommands.evaluate, ClientCommands.showLibraryMap]) {
    const entry = palette.find((e) => e.command === id);
    assert.ok(!entry?.when, `${id} is hidden from the palette when ${entry?.when}`);
  }
});
