/**
 * Execution providers where CUDA is absent (this machine, CI): asking for CUDA falls back to the CPU
 * with a visible message, and `doctor` says why CUDA is unavailable and how to install it.
 * On a machine where CUDA works, the fallback assertions are skipped (they would be false).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { main } from '../../server/src/cli/main';
import type { CliIO } from '../../server/src/cli/command';
import { initLibrary } from '../../server/src/engine/library/library';
import { probeProviders } from '../../server/src/engine/onnx/session';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { writePeft } from '../lsp/fixture';
import type { AdapterRecord } from '../../server/src/engine/types';
import { imageEncoder, weights } from './fixtures';
import { execFileSync } from 'node:child_process';
import { CLI, ensureBuilt } from '../hardening/workspace';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-providers-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), isTTY: false, cwd: dir };
  const code = await main(argv, io);
  return { code, out, err };
}

const cudaWorks = probeProviders({ tryCreate: true }).then((p) => p.find((x) => x.provider === 'cuda')!.available);

test('doctor lists cpu, cuda, tensorrt and webgpu; cuda is unavailable here with the reason and the install command', async (t) => {
  const { code, out } = await cli(['doctor', '--json']);
  assert.equal(code, 0);
  const report = JSON.parse(out);
  assert.deepEqual(report.providers.map((p: { provider: string }) => p.provider), ['cpu', 'cuda', 'tensorrt', 'webgpu']);
  assert.equal(report.providers[0].available, true);
  assert.ok(report.cudaInstall.commands.some((c: string) => /script\/install\.js --onnxruntime-node-install=cuda12/.test(c)));
  if (await cudaWorks) return t.skip('CUDA works on this machine');
  const cuda = report.providers[1];
  assert.equal(cuda.available, false);
  assert.match(cuda.reason, /libonnxruntime_providers_cuda\.so|libcudart\.so\.12|libcudnn\.so\.9|libcuda\.so\.1/);
  const text = (await cli(['doctor'])).out;
  assert.match(text, /✗ cuda +unavailable: /);
  assert.match(text, /To use the CUDA provider:/);
  assert.match(text, /onnxruntime-node-install=skip/, 'names the .npmrc line that switches the download off');
});

test('doctor names the other CUDA major versions the loader finds where the provider\'s are missing (a CUDA 13 box)', (t) => {
  ensureBuilt();
  // the loader reads LD_LIBRARY_PATH once per process: a fresh CLI process with a folder of CUDA 13 names
  const libs = fs.mkdtempSync(path.join(dir, 'cuda13-'));
  for (const f of ['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcufft.so.12', 'libcudart.so.13.0.96', 'libcudart.so']) fs.writeFileSync(path.join(libs, f), '');
  const report = JSON.parse(execFileSync(process.execPath, [CLI, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: libs } })) as { libraries: { name: string; found: boolean; otherVersions?: string[] }[] };
  const lib = (name: string) => report.libraries.find((l) => l.name === name)!;
  if (lib('libcudart.so.12').found) return t.skip('CUDA 12 is installed here');
  assert.deepEqual(lib('libcudart.so.12').otherVersions, ['libcudart.so.13'], 'the other major only: not the unversioned name or a full version');
  assert.deepEqual(lib('libcublas.so.12').otherVersions, ['libcublas.so.13'], 'libcublasLt is another library');
  assert.deepEqual(lib('libcufft.so.11').otherVersions, ['libcufft.so.12']);
  if (!lib('libnvinfer.so.10').found) assert.equal(lib('libnvinfer.so.10').otherVersions, undefined);
  const text = execFileSync(process.execPath, [CLI, 'doctor'], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: libs } });
  assert.match(text, /✗ libcudart\.so\.12 +not found \(the loader has libcudart\.so\.13: another major version/);
});

test('plan --provider cuda on an image recipe falls back to the CPU with a visible warning; the plan and the message say so', async (t) => {
  if (await cudaWorks) return t.skip('CUDA works on this machine');
  const model = path.join(dir, 'image.onnx');
  fs.writeFileSync(model, imageEncoder('NCHW', 4, 4, 3, weights(48, 3, 9)));
  const config = path.join(dir, 'image.json');
  fs.writeFileSync(config, JSON.stringify({ kind: 'image', image: { size: 4 } }));
  const library = await initLibrary(path.join(dir, 'lib'), { encoderPath: model, encoderConfigPath: config });
  // real (small) adapters: plan checks that the adapters it would merge exist and match their rows
  let seed = 1;
  const record = async (name: string, prototype: number[]): Promise<AdapterRecord> => {
    const adapterPath = path.join(dir, 'adapters', name);
    writePeft(adapterPath, 'b', 4, seed++);
    return adapterRecord(library, { adapterPath, name, source: { vector: Float64Array.from(prototype) } });
  };
  await library.add([await record('one', [0.1, 0.2, 0.3]), await record('two', [-0.1, 0, 0.2])]);
  library.close();
  fs.mkdirSync(path.join(dir, 'images'));
  await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(path.join(dir, 'images', 'a.png'));
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 90, g: 20, b: 250 } } }).jpeg().toFile(path.join(dir, 'images', 'b.jpg'));
  fs.writeFileSync(path.join(dir, 'r.compose.yaml'), `compose: 1
name: r
base: b
library: ./lib
target:
  samples: ["images/*"]
retrieve:
  k: 2
weights:
  strategy: avg
merge:
  method: svd
  rank: 2
output: ./out/r
`);
  const { code, out, err } = await cli(['plan', 'r.compose.yaml', '--json', '--provider', 'cuda']);
  assert.equal(code, 0, err);
  const plan = JSON.parse(out);
  assert.equal(plan.provider, 'cpu');
  assert.equal(plan.target.count, 2);
  assert.ok(plan.warnings.some((w: string) => /CUDA execution provider not available \(.+\); running on CPU/.test(w)), JSON.stringify(plan.warnings));
  assert.match(err, /warning.*CUDA execution provider not available/);
  // auto falls to the CPU silently (no warning), and still says which provider ran.
  const auto = await cli(['plan', 'r.compose.yaml', '--json', '--provider', 'auto']);
  assert.equal(JSON.parse(auto.out).provider, 'cpu');
  assert.deepEqual(JSON.parse(auto.out).warnings.filter((w: string) => /CUDA/.test(w)), []);
});
