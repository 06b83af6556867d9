// Prepares the workspace the editor tests open: the CLI's demo (`node dist/cli.js demo --out DIR`) when it
// is built, else the small fixture; plus a copy of a recipe with a planted error, and a manifest saying which is which.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './codeServer.mjs';

function recipesIn(dir) {
  const found = [];
  const walk = (d, depth) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < 3) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.compose.yaml')) found.push(path.relative(dir, p));
    }
  };
  walk(dir, 0);
  return found.sort();
}

/** A recipe with one wrong value: an unknown strategy when there is one, else a misspelt top-level key. */
function plantError(text) {
  if (/^\s+strategy:\s*\w+/m.test(text)) return { text: text.replace(/^(\s+strategy:\s*)\w+/m, '$1sprase'), needle: 'sprase' };
  return { text: `${text.trimEnd()}\nretrive:\n  k: 3\n`, needle: 'retrive' };
}

/** Returns { dir, manifest, demo: boolean, log }. */
export function prepareWorkspace({ into } = {}) {
  const dir = into ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ac-workspace-'));
  const cli = path.join(repoRoot, 'dist/cli.js');
  let demo = false;
  let log = '';
  if (fs.existsSync(cli) && !process.env.NO_DEMO) {
    try {
      log = execFileSync(process.execPath, [cli, 'demo', '--out', dir], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000 });
      demo = recipesIn(dir).length > 0;
    } catch (e) {
      log = `demo failed: ${e.stderr || e.message}`;
    }
  }
  if (!demo) fs.cpSync(path.join(repoRoot, 'test/vscode/fixture'), dir, { recursive: true });
  const recipes = recipesIn(dir);
  const source = recipes[0];
  const planted = plantError(fs.readFileSync(path.join(dir, source), 'utf8'));
  const broken = path.join(path.dirname(source), 'planted-error.compose.yaml');
  fs.writeFileSync(path.join(dir, broken), planted.text);
  const manifest = { recipe: demo ? source : undefined, broken, brokenNeedle: planted.needle };
  fs.writeFileSync(path.join(dir, '.vscode-test-manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest, demo, log };
}
