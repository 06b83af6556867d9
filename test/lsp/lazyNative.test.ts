/**
 * Cold start: the native packages (LanceDB + apache-arrow, ONNX Runtime, the tokenizers binding) are
 * loaded on first use, not when the CLI or the language server starts (server/src/engine/nativeModules.ts).
 * A preload hook records every require of them; the server must answer initialize and report its status
 * without any, and plan a recipe with a .npy target with LanceDB alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ServerClient, REPO_ROOT } from './lspClient';
import { buildFixture, removeFixture, type Fixture } from './fixture';

const NATIVE = ['@lancedb/lancedb', 'apache-arrow', 'onnxruntime-node', '@huggingface/tokenizers', 'sharp'];

/** A --require hook appending each native package's first load to $AC_LOADED_LOG. */
function writeHook(dir: string): string {
  const hook = path.join(dir, 'record-native.cjs');
  fs.writeFileSync(hook, `
const Module = require('module');
const fs = require('fs');
const watched = new Set(${JSON.stringify(NATIVE)});
const seen = new Set();
const load = Module._load;
Module._load = function (request, ...rest) {
  if (watched.has(request) && !seen.has(request)) { seen.add(request); fs.appendFileSync(process.env.AC_LOADED_LOG, request + '\\n'); }
  return load.call(this, request, ...rest);
};
`);
  return hook;
}

const loaded = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).sort() : []);

test('the CLI prints its version without loading any native package', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lazy-'));
  try {
    const log = path.join(dir, 'loaded.txt');
    const out = execFileSync(process.execPath, ['--require', writeHook(dir), '--import', 'tsx', path.join(REPO_ROOT, 'server/src/cli/main.ts'), '--version'],
      { cwd: REPO_ROOT, env: { ...process.env, AC_LOADED_LOG: log }, encoding: 'utf8' });
    assert.match(out, /\d+\.\d+\.\d+/);
    assert.deepEqual(loaded(log), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the language server starts without native packages and plans a .npy-target recipe with LanceDB only', async () => {
  let fixture: Fixture | undefined;
  let client: ServerClient | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lazy-'));
  try {
    fixture = await buildFixture();
    const log = path.join(dir, 'loaded.txt');
    client = new ServerClient({ workspace: fixture.root, env: { AC_LOADED_LOG: log, NODE_OPTIONS: `--require ${writeHook(dir)}` } });
    await client.initialize();
    await client.waitFor<{ state?: string }>('adapterCompose/status', (p) => p.state === 'idle');
    assert.deepEqual(loaded(log), [], 'nothing native before the first plan');

    const uri = pathToFileURL(fixture.goodRecipe).toString();
    client.open(fixture.goodRecipe, fs.readFileSync(fixture.goodRecipe, 'utf8'));
    const published = await client.diagnosticsFor(uri, 1, 60_000);
    assert.equal(published.diagnostics.filter((d) => d.severity === 1).length, 0, JSON.stringify(published.diagnostics));
    const lenses = await client.request<{ command?: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.ok(lenses.some((l) => l.command?.title.includes('λ=0.05')), 'the plan lens is there');
    assert.deepEqual(loaded(log), ['@lancedb/lancedb', 'apache-arrow']);
  } finally {
    await client?.stop();
    removeFixture(fixture);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
