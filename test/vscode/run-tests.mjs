#!/usr/bin/env node
// npm run test:vscode — the extension-host suite (test/vscode/suite) through @vscode/test-electron's runTests().
// Where code-server is installed (scripts/setup-editor-tests.sh) the "VS Code executable" is codeServerHost.mjs,
// which runs the suite in code-server's Node extension host; elsewhere runTests downloads a desktop VS Code.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { haveCodeServer, repoRoot } from './codeServer.mjs';
import { prepareWorkspace } from './workspace.mjs';

const require = createRequire(import.meta.url);
const { runTests } = require('@vscode/test-electron');
const t0 = Date.now();
const outDir = path.join(repoRoot, 'out/vscode-tests');

if (!fs.existsSync(path.join(repoRoot, 'dist/extension.js'))) {
  console.error('dist/extension.js is missing: run `npm run build` first.');
  process.exit(1);
}
await esbuild.build({
  entryPoints: ['index', 'untrustedIndex', 'extension.suite', 'untrusted.suite'].map((name) => ({ in: path.join(repoRoot, `test/vscode/suite/${name}.ts`), out: name })),
  outdir: outDir, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline',
  external: ['vscode', 'mocha'], logLevel: 'warning',
});

const useCodeServer = haveCodeServer() && !process.env.VSCODE_DESKTOP;

/** One runTests() over a fresh workspace; `untrusted` opens it in restricted mode (code-server only). */
async function runSuite(entry, { untrusted = false } = {}) {
  const workspace = prepareWorkspace();
  console.log(`\n${entry}: workspace ${workspace.dir} (${workspace.demo ? 'CLI demo' : 'fixture only: no dist/cli.js demo'})`);
  if (untrusted) process.env.WORKSPACE_TRUST = '1'; else delete process.env.WORKSPACE_TRUST;
  try {
    await runTests({
      ...(useCodeServer ? { vscodeExecutablePath: path.join(repoRoot, 'test/vscode/codeServerHost.mjs'), reuseMachineInstall: true } : {}),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(outDir, `${entry}.js`),
      launchArgs: [workspace.dir, '--disable-extensions'],
    });
    return true;
  } catch (e) {
    console.error(`${entry} failed: ${e?.message ?? e}`);
    return false;
  } finally {
    if (!process.env.KEEP_TMP) fs.rmSync(workspace.dir, { recursive: true, force: true });
  }
}

let code = 0;
if (!(await runSuite('index'))) code = 1;
// Restricted mode needs Workspace Trust on, which the code-server host controls; a downloaded VS Code trusts test folders.
if (useCodeServer && !process.env.SKIP_UNTRUSTED && !(await runSuite('untrustedIndex', { untrusted: true }))) code = 1;
console.log(`vscode tests: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s (${useCodeServer ? 'code-server' : 'desktop VS Code'})`);
process.exit(code);
