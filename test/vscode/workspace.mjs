// Prepares the workspace the editor tests open: the CLI's demo (`node dist/cli.js demo --out DIR`), or with
// NO_DEMO=1 (never under CI) the small fixture; plus a copy of a recipe with a planted error, and a manifest
// saying which is which. A demo that cannot be built is an error, not a reason for tests to skip.
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
  const ci = process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());
  if (process.env.NO_DEMO) {
    // the fixture alone, asked for explicitly (the demo-dependent tests then skip); never in CI
    if (ci) throw new Error('NO_DEMO is set under CI=true: the editor tests that need the demo would be skipped');
  } else {
    // The demo is needed by most editor tests: when it cannot be built, stop here with the reason
    // rather than open the fixture and let every test that needs a planned recipe skip.
    if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (or NO_DEMO=1 for the fixture-only tests)`);
    try {
      log = execFileSync(process.execPath, [cli, 'demo', '--out', dir], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300000 });
    } catch (e) {
      throw new Error(`the CLI demo could not be built in ${dir}: ${e.stderr || e.message}`, { cause: e });
    }
    if (recipesIn(dir).length === 0) throw new Error(`the CLI demo wrote no recipe in ${dir}:\n${log}`);
    demo = true;
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
