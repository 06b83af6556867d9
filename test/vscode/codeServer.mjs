// Starting and stopping code-server (VS Code 1.100 in a browser, with a Node extension host) for the editor tests.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const codeServerBin = process.env.CODE_SERVER || path.join(repoRoot, '.tools/code-server/node_modules/.bin/code-server');
export const chromiumBin = process.env.CHROMIUM || '/usr/bin/chromium';
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function haveCodeServer() {
  return fs.existsSync(codeServerBin);
}

/** Fresh user-data, extensions and XDG folders (code-server writes ~/.config/code-server/config.yaml otherwise). */
export function makeProfile(settings = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-code-server-'));
  const dirs = { tmp, userData: path.join(tmp, 'user-data'), extensions: path.join(tmp, 'extensions'), xdg: path.join(tmp, 'xdg'), chrome: path.join(tmp, 'chrome') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'update.mode': 'none',
    'workbench.tips.enabled': false, 'workbench.enableExperiments': false, 'editor.codeLens': true,
    'window.commandCenter': false, 'git.enabled': false, 'files.autoSave': 'off', ...settings,
  }, null, 2));
  const env = { ...process.env, XDG_CONFIG_HOME: dirs.xdg, XDG_DATA_HOME: path.join(tmp, 'xdg-data') };
  return { dirs, env };
}

export function installVsix(profile, vsix) {
  execFileSync(codeServerBin, ['--install-extension', vsix, '--extensions-dir', profile.dirs.extensions, '--user-data-dir', profile.dirs.userData],
    { env: profile.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

/**
 * Starts code-server on a free loopback port in its own process group; resolves when it listens.
 * `trust: true` turns Workspace Trust on (a fresh folder then opens in restricted mode).
 */
export async function startCodeServer(profile, workspace, { log, trust = false } = {}) {
  const port = await freePort();
  const child = spawn(codeServerBin, ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', ...(trust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override',
    '--extensions-dir', profile.dirs.extensions, '--user-data-dir', profile.dirs.userData, workspace],
  { env: profile.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b) => { output += b; if (log) log.write(b); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('code-server did not start in 60 s:\n' + output)), 60000);
    child.stdout.on('data', (b) => { if (/HTTP server listening/.test(String(b))) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`code-server exited ${code}:\n${output}`)); });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`,
    output: () => output,
    /** Kills the whole group: killing only the main process leaves the extension host alive for hours. */
    async stop() {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      await new Promise((r) => setTimeout(r, 1000));
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    },
  };
}
