#!/usr/bin/env node
// `npm pack`'s prepack step (and `--clean`, its postpack): builds the bundles for production and vendors
// the two runtime packages whose install would otherwise hurt a user of the CLI npm package into
// dist/node_modules, where dist/cli.js and dist/composeWorker.js find them first:
//   - onnxruntime-node: its postinstall script downloads the CUDA provider libraries from api.nuget.org on
//     Linux x64 (outside the npm registry; offline it crashes with ENOTFOUND and fails `npm install -g`).
//     Vendored with its JavaScript, every platform's bin/ folder (less the duplicate macOS dylib and the
//     unused DirectML.dll), and a package.json without scripts. The CUDA libraries stay a user's choice (see `adapter-composer doctor`).
//   - @lancedb/lancedb: its optionalDependencies name @huggingface/transformers and openai (about 350 MB,
//     and transformers brings another onnxruntime-node with the same install script). Vendored with a
//     package.json whose optionalDependencies are only LanceDB's own platform packages; the package's own
//     optionalDependencies name those (npm installs the one matching the user's os/cpu/libc).
// The copies come from the installed node_modules (installed by `npm ci` against the lockfile's integrity).
// Usage: node scripts/prepare-npm.mjs [--clean] [--no-build]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vendor = path.join(root, 'dist/node_modules');
const args = process.argv.slice(2);

fs.rmSync(vendor, { recursive: true, force: true });
if (args.includes('--clean')) process.exit(0);

if (!args.includes('--no-build')) {
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
}

const nodeModules = fs.realpathSync(path.join(root, 'node_modules'));
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const pkg = readJson(path.join(root, 'package.json'));

function copyTree(from, to, keep = () => true) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.name === 'node_modules' || !keep(src)) continue;
    if (entry.isDirectory()) copyTree(src, path.join(to, entry.name), keep);
    else if (entry.isFile()) fs.copyFileSync(src, path.join(to, entry.name));
  }
}

/** Copies an installed package and writes its package.json through `edit`. */
function vendorPackage(name, edit, keep) {
  const from = path.join(nodeModules, name);
  const manifest = readJson(path.join(from, 'package.json'));
  const to = path.join(vendor, name);
  copyTree(from, to, keep);
  const edited = edit(manifest);
  fs.writeFileSync(path.join(to, 'package.json'), `${JSON.stringify(edited, null, 2)}\n`);
  return edited;
}

const withoutScripts = (m) => { const { scripts, devDependencies, ...rest } = m; return rest; };

// onnxruntime-node: no install script; its runtime dependency is onnxruntime-common (adm-zip and
// global-agent serve only the install script). Sources (lib/), maps and the script/ folder stay out.
const ort = vendorPackage('onnxruntime-node', (m) => ({ ...withoutScripts(m), dependencies: { 'onnxruntime-common': m.dependencies['onnxruntime-common'] } }),
  (src) => {
    const rel = path.relative(path.join(nodeModules, 'onnxruntime-node'), src);
    if (/^(lib|script)(\/|$)/.test(rel) || rel.endsWith('.map')) return false;
    // macOS: libonnxruntime.<x.y.z>.dylib is a byte-identical copy of libonnxruntime.1.dylib, which the binding loads.
    // Windows: DirectML.dll serves only the DirectML provider, never asked for; onnxruntime.dll (x64 and arm64)
    // delay-loads it, so the other providers load without it (see scripts/platforms.mjs, test/packaging).
    return !/^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(path.basename(src)) && path.basename(src) !== 'DirectML.dll';
  });
vendorPackage('onnxruntime-common', withoutScripts, (src) => !/(\.map|\/lib)$/.test(src));

// @lancedb/lancedb: its own platform packages only, and those must be what the package names.
const lance = vendorPackage('@lancedb/lancedb', (m) => ({
  ...withoutScripts(m),
  optionalDependencies: Object.fromEntries(Object.entries(m.optionalDependencies).filter(([n]) => n.startsWith('@lancedb/lancedb-'))),
}), (src) => !/\.map$/.test(src) && !/(RUST_THIRD_PARTY_LICENSES\.html|AGENTS\.md|CONTRIBUTING\.md|pnpm-workspace\.yaml)$/.test(src));
for (const [name, version] of Object.entries(lance.optionalDependencies)) {
  if (pkg.optionalDependencies?.[name] !== version) throw new Error(`package.json optionalDependencies must name ${name}@${version} (LanceDB's platform package)`);
}
for (const dep of Object.keys(lance.dependencies ?? {})) {
  if (!pkg.dependencies[dep]) throw new Error(`package.json dependencies must name ${dep} (a dependency of @lancedb/lancedb)`);
}
if (pkg.devDependencies['onnxruntime-node'] !== ort.version) throw new Error(`onnxruntime-node ${ort.version} is installed, package.json pins ${pkg.devDependencies['onnxruntime-node']}`);
console.log(`prepare-npm: vendored onnxruntime-node ${ort.version}, @lancedb/lancedb ${lance.version} into dist/node_modules`);
