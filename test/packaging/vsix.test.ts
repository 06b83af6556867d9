// The per-platform .vsix files, checked the way a user's VS Code would meet them: the listing holds every
// native file its platform needs and nothing of another platform, every native file's header is the
// platform's executable format and CPU (read from the bytes, not the name), and on this machine's own
// platform the unpacked CLI runs. The expectations here are written independently of
// scripts/platforms.mjs so a wrong entry there shows up as a failure.
//
// The .vsix is packed from the current dist/ (`--no-build`: npm test has just built it, and a production
// rebuild here would rewrite the bundles other tests are running).
// CI cost: linux-x64 is packed and checked on every run (about a minute). The other targets take about a
// minute each, so they run only when PACKAGING_ALL=1 (packs them) or PACKAGING_VSIX_DIR names a folder of
// .vsix files from `npm run package -- --all --out-dir DIR` (checks those); see DEVELOPERS.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe as describeKind, peImports, readHeaderOf } from './binaryHeader';
import { inCi } from '../toolSkip';

const ROOT = resolve(__dirname, '../..');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

interface Expected { header: string; required: RegExp[] }
const NM = 'extension/node_modules/';
const EXPECTED: Record<string, Expected> = {
  'linux-x64': {
    header: 'ELF64 x86-64',
    required: [/@lancedb\/lancedb-linux-x64-gnu\/lancedb\.linux-x64-gnu\.node$/, /onnxruntime-node\/bin\/napi-v6\/linux\/x64\/onnxruntime_binding\.node$/,
      /onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime\.so\.1$/, /@img\/sharp-linux-x64\/lib\/sharp-linux-x64\.node$/,
      /@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so\.[\d.]+$/],
  },
  'linux-arm64': {
    header: 'ELF64 aarch64',
    required: [/@lancedb\/lancedb-linux-arm64-gnu\/lancedb\.linux-arm64-gnu\.node$/, /onnxruntime-node\/bin\/napi-v6\/linux\/arm64\/onnxruntime_binding\.node$/,
      /onnxruntime-node\/bin\/napi-v6\/linux\/arm64\/libonnxruntime\.so\.1$/, /@img\/sharp-linux-arm64\/lib\/sharp-linux-arm64\.node$/,
      /@img\/sharp-libvips-linux-arm64\/lib\/libvips-cpp\.so\.[\d.]+$/],
  },
  'darwin-arm64': {
    header: 'Mach-O arm64',
    required: [/@lancedb\/lancedb-darwin-arm64\/lancedb\.darwin-arm64\.node$/, /onnxruntime-node\/bin\/napi-v6\/darwin\/arm64\/onnxruntime_binding\.node$/,
      /onnxruntime-node\/bin\/napi-v6\/darwin\/arm64\/libonnxruntime\.1\.dylib$/, /@img\/sharp-darwin-arm64\/lib\/sharp-darwin-arm64\.node$/,
      /@img\/sharp-libvips-darwin-arm64\/lib\/libvips-cpp\.[\d.]+\.dylib$/],
  },
  'win32-x64': {
    header: 'PE32+ x64',
    required: [/@lancedb\/lancedb-win32-x64-msvc\/lancedb\.win32-x64-msvc\.node$/, /onnxruntime-node\/bin\/napi-v6\/win32\/x64\/onnxruntime_binding\.node$/,
      /onnxruntime-node\/bin\/napi-v6\/win32\/x64\/onnxruntime\.dll$/, /@img\/sharp-win32-x64\/lib\/sharp-win32-x64\.node$/,
      /@img\/sharp-win32-x64\/lib\/libvips-cpp-[\d.]+\.dll$/],
  },
};
const HOST = `${process.platform}-${process.arch}`;

function pack(target: string, dir: string): string {
  const out = join(dir, `${target}.vsix`);
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/package-vsix.mjs'), '--target', target, '--out', out, '--no-build'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm run package -- --target ${target} failed:\n${r.stdout}\n${r.stderr}`);
  return out;
}

/** Checks one .vsix; returns its native files with their headers (for the message). */
function checkVsix(target: string, vsix: string): void {
  const listing = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);
  // the manifest names the target platform
  const manifest = execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' });
  assert.match(manifest, new RegExp(`TargetPlatform="${target}"`), 'the manifest declares the platform');
  assert.ok(listing.includes('extension/server/src/engine/demo/real/data/mnist-10k.bin.gz'), 'demo --real\'s digits are in the .vsix');
  for (const want of EXPECTED[target].required) {
    assert.ok(listing.some((f) => f.startsWith(NM) && want.test(f)), `${target}: nothing in the .vsix matches ${want}`);
  }
  // nothing that names another platform: no other target's package, ORT folder or libvips
  const others = Object.keys(EXPECTED).filter((t) => t !== target);
  for (const f of listing.filter((x) => x.startsWith(NM))) {
    for (const other of others) {
      const [os, cpu] = other.split('-');
      const foreign = new RegExp(`(lancedb-${os}-${cpu}|sharp-(libvips-)?${os}-${cpu}/|napi-v\\d+/${os}/${cpu}/)`);
      assert.ok(!foreign.test(f), `${target}: ${f} belongs to ${other}`);
    }
  }
  const natives = listing.filter((f) => NATIVE.test(f));
  assert.ok(natives.length >= 5, `${target}: only ${natives.length} native files`);
  const dir = mkdtempSync(join(tmpdir(), `vsix-${target}-`));
  try {
    execFileSync('unzip', ['-q', vsix, ...natives, '-d', dir]);
    const wrong = natives.map((f) => [f, describeKind(readHeaderOf(join(dir, f)))]).filter(([, kind]) => kind !== EXPECTED[target].header);
    assert.deepEqual(wrong, [], `${target}: native files that are not ${EXPECTED[target].header}`);
    if (target === 'win32-x64') windowsImportsResolve(dir, natives);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Windows loads a DLL's import table at load time. The .vsix leaves ORT's DirectML.dll out: prove that no
 * shipped binary imports (not delay-imports) a DLL the packages provide that the .vsix does not carry.
 */
function windowsImportsResolve(dir: string, natives: string[]): void {
  const ortFolder = join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6/win32/x64');
  const provided = new Set([...readdirSync(ortFolder), ...natives.map((f) => f.split('/').pop()!)].map((n) => n.toLowerCase()));
  const shipped = new Set(natives.map((f) => f.split('/').pop()!.toLowerCase()));
  assert.ok(!shipped.has('directml.dll'), 'DirectML.dll is left out of the win32 .vsix');
  for (const f of natives) {
    const { imports, delayed } = peImports(readFileSync(join(dir, f)));
    const missing = imports.filter((i) => provided.has(i.toLowerCase()) && !shipped.has(i.toLowerCase()));
    assert.deepEqual(missing, [], `${f} imports DLLs the .vsix does not carry`);
    if (f.endsWith('/onnxruntime.dll')) assert.ok(delayed.map((d) => d.toLowerCase()).includes('directml.dll'), 'onnxruntime.dll delay-loads DirectML.dll');
  }
}

function runsHere(vsix: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'vsix-run-'));
  try {
    execFileSync('unzip', ['-q', vsix, '-d', dir]);
    const cli = join(dir, 'extension/dist/cli.js');
    assert.equal(execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim(), VERSION);
    const doctor = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8' });
    assert.equal(doctor.status, 0, `doctor failed in the unpacked .vsix:\n${doctor.stdout}\n${doctor.stderr}`);
    // doctor loads ONNX Runtime and sharp from the .vsix ...
    assert.match(doctor.stdout, /✓ cpu\s+available/);
    assert.match(doctor.stdout, /✓ sharp/);
    // ... and the demo builds a LanceDB library and runs the encoder with them
    const demo = spawnSync(process.execPath, [cli, 'demo', '--out', join(dir, 'demo')], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(demo.status, 0, `demo failed in the unpacked .vsix:\n${demo.stdout}\n${demo.stderr}`);
    assert.ok(existsSync(join(dir, 'demo/library')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('linux-x64 .vsix: required binaries, no other platform, ELF x86-64 headers, the unpacked CLI runs', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsix-pack-'));
  try {
    const vsix = pack('linux-x64', dir);
    checkVsix('linux-x64', vsix);
    if (HOST === 'linux-x64') runsHere(vsix);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const cached = process.env.PACKAGING_VSIX_DIR;
// CI checks every target: a broken darwin or win32 .vsix must not ship unchecked (about 2 more minutes)
const all = process.env.PACKAGING_ALL === '1' || inCi();
for (const target of ['linux-arm64', 'darwin-arm64', 'win32-x64']) {
  const skip = all || cached ? false : 'set PACKAGING_ALL=1 or PACKAGING_VSIX_DIR to check the other platforms';
  test(`${target} .vsix: required binaries, no other platform, ${EXPECTED[target].header} headers`, { skip, timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsix-pack-'));
    try {
      const vsix = cached ? join(cached, `adapter-composer-${VERSION}-${target}.vsix`) : pack(target, dir);
      assert.ok(existsSync(vsix), `${vsix} is missing`);
      checkVsix(target, vsix);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('darwin-x64 and alpine-x64 are refused with the reason, and write nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsix-refuse-'));
  try {
    for (const [target, why] of [['darwin-x64', /darwin-x64/], ['alpine-x64', /musl/]] as const) {
      const out = join(dir, `${target}.vsix`);
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts/package-vsix.mjs'), '--target', target, '--out', out, '--no-build'], { cwd: ROOT, encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, why);
      assert.ok(!existsSync(out));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
