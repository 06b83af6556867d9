// Bundles the CLI/server, the compose worker, the svd merge's mixing worker, the VS Code client and the webview with esbuild.
// Native packages stay external: they ship as node_modules (LanceDB, ONNX Runtime) or are the host (vscode).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const external = ['@lancedb/lancedb', 'apache-arrow', 'onnxruntime-node', 'sharp', 'vscode', '@huggingface/tokenizers'];
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

const nodeEntries = [
  { in: 'server/src/cli/main.ts', out: 'cli' },
  { in: 'server/src/lsp/composeWorker.ts', out: 'composeWorker' },
  { in: 'server/src/engine/lora/mixWorker.ts', out: 'mixWorker' },
  { in: 'client/src/extension.ts', out: 'extension' },
].filter((e) => existsSync(e.in));

mkdirSync('dist', { recursive: true });
await esbuild.build({
  ...common,
  entryPoints: nodeEntries,
  outdir: 'dist',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  // ESM dependencies (tinyglobby's fdir) call createRequire(import.meta.url); give CJS a real URL.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
});

// A webview's script: one self-contained browser bundle (the panels load it under a strict CSP).
const webviewBundle = (entry, out) => esbuild.build({
  ...common,
  entryPoints: [{ in: entry, out }],
  outdir: 'dist',
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
});

if (existsSync('webview/src/main.ts')) {
  await webviewBundle('webview/src/main.ts', 'webview');
  if (existsSync('webview/src/webview.css')) copyFileSync('webview/src/webview.css', 'dist/webview.css');
  const codicons = 'node_modules/@vscode/codicons/dist/codicon.css';
  if (existsSync(codicons)) copyFileSync(codicons, 'dist/codicon.css');
}

// The library map panel: its own small bundle, so it loads without the weights panel's code.
if (existsSync('webview/src/libraryMapMain.ts')) {
  await webviewBundle('webview/src/libraryMapMain.ts', 'libraryMap');
  copyFileSync('webview/src/libraryMap.css', 'dist/libraryMap.css');
}
