/**
 * The real language server (`node dist/cli.js lsp --stdio`) under a random-edit storm: thousands of
 * didChange notifications (half-typed YAML, binary junk, multi-megabyte documents, alias bombs),
 * with codeLens / hover / completion requests after every batch. Every request must be answered,
 * and the server's resident memory (/proc/<pid>/status VmRSS) must stay bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { CLI, demoWorkspace, ensureBuilt } from './workspace';
import { inputs, mutateBytes, seededRandom } from './fuzzing';

let ws: string;
let server: ChildProcess;
let connection: MessageConnection;
let stderr = '';

before(async () => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-lsp-');
  server = spawn(process.execPath, [CLI, 'lsp', '--stdio'], { cwd: ws, stdio: ['pipe', 'pipe', 'pipe'] });
  server.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-20_000)));
  connection = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  for (const method of ['window/workDoneProgress/create', 'client/registerCapability', 'workspace/codeLens/refresh', 'workspace/inlayHint/refresh', 'workspace/semanticTokens/refresh', 'workspace/diagnostic/refresh']) connection.onRequest(method, () => null);
  connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => null));
  connection.onRequest('workspace/applyEdit', () => ({ applied: false }));
  connection.onNotification(() => undefined);
  connection.listen();
  await withTimeout(connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(ws).href,
    workspaceFolders: [{ uri: pathToFileURL(ws).href, name: 'ws' }],
    capabilities: { textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] }, completion: {}, codeLens: {} }, workspace: { configuration: true } },
  }), 30_000, 'initialize');
  await connection.sendNotification('initialized', {});
});

after(async () => {
  try {
    await withTimeout(connection.sendRequest('shutdown'), 5000, 'shutdown');
    await connection.sendNotification('exit');
  } catch {
    // the assertion that matters already ran
  }
  connection?.dispose();
  server?.kill('SIGKILL');
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms\nserver stderr: ${stderr.slice(-2000)}`)), ms)))]);
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const ALIAS_BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n';

function stormEdit(r: () => number, valid: string, current: string): string {
  const kind = Math.floor(r() * 100);
  if (kind < 35) return Buffer.from(mutateBytes(r, Buffer.from(current.length > 20_000 ? valid : current))).toString('utf8');
  if (kind < 65) return valid.slice(0, Math.floor(r() * valid.length)); // half-typed
  if (kind < 75) return Buffer.from(Array.from({ length: Math.floor(r() * 4000) }, () => Math.floor(r() * 256))).toString('latin1'); // binary junk
  if (kind < 77) return valid + `# ${'x'.repeat(100)}\n`.repeat(20_000); // ~2 MB
  if (kind < 79) return valid + `deep: ${'['.repeat(5000)}\n`;
  if (kind < 82) return valid + ALIAS_BOMB;
  return valid;
}

test('random-edit storm: every codeLens / hover / completion is answered, memory stays bounded', async () => {
  const file = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const uri = pathToFileURL(file).href;
  const valid = fs.readFileSync(file, 'utf8');
  let version = 1;
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'adapter-compose', version, text: valid } });
  // Warm up: the first plan opens the library and the encoder.
  await withTimeout(connection.sendRequest('textDocument/codeLens', { textDocument: { uri } }), 60_000, 'first codeLens');
  const pid = server.pid!;
  const rssStart = rssKb(pid);
  let rssPeak = rssStart;
  const r = seededRandom(0x15b);
  const edits = inputs(3000);
  const batch = 100;
  let text = valid;
  let answered = 0;
  for (let i = 0; i < edits; i++) {
    text = stormEdit(r, valid, text);
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ text }] });
    if ((i + 1) % batch === 0) {
      const lines = text.split('\n');
      const line = Math.floor(r() * Math.max(1, lines.length));
      const position = { line, character: Math.floor(r() * ((lines[line]?.length ?? 0) + 1)) };
      const requests = [
        connection.sendRequest('textDocument/codeLens', { textDocument: { uri } }),
        connection.sendRequest('textDocument/hover', { textDocument: { uri }, position }),
        connection.sendRequest('textDocument/completion', { textDocument: { uri }, position }),
      ].map((p) => p.then(() => 'result', (e: { code?: number; message?: string }) => {
        // an LSP error response is an answer; the server's internal failures are not acceptable
        assert.ok(e.code === -32800 || e.code === -32801, `request failed: ${e.code} ${e.message}`);
        return 'cancelled';
      }));
      await withTimeout(Promise.all(requests), 30_000, `requests after edit ${i + 1}`);
      answered += requests.length;
      rssPeak = Math.max(rssPeak, rssKb(pid));
    }
  }
  // Back to the valid recipe: the server still plans it and offers its lenses.
  await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: version + 1 }, contentChanges: [{ text: valid }] });
  const lenses = await withTimeout(connection.sendRequest<unknown[] | null>('textDocument/codeLens', { textDocument: { uri } }), 30_000, 'final codeLens');
  assert.ok(Array.isArray(lenses) && lenses.length > 0, `code lenses for the valid recipe: ${JSON.stringify(lenses)}`);
  const rssEnd = rssKb(pid);
  if (process.env.FUZZ_REPORT) console.error(`lsp storm: ${edits} edits, ${answered} requests answered, RSS ${rssStart} → peak ${rssPeak} → end ${rssEnd} kB`);
  assert.equal(answered, (Math.floor(edits / batch)) * 3);
  assert.ok(server.exitCode === null, `server exited: ${stderr.slice(-2000)}`);
  assert.ok(rssPeak < rssStart + 400_000, `RSS grew from ${rssStart} kB to a peak of ${rssPeak} kB`);
  assert.ok(rssEnd < rssStart + 200_000, `RSS after the storm ${rssEnd} kB vs ${rssStart} kB before`);
});
