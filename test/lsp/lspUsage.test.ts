// `adapter-composer lsp` started without a transport (as a new user might type it) is a usage error
// that names the flags, not the client library's stack trace; with a transport it still serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

test('lsp without --stdio or --node-ipc: a usage error naming them, exit 2, no stack trace', () => {
  for (const args of [['lsp'], ['lsp', '--debugger']]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: '', timeout: 30_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    // `lsp` alone names the transports; an unknown flag is refused as for any command (its hint: lsp --help)
    assert.match(r.stderr, args.length === 1 ? /^error: .*--stdio.*--node-ipc/m : /^error: Unknown option '--debugger'[\s\S]*lsp --help/m, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('lsp --stdio still answers initialize', async () => {
  const child = spawn(process.execPath, [CLI, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  let out = '';
  const answered = await new Promise<boolean>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"capabilities"')) resolve(true);
    });
    child.on('exit', () => resolve(false));
  });
  child.kill();
  assert.ok(answered, out);
});
