/**
 * The real-editor suites as node tests, so `npm test` reports them in one summary:
 * the extension-host suite (mocha, full vscode API) inside code-server, and the end-to-end UI test
 * of the packaged .vsix in code-server driven by headless Chromium. Both need
 * `scripts/setup-editor-tests.sh` (CI runs it); locally they are skipped when code-server is absent.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toolSkip } from '../toolSkip';

const root = path.resolve(__dirname, '../..');
const codeServer = path.join(root, '.tools/code-server/node_modules/.bin/code-server');
const ready = fs.existsSync(codeServer) && fs.existsSync('/usr/bin/chromium');
const skip = toolSkip(ready, 'code-server/Chromium not installed (run scripts/setup-editor-tests.sh)');

function run(script: string, timeoutMs: number): void {
  const r = spawnSync(process.execPath, [path.join(root, script)], { cwd: root, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env } });
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  if (r.status !== 0) process.stderr.write(output.slice(-8000));
  assert.equal(r.status, 0, `${script} exited ${r.status ?? r.signal}; last output:\n${output.slice(-2000)}`);
}

test('extension-host suite runs in code-server (trusted and untrusted workspaces)', { skip, timeout: 600_000 }, () => {
  assert.ok(ready, 'code-server and Chromium must be installed in CI');
  run('test/vscode/run-tests.mjs', 590_000);
});

test('end-to-end: the .vsix in code-server shows lenses, problems, composes and draws the charts', { skip, timeout: 600_000 }, () => {
  assert.ok(ready, 'code-server and Chromium must be installed in CI');
  run('test/vscode/e2e.mjs', 590_000);
});
