#!/usr/bin/env node
// A stand-in for the VS Code executable that @vscode/test-electron's runTests() launches: it runs the
// extension-host test suite inside code-server's Node extension host, the way @vscode/test-web does for the
// web build (extension under development + tests injected into the workbench config's developmentOptions),
// and exits with the suite's exit code (window.codeAutomationExit).
// Usage: codeServerHost.mjs --extensionDevelopmentPath=DIR --extensionTestsPath=FILE [WORKSPACE]   (unknown flags ignored)
// env: CODE_SERVER, CHROMIUM, TIMEOUT_MS (default 240000), VERBOSE, KEEP_TMP, ARTIFACTS (screenshot on timeout),
//      WORKSPACE_TRUST=1 (open the workspace untrusted)
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumBin, makeProfile, startCodeServer } from './codeServer.mjs';

const flags = {};
const positional = [];
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (m) (flags[m[1]] ||= []).push(m[2]);
  else if (!a.startsWith('--')) positional.push(a);
}
const extDev = path.resolve(flags.extensionDevelopmentPath?.[0] ?? '.');
const extTests = path.resolve(flags.extensionTestsPath?.[0] ?? 'out/vscode-tests/index.js');
const workspace = path.resolve(positional[0] ?? '.');
const timeoutMs = Number(process.env.TIMEOUT_MS || 240000);
const t0 = Date.now();
const log = (...a) => console.error(`[host ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// WORKSPACE_TRUST=1: Workspace Trust on and never prompted, so the folder stays untrusted (restricted mode).
const trust = process.env.WORKSPACE_TRUST === '1';
const profile = makeProfile(trust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.emptyWindow': false } : {});
let server;
let browser;
let exitCode;
try {
  server = await startCodeServer(profile, workspace, { trust });
  log(`code-server on ${server.port}`);
  browser = await chromium.launchPersistentContext(profile.dirs.chrome, { executablePath: chromiumBin, headless: true, args: chromiumArgs });
  const page = browser.pages()[0] ?? (await browser.newPage());
  let resolveExit;
  const done = new Promise((r) => { resolveExit = r; });
  // The workbench's log and, with extensionTestsPath set, the extension host's console (mocha) arrive here.
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = util.format(...(args ?? []));
    if (type === 'info') console.log(process.env.VERBOSE ? `[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}` : line);
    else if (process.env.VERBOSE) console.error(`[${type}] ${line}`);
  });
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  if (process.env.VERBOSE) page.on('console', (m) => console.error('[console]', m.type(), m.text().slice(0, 300)));
  // Hook getAttribute of the workbench config <meta> (a page.route rewrite of the HTML broke newer
  // code-server websockets): add developmentOptions.extensions / extensionTestsPath as vscode-remote URIs.
  await page.addInitScript(({ extDev, extTests }) => {
    const original = Element.prototype.getAttribute;
    Element.prototype.getAttribute = function (name) {
      const value = original.call(this, name);
      if (name !== 'data-settings' || this.id !== 'vscode-workbench-web-configuration' || !value) return value;
      const config = JSON.parse(value);
      const uri = (p) => ({ scheme: 'vscode-remote', authority: location.host, path: p });
      config.developmentOptions = { ...(config.developmentOptions ?? {}), extensions: [uri(extDev)], extensionTestsPath: uri(extTests) };
      return JSON.stringify(config);
    };
  }, { extDev, extTests });
  await page.goto(server.url);
  exitCode = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (exitCode === 'timeout') {
    log(`no result after ${timeoutMs / 1000} s`);
    exitCode = 124;
    if (process.env.ARTIFACTS) {
      fs.mkdirSync(process.env.ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(process.env.ARTIFACTS, 'vscode-tests-timeout.png') }).catch(() => {});
    }
  }
  log('exit code', exitCode);
} catch (e) {
  console.error('code-server host failed:', e?.message ?? e);
  exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (process.env.VERBOSE && server) console.error('--- code-server output ---\n' + server.output());
  if (!process.env.KEEP_TMP) fs.rmSync(profile.dirs.tmp, { recursive: true, force: true });
}
process.exit(exitCode);
