// The CLI as an npm package, installed the way a user installs it: `npm pack` (its prepack builds and
// vendors ONNX Runtime and LanceDB's JavaScript), then `npm install -g --prefix <empty>` of the tarball
// from a folder with no project .npmrc, then the installed `adapter-composer` runs --version, demo, check
// and answers an LSP initialize over stdio. Installing must fetch only from the npm registry, run no
// failing script, never run onnxruntime-node's install script (it downloads from api.nuget.org) and never
// install LanceDB's optional embedding providers (@huggingface/transformers, openai).
//
// The pack runs in a copy of the sources, so its production build does not rewrite the dist/ other
// tests are running. Needs the npm registry (or npm's cache) for the runtime dependencies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** A user's environment: none of the npm_config_* / npm_package_* variables an outer `npm test` sets. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
}

/** Starts `adapter-composer lsp --stdio`, sends initialize, returns the answer, stops the server. */
function lspInitialize(cli: string, cwd: string): Promise<{ result?: { serverInfo?: { name: string; version: string } } }> {
  return new Promise((resolvePromise, reject) => {
    const server = spawn(cli, ['lsp', '--stdio'], { cwd, env: userEnv() });
    let out = Buffer.alloc(0);
    let err = '';
    const timer = setTimeout(() => { server.kill(); reject(new Error(`no answer to initialize:\n${out.toString('utf8')}\n${err}`)); }, 60_000);
    server.stderr.on('data', (d) => { err += d; });
    server.stdout.on('data', (d: Buffer) => {
      out = Buffer.concat([out, d]);
      const m = /Content-Length: (\d+)\r\n\r\n/.exec(out.toString('latin1'));
      if (!m) return;
      const start = m.index + m[0].length;
      if (out.length < start + Number(m[1])) return;
      clearTimeout(timer);
      server.kill();
      resolvePromise(JSON.parse(out.subarray(start, start + Number(m[1])).toString('utf8')));
    });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

test('npm pack → npm install -g → adapter-composer --version, demo, check, lsp', { timeout: 900_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'npm-package-'));
  try {
    // a copy of what the build reads, with the shared node_modules linked in
    const src = join(tmp, 'src');
    mkdirSync(src);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'tsconfig.json', 'scripts', 'server', 'client', 'webview', 'schemas', 'docs']) {
      if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(src, f), { recursive: true });
    }
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(src, 'node_modules'));
    const packed = join(tmp, 'packed');
    mkdirSync(packed);
    const pack = spawnSync('npm', ['pack', '--pack-destination', packed, '--json'], { cwd: src, encoding: 'utf8', maxBuffer: 64 << 20, env: userEnv() });
    assert.equal(pack.status, 0, `npm pack failed:\n${pack.stderr}`);
    const [info] = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    assert.equal(info.filename, `${PKG.name}-${PKG.version}.tgz`);
    const files = info.files.map((f) => f.path);
    // the allow-list: the bundles, the vendored runtime packages, no sources, tests or editor client
    for (const need of ['dist/cli.js', 'dist/composeWorker.js', 'package.json', 'README.md',
      'dist/node_modules/onnxruntime-node/dist/index.js', 'dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'dist/node_modules/onnxruntime-common/package.json', 'dist/node_modules/@lancedb/lancedb/dist/index.js',
      'server/src/engine/demo/real/data/mnist-10k.bin.gz', 'server/src/engine/demo/real/data/ATTRIBUTION.md']) {
      assert.ok(files.includes(need), `${need} is not in the package`);
    }
    assert.deepEqual(files.filter((f) => /DirectML\.dll$|libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(f)), [], 'unused ORT files are left out');
    for (const f of files.filter((x) => !x.startsWith('server/src/engine/demo/real/data/'))) assert.doesNotMatch(f, /^(server|client|webview|test|bench|scripts)\/|\.ts$(?<!\.d\.ts$)|^dist\/(extension|webview)\./, `${f} should not be in the package`);
    // the vendored onnxruntime-node has no install script; the vendored LanceDB no embedding providers
    const extracted = join(tmp, 'extracted');
    mkdirSync(extracted);
    execFileSync('tar', ['xzf', join(packed, info.filename), '-C', extracted]);
    const ort = JSON.parse(readFileSync(join(extracted, 'package/dist/node_modules/onnxruntime-node/package.json'), 'utf8'));
    assert.deepEqual(ort.scripts, undefined);
    const lance = JSON.parse(readFileSync(join(extracted, 'package/dist/node_modules/@lancedb/lancedb/package.json'), 'utf8'));
    assert.deepEqual(Object.keys(lance.optionalDependencies).filter((n) => !n.startsWith('@lancedb/lancedb-')), []);
    const manifest = JSON.parse(readFileSync(join(extracted, 'package/package.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['@huggingface/tokenizers', 'apache-arrow', 'reflect-metadata', 'sharp']);
    assert.equal(manifest.bin['adapter-composer'], './dist/cli.js');

    // install as a user: a neutral folder (no project .npmrc), an empty prefix
    const user = join(tmp, 'user');
    const prefix = join(tmp, 'prefix');
    mkdirSync(user);
    const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, join(packed, info.filename), '--foreground-scripts', '--loglevel=http', '--no-audit', '--no-fund'],
      { cwd: user, encoding: 'utf8', maxBuffer: 64 << 20, env: userEnv() });
    const log = `${install.stdout}\n${install.stderr}`;
    assert.equal(install.status, 0, `npm install -g failed:\n${log.slice(-4000)}`);
    const registry = execFileSync('npm', ['config', 'get', 'registry'], { cwd: user, encoding: 'utf8', env: userEnv() }).trim().replace(/\/$/, '');
    const urls = [...log.matchAll(/\b(?:GET|POST|PUT)\s+\d+\s+(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(urls.filter((u) => !u.startsWith(registry)), [], 'fetched from outside the registry');
    assert.doesNotMatch(log, /nuget/i);
    // the install scripts that ran: `> name@version install|postinstall` lines (--foreground-scripts)
    const ran = [...log.matchAll(/^> (\S+) (?:preinstall|install|postinstall)$/gm)].map((m) => m[1]);
    assert.deepEqual(ran.filter((s) => !/^sharp@/.test(s)), [], 'install scripts other than sharp\'s prebuilt check ran');
    const installed = join(prefix, 'lib/node_modules', PKG.name);
    const top = readdirSync(join(installed, 'node_modules'));
    for (const unwanted of ['onnxruntime-node', 'openai']) assert.ok(!top.includes(unwanted), `${unwanted} was installed`);
    assert.ok(!existsSync(join(installed, 'node_modules/@huggingface/transformers')), '@huggingface/transformers was installed');

    // run it
    const cli = join(prefix, 'bin/adapter-composer');
    assert.equal(execFileSync(cli, ['--version'], { cwd: user, encoding: 'utf8' }).trim(), PKG.version);
    const demo = join(tmp, 'demo');
    const made = spawnSync(cli, ['demo', '--out', demo], { cwd: user, encoding: 'utf8', timeout: 300_000 });
    assert.equal(made.status, 0, `demo failed:\n${made.stdout}\n${made.stderr}`);
    const recipes = readdirSync(join(demo, 'recipes')).filter((f) => f.endsWith('.compose.yaml'));
    assert.ok(recipes.length > 0);
    const check = spawnSync(cli, ['check', join(demo, 'recipes', recipes[0]), '--json'], { cwd: user, encoding: 'utf8' });
    assert.equal(check.status, 0, `check failed:\n${check.stdout}\n${check.stderr}`);
    const init = await lspInitialize(cli, user);
    assert.equal(init.result?.serverInfo?.version, PKG.version);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
