/**
 * VS Code activation → status bar ready → first code lens, in a real VS Code (code-server + headless
 * Chromium, the e2e suite's helpers in test/vscode/codeServer.mjs), this build against a baseline build
 * in the same run (launches interleaved, medians). The workspace is bench/bigLibrary.ts's 100k × 768
 * library with a recipe opened at startup (the workbench URL's `openFile` payload), so the extension
 * activates on it as a user's would.
 *
 * The times come from the extension itself (client/src/startupTimes.ts): its output channel's log says
 * "ready in N ms" (activate() entered → the language server answered initialize, the status bar says
 * ready), "library shown in N ms" (the status bar shows the library's size), "first code lens in N ms".
 * The bench reads that log file (KEEP_LOG=FILE appends each launch's log there); as a check from
 * outside it also polls the page for the status bar's "N adapters" and a lens with ▶ Compose (times
 * from page.goto, so they include VS Code's own start).
 *
 *   node --import tsx bench/activation.ts [--baseline DIR] [--runs 5] [--rows 100000] [--data DIR]
 *
 * It runs the extension in the repository (dist/, build it first; `node scripts/build.mjs --production`
 * is what the .vsix ships). DIR is an extension folder of another commit: `git archive <commit> | tar -x
 * -C DIR`, `ln -s $PWD/node_modules DIR/node_modules`, `node scripts/build.mjs --production` there
 * (coldStart.ts does the same for the CLI). Needs code-server and Chromium (scripts/setup-editor-tests.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { writeNpy } from '../server/src/engine/prototype/npy';
import { REPO_ROOT } from '../test/lsp/lspClient';
import { arg } from './args';
import { bigLibrary, BENCH_BASE } from './bigLibrary';

const ROWS = Number(arg('rows', '100000'));
const DIM = 768;
const DATA = arg('data', `/work/bench-data/library-${ROWS}x${DIM}`);
const RUNS = Number(arg('runs', '5'));
const BASELINE = arg('baseline', '');
const TIMEOUT_MS = 240_000;

/** The parts of test/vscode/codeServer.mjs used here (a JavaScript module, imported at run time). */
interface Profile { dirs: { tmp: string; chrome: string }; env: NodeJS.ProcessEnv }
interface CodeServer { port: number; url: string; stop(): Promise<void> }
interface CodeServerModule {
  chromiumBin: string;
  chromiumArgs: string[];
  haveCodeServer(): boolean;
  makeProfile(settings?: Record<string, unknown>): Profile;
  startCodeServer(profile: Profile, workspace: string, options?: { log?: fs.WriteStream }): Promise<CodeServer>;
}

const recipe = `compose: 1\nbase: ${BENCH_BASE}\nlibrary: ../library\ntarget:\n  prototype: ../target.proto.npy\nretrieve:\n  k: 8\nweights:\n  strategy: sparse\n  rho: 0.5\nmerge:\n  method: cat\noutput: ../out/activation\n`;

/** What one launch measured: the extension's own marks (ms from activate()) and the page's (ms from goto). */
interface Sample {
  ready: number;
  library: number;
  lens: number;
  lensAfterOpen: number;
  /** status bar ready → library shown: the first plan (library opened, k-NN, weights), without the server's boot */
  libraryAfterReady: number;
  /** page.goto → activate() entered (VS Code's own start: workbench, extension host, activation events) */
  activateAfterGoto: number;
  pageStatus: number;
  pageLens: number;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory() && e.name !== 'chrome') {
      const found = findFile(p, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** `2026-12-04 13:40:01.123 [info] Adapter Composer: ready in 812 ms …` → { wall time of the line, N } */
function logged(log: string, pattern: RegExp): { at: number; ms: number } | undefined {
  for (const line of log.split('\n')) {
    const m = pattern.exec(line);
    const stamp = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+)/.exec(line);
    if (m && stamp) return { at: new Date(`${stamp[1]}T${stamp[2]}`).getTime(), ms: Number(m[1]) };
  }
  return undefined;
}

async function launchOnce(cs: CodeServerModule, extensionDir: string, recipeFile: string): Promise<Sample> {
  const profile = cs.makeProfile();
  const server = await cs.startCodeServer(profile, DATA);
  const browser = await chromium.launchPersistentContext(profile.dirs.chrome, { executablePath: cs.chromiumBin, headless: true, args: cs.chromiumArgs, viewport: { width: 1500, height: 950 } });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    // the extension under test, as codeServerHost.mjs adds it (developmentOptions of the workbench config)
    await page.addInitScript((extDev: string) => {
      const original = Element.prototype.getAttribute; // eslint-disable-line @typescript-eslint/unbound-method -- called with .call below
      Element.prototype.getAttribute = function (this: Element, name: string) {
        const value = original.call(this, name);
        if (name !== 'data-settings' || this.id !== 'vscode-workbench-web-configuration' || !value) return value;
        const config = JSON.parse(value) as { developmentOptions?: Record<string, unknown> };
        config.developmentOptions = { ...(config.developmentOptions ?? {}), extensions: [{ scheme: 'vscode-remote', authority: location.host, path: extDev }] };
        return JSON.stringify(config);
      };
    }, extensionDir);
    const payload = JSON.stringify([['openFile', `vscode-remote://127.0.0.1:${server.port}${recipeFile}`]]);
    const goto = Date.now();
    await page.goto(`${server.url}&payload=${encodeURIComponent(payload)}`);
    const seen = (probe: () => boolean) => page.waitForFunction(probe, null, { timeout: TIMEOUT_MS, polling: 100 }).then(() => Date.now() - goto);
    const [pageStatus, pageLens] = await Promise.all([
      seen(() => Array.from(document.querySelectorAll('.statusbar-item')).some((e) => /\d+ adapters/.test(e.textContent ?? ''))),
      seen(() => Array.from(document.querySelectorAll('.codelens-decoration')).some((e) => (e.textContent ?? '').includes('Compose'))),
    ]);
    // the log line may trail the screen by a flush
    let log = '';
    const end = Date.now() + 30_000;
    while (!/first code lens in/.test(log) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      const file = findFile(profile.dirs.tmp, 'Adapter Composer.log');
      log = file ? fs.readFileSync(file, 'utf8') : '';
    }
    if (process.env.KEEP_LOG) fs.appendFileSync(process.env.KEEP_LOG, `--- ${extensionDir}\n${log}`);
    const ready = logged(log, /ready in (\d+) ms/);
    const library = logged(log, /library shown in (\d+) ms/);
    const lens = logged(log, /first code lens in (\d+) ms/);
    const opened = logged(log, /first recipe opened at (\d+) ms/);
    if (!ready || !library || !lens || !opened) throw new Error(`the extension's log lacks a startup line:\n${log}`);
    return {
      ready: ready.ms, library: library.ms, lens: lens.ms, lensAfterOpen: lens.ms - opened.ms, libraryAfterReady: library.ms - ready.ms,
      activateAfterGoto: ready.at - ready.ms - goto, pageStatus, pageLens,
    };
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    fs.rmSync(profile.dirs.tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const cs = (await import(pathToFileURL(path.join(REPO_ROOT, 'test/vscode/codeServer.mjs')).href)) as CodeServerModule;
  if (!cs.haveCodeServer() || !fs.existsSync(cs.chromiumBin)) throw new Error('code-server or Chromium is missing: run scripts/setup-editor-tests.sh');
  const big = await bigLibrary(DATA, ROWS, DIM);
  writeNpy(path.join(DATA, 'target.proto.npy'), Float64Array.from(big.queries.subarray(0, DIM)));
  const recipeFile = path.join(DATA, 'recipes', 'activation.compose.yaml');
  fs.mkdirSync(path.dirname(recipeFile), { recursive: true });
  fs.writeFileSync(recipeFile, recipe);
  const builds: [string, string][] = [['this build', REPO_ROOT]];
  if (BASELINE) builds.unshift(['baseline', path.resolve(BASELINE)]);
  for (const [, dir] of builds) if (!fs.existsSync(path.join(dir, 'dist/extension.js'))) throw new Error(`${dir}/dist/extension.js is missing: build it first`);
  process.stdout.write(`activation: ${ROWS}-adapter library, ${RUNS} launches each, interleaved${BASELINE ? `; baseline ${BASELINE}` : ''}\n`);
  const samples = new Map<string, Sample[]>(builds.map(([name]) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, dir] of run % 2 === 0 ? builds : [...builds].reverse()) {
      const s = await launchOnce(cs, dir, recipeFile);
      samples.get(name)!.push(s);
      process.stderr.write(`  ${name} #${run + 1}: ${JSON.stringify(s)}\n`);
    }
  }
  const keys: [keyof Sample, string][] = [
    ['ready', 'activate() → status bar ready (server answered initialize)'],
    ['library', 'activate() → status bar shows the library'],
    ['lens', 'activate() → first code lens'],
    ['libraryAfterReady', 'status bar ready → library shown (the first plan)'],
    ['lensAfterOpen', 'recipe opened → first code lens'],
    ['activateAfterGoto', 'page load → activate() entered (VS Code itself)'],
    ['pageStatus', 'page load → "N adapters" on screen'],
    ['pageLens', 'page load → lens on screen'],
  ];
  const names = builds.map(([name]) => name);
  process.stdout.write(`| medians, ms | ${names.join(' | ')} |${BASELINE ? ' ratio |' : ''}\n| --- |${names.map(() => ' ---: |').join('')}${BASELINE ? ' ---: |' : ''}\n`);
  for (const [key, label] of keys) {
    const values = names.map((n) => median(samples.get(n)!.map((s) => s[key])));
    const ratio = BASELINE ? ` ${(values[1] / values[0]).toFixed(2)} |` : '';
    process.stdout.write(`| ${label} | ${values.map((v) => v.toFixed(0)).join(' | ')} |${ratio}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
