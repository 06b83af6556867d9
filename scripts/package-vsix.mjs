#!/usr/bin/env node
// npm run package — builds the bundles for production and packs one .vsix per VS Code platform with vsce.
// Each .vsix carries exactly its platform's native binaries (LanceDB, ONNX Runtime, sharp/libvips): the
// platform packages are fetched from the npm registry by name and version (`npm pack`, cached in
// .tools/platform-packages) and verified against the lockfile's integrity, then staged with the
// JavaScript runtime packages in a folder vsce packs from (the shared node_modules is never written).
// Every .vsix is then checked: the listing has every native file of its platform and none of another's,
// and for the platform this machine can run, the unpacked CLI runs (`--version`, `doctor`).
// Usage: node scripts/package-vsix.mjs [--target T | --all] [--out FILE | --out-dir DIR] [--no-build] [--keep-staging]
//   T: linux-x64 (default), linux-arm64, darwin-arm64, win32-x64 (see scripts/platforms.mjs; darwin-x64
//   and alpine-x64 are refused with the reason).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATIVE, TARGETS, UNSUPPORTED } from './platforms.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const t0 = Date.now();
const step = (what) => console.log(`[package ${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
const fail = (msg) => { console.error(`package-vsix: ${msg}`); process.exit(1); };

const targets = args.includes('--all') ? Object.keys(TARGETS) : [opt('--target') ?? 'linux-x64'];
for (const t of targets) {
  if (UNSUPPORTED[t]) fail(`--target ${t} is not built: ${UNSUPPORTED[t]}`);
  if (!TARGETS[t]) fail(`unknown --target ${t} (one of ${Object.keys(TARGETS).join(', ')})`);
}
if (opt('--out') && targets.length > 1) fail('--out names one file; use --out-dir with --all');
const outFor = (t) => path.resolve(opt('--out') ?? path.join(opt('--out-dir') ?? root, `${pkg.name}-${pkg.version}-${t}.vsix`));
const cache = path.join(root, '.tools/platform-packages');
const stagingRoot = path.join(root, '.tools/vsix-staging');
const hostTarget = `${process.platform}-${process.arch}`;

if (!args.includes('--no-build')) {
  step('building bundles (production)');
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
}
for (const f of ['dist/extension.js', 'dist/cli.js', 'dist/composeWorker.js', 'dist/mixWorker.js', 'dist/webview.js', 'dist/webview.css', 'dist/libraryMap.js', 'dist/libraryMap.css']) {
  if (!fs.existsSync(path.join(root, f))) fail(`${f} is missing after the build`);
}

const nodeModules = fs.realpathSync(path.join(root, 'node_modules'));
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

/** The version a parent package pins for one of its platform packages (LanceDB's and sharp's optionalDependencies). */
function platformVersion(name) {
  const parent = name.startsWith('@lancedb/') ? '@lancedb/lancedb' : 'sharp';
  const version = readJson(path.join(nodeModules, parent, 'package.json')).optionalDependencies?.[name];
  if (!version) fail(`${parent} names no optional dependency ${name}`);
  return version;
}

/** The registry tarball of name@version: from the cache or `npm pack`, checked against the lockfile's integrity. */
function fetchVerified(name, version) {
  fs.mkdirSync(cache, { recursive: true });
  const file = path.join(cache, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  if (!fs.existsSync(file)) {
    step(`npm pack ${name}@${version}`);
    execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', cache, '--silent'],
      { cwd: cache, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!fs.existsSync(file)) fail(`npm pack ${name}@${version} did not write ${file}`);
  }
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.integrity) fail(`the lockfile has no integrity for ${name}; refusing an unverified binary`);
  if (entry.version !== version) fail(`the lockfile has ${name}@${entry.version}, ${version} was asked for`);
  const [algorithm, expected] = entry.integrity.split('-', 2);
  const actual = crypto.createHash(algorithm).update(fs.readFileSync(file)).digest('base64');
  if (actual !== expected) {
    fs.rmSync(file);
    fail(`${path.basename(file)}: ${algorithm} ${actual} does not match the lockfile's ${expected} (deleted from the cache)`);
  }
  return file;
}

/** Node's lookup of a dependency from a package folder, inside the real node_modules. */
function resolvePackageDir(fromDir, name) {
  for (let dir = fromDir; dir.startsWith(nodeModules) || dir === path.dirname(nodeModules); dir = path.dirname(dir)) {
    const candidate = dir.endsWith(`${path.sep}node_modules`) ? path.join(dir, name) : path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(nodeModules)) break;
  }
  return undefined;
}

/** The packages the bundles leave external (scripts/build.mjs), i.e. what the extension loads from node_modules. */
const EXTERNAL = ['@lancedb/lancedb', 'apache-arrow', 'onnxruntime-node', 'sharp', '@huggingface/tokenizers'];

/**
 * The .vsix's package.json: the extension manifest, with `dependencies` naming exactly the packages it
 * carries (package.json itself describes the npm package: runtime dependencies, vendored LanceDB and ONNX
 * Runtime, `files`, pack scripts; vsce refuses `files` beside .vscodeignore).
 */
function extensionManifest() {
  const { files, scripts, devDependencies, optionalDependencies, allowScripts, overrides, ...manifest } = pkg;
  const installed = (name) => readJson(path.join(nodeModules, name, 'package.json')).version;
  return { ...manifest, dependencies: Object.fromEntries(EXTERNAL.map((name) => [name, installed(name)])) };
}

/** Every package the external packages reach (required deps only; optional ones are the platform packages). */
function productionClosure() {
  const seen = new Set();
  const queue = EXTERNAL.map((name) => [path.dirname(nodeModules), name]);
  while (queue.length) {
    const [from, name] = queue.shift();
    const dir = resolvePackageDir(from, name);
    if (!dir) fail(`${name} (needed from ${path.relative(root, from) || '.'}) is not installed`);
    if (seen.has(dir)) continue;
    seen.add(dir);
    for (const dep of Object.keys(readJson(path.join(dir, 'package.json')).dependencies ?? {})) queue.push([dir, dep]);
  }
  return [...seen];
}

function copyTree(from, to, skip = () => false) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (skip(src)) continue;
    if (entry.isDirectory()) copyTree(src, dst, skip);
    else if (entry.isFile()) link(src, dst);
  }
}

/** A hard link where the file system allows it (staging is read-only use), else a copy. */
function link(src, dst) {
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

/** Stages the extension for one target; returns the staging folder and the native files it holds. */
function stage(target) {
  const spec = TARGETS[target];
  const dir = path.join(stagingRoot, `${target}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  if (!args.includes('--keep-staging')) process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'language-configuration.json', '.vscodeignore']) {
    if (fs.existsSync(path.join(root, f))) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  }
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(extensionManifest(), null, 2)}\n`);
  // dist/node_modules is the npm package's vendored copy (scripts/prepare-npm.mjs), not the extension's
  for (const d of ['dist', 'syntaxes', 'icons', 'schemas', 'snippets', 'walkthrough', 'server/src/engine/demo/real/data']) copyTree(path.join(root, d), path.join(dir, d), (src) => src === path.join(root, 'dist/node_modules'));

  // The JavaScript runtime packages, as npm installed them (the .vscodeignore allow-list picks the files).
  // vsce lists dependencies with `npm list`, so every required package of the tree must be present.
  const staged = path.join(dir, 'node_modules');
  const ortBin = path.join(nodeModules, 'onnxruntime-node', 'bin');
  for (const pkgDir of productionClosure()) {
    copyTree(pkgDir, path.join(staged, path.relative(nodeModules, pkgDir)),
      (src) => path.basename(src) === 'node_modules' || src === ortBin);
  }
  // ONNX Runtime ships every platform inside its one package: copy only this target's folder.
  const napi = fs.readdirSync(ortBin).filter((d) => d.startsWith('napi-v'));
  for (const v of napi) {
    const from = path.join(ortBin, v, spec.ort);
    if (!fs.existsSync(from)) fail(`onnxruntime-node has no ${v}/${spec.ort}`);
    const into = path.join(staged, 'onnxruntime-node/bin', v, spec.ort);
    copyTree(from, into);
    for (const f of spec.ortPrune ?? []) {
      if (!fs.existsSync(path.join(into, f))) fail(`onnxruntime-node ${v}/${spec.ort} has no ${f} to leave out (scripts/platforms.mjs)`);
      fs.rmSync(path.join(into, f));
    }
    // macOS: npm cannot hold symlinks, so ORT ships libonnxruntime.1.dylib (what the binding loads,
    // @rpath/libonnxruntime.1.dylib) and a byte-identical libonnxruntime.<x.y.z>.dylib. Drop the copy (44 MB).
    for (const f of fs.readdirSync(into).filter((n) => /^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(n))) {
      const loaded = path.join(into, 'libonnxruntime.1.dylib');
      if (fs.existsSync(loaded) && fs.readFileSync(loaded).equals(fs.readFileSync(path.join(into, f)))) fs.rmSync(path.join(into, f));
    }
  }
  // The platform packages, from verified registry tarballs.
  for (const name of [spec.lancedb, ...spec.sharp]) {
    const tgz = fetchVerified(name, platformVersion(name));
    const into = path.join(staged, name);
    fs.mkdirSync(into, { recursive: true });
    execFileSync('tar', ['xzf', tgz, '-C', into, '--strip-components=1']);
  }
  const native = [spec.lancedb, ...spec.sharp, ...napi.map((v) => `onnxruntime-node/bin/${v}/${spec.ort}`)]
    .flatMap((p) => walk(path.join(staged, p)))
    .filter((f) => NATIVE.test(path.basename(f)))
    .map((f) => `extension/${path.relative(dir, f).split(path.sep).join('/')}`);
  return { dir, native };
}

/** Listing entries that belong to another platform: other targets' packages, ORT folders, or stray binaries. */
function foreignEntries(target, listing) {
  const spec = TARGETS[target];
  const own = [spec.lancedb, ...spec.sharp].map((n) => `extension/node_modules/${n}/`);
  const ownOrt = new RegExp(`^extension/node_modules/onnxruntime-node/bin/napi-v\\d+/${spec.ort}/`);
  return listing.filter((f) => {
    const platformPkg = /^extension\/node_modules\/(@lancedb\/lancedb-|@img\/sharp-)/.test(f);
    if (platformPkg) return !own.some((o) => f.startsWith(o));
    if (f.startsWith('extension/node_modules/onnxruntime-node/bin/')) return !ownOrt.test(f);
    return NATIVE.test(f) && !own.some((o) => f.startsWith(o));
  });
}

const vsce = path.join(nodeModules, '@vscode/vsce/vsce');
const results = [];
for (const target of targets) {
  const out = outFor(target);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  step(`${target}: staging`);
  const { dir, native } = stage(target);

  step(`${target}: vsce package --target ${target}`);
  // --skip-license: the license is declared in package.json; vsce would otherwise prompt without a LICENSE file.
  // --baseContentUrl: the README links to docs/ relatively; vsce needs a base to rewrite them.
  const base = 'https://example.invalid/adapter-composer/blob/main';
  execFileSync(process.execPath, [vsce, 'package', '--target', target, '--skip-license', '--allow-missing-repository',
    '--baseContentUrl', base, '--baseImagesUrl', base, '--out', out],
  { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });

  step(`${target}: checking the contents`);
  const listing = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter(Boolean);
  const foreign = foreignEntries(target, listing);
  if (foreign.length) fail(`${target}: files of other platforms in the .vsix:\n  ${foreign.slice(0, 20).join('\n  ')}`);
  const spec = TARGETS[target];
  const main = [
    `extension/node_modules/${spec.lancedb}/lancedb.${spec.lancedb.split('/lancedb-')[1]}.node`,
    `extension/node_modules/onnxruntime-node/bin/napi-v6/${spec.ort}/onnxruntime_binding.node`,
    `extension/node_modules/${spec.sharp[0]}/lib/${spec.sharp[0].split('/')[1]}.node`,
  ];
  for (const required of ['extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/composeWorker.js', 'extension/dist/mixWorker.js',
    'extension/dist/webview.js', 'extension/dist/libraryMap.js', 'extension/dist/libraryMap.css', ...main, ...native]) {
    if (!listing.includes(required)) fail(`${target}: ${required} is not in the .vsix`);
  }

  if (target === hostTarget) {
    // Unpack and run the packed CLI: every require of the bundles must resolve inside the .vsix.
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-check-'));
    try {
      execFileSync('unzip', ['-q', out, '-d', unpacked]);
      const cli = path.join(unpacked, 'extension/dist/cli.js');
      const probe = `const r = require('node:module').createRequire(${JSON.stringify(cli)});` +
        `for (const m of ['onnxruntime-node', '@lancedb/lancedb', 'apache-arrow', '@huggingface/tokenizers', 'sharp']) r(m);`;
      execFileSync(process.execPath, ['-e', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
      const version = execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim();
      if (!version.includes(pkg.version)) fail(`${target}: the packed CLI says ${version}, package.json ${pkg.version}`);
      execFileSync(process.execPath, [cli, 'doctor'], { stdio: ['ignore', 'pipe', 'inherit'] });
      step(`${target}: the unpacked CLI runs (--version: ${version}; doctor)`);
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  }
  if (!args.includes('--keep-staging')) fs.rmSync(dir, { recursive: true, force: true });
  const bytes = fs.statSync(out).size;
  results.push({ target, file: path.relative(process.cwd(), out), mib: (bytes / 1024 / 1024).toFixed(1), files: listing.length, native: native.length });
  step(`${path.relative(process.cwd(), out)}: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${listing.length} files, ${native.length} native`);
}
if (results.length > 1) console.table(results);
