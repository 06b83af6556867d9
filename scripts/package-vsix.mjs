#!/usr/bin/env node
// npm run package — builds the bundles for production and packs a Linux x64 .vsix with vsce.
// Only the native binaries Linux x64 needs travel (see .vscodeignore); the packed extension is then unpacked
// and its CLI run once, so a missing runtime file fails here rather than on a user's machine.
// Usage: node scripts/package-vsix.mjs [--out FILE] [--no-build]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = path.resolve(outIndex >= 0 ? args[outIndex + 1] : path.join(root, `${pkg.name}-${pkg.version}-linux-x64.vsix`));
const t0 = Date.now();
const step = (what) => console.log(`[package ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);

if (!args.includes('--no-build')) {
  step('building bundles (production)');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
}
for (const f of ['dist/extension.js', 'dist/cli.js', 'dist/webview.js', 'dist/webview.css']) {
  if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing after the build`);
}

step('vsce package --target linux-x64');
const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
// --skip-license: the license is declared in package.json; vsce would otherwise prompt without a LICENSE file.
// --baseContentUrl: the README links to docs/ relatively; vsce needs a base to rewrite them.
const base = 'https://example.invalid/adapter-composer/blob/main';
execFileSync(process.execPath, [vsce, 'package', '--target', 'linux-x64', '--skip-license', '--allow-missing-repository', '--baseContentUrl', base, '--baseImagesUrl', base, '--out', out],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

step('checking the contents');
const listing = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter(Boolean);
const foreign = listing.filter((f) => /(darwin|win32|arm64|musl|\.dll$|\.dylib$)/i.test(f) && /node_modules\//.test(f));
if (foreign.length) throw new Error(`binaries for other platforms in the .vsix:\n  ${foreign.slice(0, 20).join('\n  ')}`);
for (const required of [
  'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/webview.js',
  'extension/dist/libraryMap.js', 'extension/dist/libraryMap.css',
  'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'extension/node_modules/@lancedb/lancedb-linux-x64-gnu/lancedb.linux-x64-gnu.node',
  'extension/node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64.node',
]) {
  if (!listing.includes(required)) throw new Error(`${required} is not in the .vsix`);
}

// Unpack and run the packed CLI: every require of the bundles must resolve inside the .vsix.
const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-check-'));
try {
  execFileSync('unzip', ['-q', out, '-d', unpacked]);
  const cli = path.join(unpacked, 'extension/dist/cli.js');
  // resolve the externals the way dist/cli.js does, from inside the unpacked extension
  const probe = `const r = require('node:module').createRequire(${JSON.stringify(cli)});` +
    `for (const m of ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow', '@huggingface/tokenizers', 'sharp']) r(m);`;
  execFileSync(process.execPath, ['-e', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
  execFileSync(process.execPath, [cli, '--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
} finally {
  fs.rmSync(unpacked, { recursive: true, force: true });
}

const bytes = fs.statSync(out).size;
step(`${path.relative(process.cwd(), out)}: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${listing.length} files`);
