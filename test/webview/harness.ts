/**
 * One headless-Chromium harness for the webview tests: bundles a webview entry as scripts/build.mjs does,
 * serves it from a local HTTP server under the same CSP as client/src/webviewHtml.ts (the server's origin
 * standing in for the webview's cspSource), with acquireVsCodeApi shimmed so that every message the page
 * posts is recorded in `window.__posted` and every CSP violation in `window.__violations`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '../../.test-artifacts');

const HOST_SHIM = `window.__posted = []; let saved;
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => saved, setState: (s) => { saved = s; } });
window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`;

export interface HarnessOptions {
  /** The webview entry under webview/src (e.g. `main.ts`) and the bundle's name (e.g. `webview.js`). */
  entry: string;
  bundle: string;
  /** The stylesheet under webview/src. */
  css: string;
  /** CSS standing in for VS Code's theme variables. */
  themeCss: string;
  viewport: { width: number; height: number };
}

export interface Harness {
  page: Page;
  /** `http://127.0.0.1:<port>`; `/?theme=light` serves the page with body class vscode-light. */
  origin: string;
  /** Console errors and warnings and page errors, in order. */
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function openHarness(options: HarnessOptions): Promise<Harness> {
  const tmp = mkdtempSync(join(tmpdir(), 'webview-test-'));
  await esbuild.build({
    entryPoints: [join(__dirname, '../../webview/src', options.entry)], bundle: true, platform: 'browser', target: 'es2022',
    format: 'iife', outfile: join(tmp, options.bundle), logLevel: 'warning', legalComments: 'none',
  });
  const files: Record<string, [string, string]> = {
    [`/${options.bundle}`]: ['text/javascript', readFileSync(join(tmp, options.bundle), 'utf8')],
    [`/${options.css}`]: ['text/css', readFileSync(join(__dirname, '../../webview/src', options.css), 'utf8')],
    '/theme.css': ['text/css', options.themeCss],
    '/host-shim.js': ['text/javascript', HOST_SHIM],
  };
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    if (url.pathname === '/') {
      const nonce = 'n0nce' + Math.random().toString(36).slice(2);
      const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${origin}; img-src ${origin} data:; font-src ${origin}`;
      const bodyClass = url.searchParams.get('theme') === 'light' ? 'vscode-light' : 'vscode-dark';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="/theme.css"><link rel="stylesheet" href="/${options.css}"></head>
<body class="${bodyClass}"><main id="root"></main>
<script nonce="${nonce}" src="/host-shim.js"></script><script nonce="${nonce}" src="/${options.bundle}"></script></body></html>`);
      return;
    }
    const file = files[url.pathname];
    if (!file) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': file[0] });
    res.end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const context: BrowserContext = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM, headless: true, viewport: options.viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    page, origin, consoleErrors,
    async close() {
      await context.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
