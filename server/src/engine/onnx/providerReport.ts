/**
 * What `adapter-composer doctor` reports: which ONNX Runtime execution providers can run here and,
 * for each that cannot, why (missing provider libraries, CUDA 12 / cuDNN 9 / TensorRT / Vulkan
 * libraries the loader cannot find, no driver) and how to get it.
 *
 * The CUDA and TensorRT providers of onnxruntime-node 1.30 are not in the npm package: its
 * script/install.js downloads libonnxruntime_providers_{shared,cuda,tensorrt}.so from the NuGet
 * package Microsoft.ML.OnnxRuntime.Gpu.Linux into bin/napi-v6/linux/x64/. That script honours
 * (first match wins) the env var ONNXRUNTIME_NODE_INSTALL, npm's config onnxruntime-node-install
 * (our .npmrc sets it to `skip`, since installs here are offline) or a command-line flag
 * --onnxruntime-node-install[=skip|cuda12]. npm 11 also runs a dependency's install script only
 * when package.json `allowScripts` allows it (ours says false for onnxruntime-node).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadableLibraries, ortBindingDir, probeProviders, type ProviderProbe } from './session';
import { readTextSafe } from '../safeRead';

export interface LibraryFound {
  name: string;
  found: boolean;
  /** Resolved file, when found. */
  path?: string;
  /** Full version from the resolved file name (libcudnn.so.9.1.0 → 9.1.0). */
  version?: string;
  /**
   * When not found: the same library in other major versions the loader does find (libcudart.so.13
   * for libcudart.so.12): a box with CUDA 13 only has a CUDA, just not the one the provider was built for.
   */
  otherVersions?: string[];
}

export interface ProviderReport {
  node: string;
  platform: string;
  onnxruntime: { version?: string; bindingDir?: string; providerFiles: { name: string; present: boolean }[] };
  providers: ProviderProbe[];
  gpu: { nvidiaSmi: boolean; devices: string[]; note?: string };
  libraries: LibraryFound[];
  /** Image decoding (sharp/libvips) and tokenization (@huggingface/tokenizers) for real samples. */
  sampleReaders: { name: string; available: boolean; version?: string; reason?: string }[];
  cudaInstall: CudaInstallAdvice;
}

export interface CudaInstallAdvice {
  /** onnxruntime-node's install script, when found. */
  script?: string;
  /** Where the CUDA provider download is switched off (e.g. `.npmrc: onnxruntime-node-install=skip`). */
  disabledBy: string[];
  /** Commands that fetch the CUDA 12 provider libraries. */
  commands: string[];
  requirements: string;
}

const PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'];
const SYSTEM_LIBRARIES = ['libcuda.so.1', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcudnn.so.9', 'libnvinfer.so.10', 'libvulkan.so.1'];

export async function providerReport(options: { tryCreate?: boolean } = {}): Promise<ProviderReport> {
  const bindingDir = ortBindingDir();
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    onnxruntime: {
      version: packageVersion('onnxruntime-node'),
      bindingDir,
      providerFiles: PROVIDER_FILES.map((name) => ({ name, present: Boolean(bindingDir && fs.existsSync(path.join(bindingDir, name))) })),
    },
    providers: await probeProviders({ tryCreate: options.tryCreate ?? true }),
    gpu: nvidiaDevices(),
    libraries: process.platform === 'linux' ? findLibraries(SYSTEM_LIBRARIES) : [],
    // The readers are probed, not imported: a missing one is reported, not a load failure of the CLI.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous probe of an optional package
    sampleReaders: [reader('sharp', () => (require('sharp') as { versions: { sharp: string; vips: string } }).versions, (v) => `${v.sharp} (libvips ${v.vips})`),
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
      reader('@huggingface/tokenizers', () => require('@huggingface/tokenizers') as unknown, () => packageVersion('@huggingface/tokenizers') ?? 'found')],
    cudaInstall: cudaInstallAdvice(),
  };
}

function reader<T>(name: string, load: () => T, version: (m: T) => string): ProviderReport['sampleReaders'][number] {
  try {
    return { name, available: true, version: version(load()) };
  } catch (e) {
    return { name, available: false, reason: (e as Error).message.split('\n')[0] };
  }
}

/** A package's version, from the package.json above its entry point (some packages do not export it). */
function packageVersion(name: string): string | undefined {
  try {
    let dir = path.dirname(require.resolve(name));
    for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!fs.existsSync(file)) continue;
      const manifest = JSON.parse(readTextSafe(file, 'config')) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version;
    }
  } catch {
    // not installed
  }
  return undefined;
}

function nvidiaDevices(): ProviderReport['gpu'] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10000,
    });
    const devices = out.split('\n').map((l) => l.trim()).filter(Boolean);
    return { nvidiaSmi: true, devices, note: devices.length === 0 ? 'nvidia-smi lists no GPU' : undefined };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') return { nvidiaSmi: false, devices: [], note: 'nvidia-smi not found: no NVIDIA driver installed (or not on PATH)' };
    return { nvidiaSmi: true, devices: [], note: `nvidia-smi failed: ${(err.stderr || err.message).split('\n')[0]}` };
  }
}

/** Each library: found by the loader (ldconfig cache or LD_LIBRARY_PATH), with the file it resolves to. */
export function findLibraries(names: string[]): LibraryFound[] {
  const known = loadableLibraries();
  return names.map((name) => {
    const file = known.get(name);
    if (!file) {
      const stem = /^(.*\.so)\.\d+$/.exec(name)?.[1];
      const others = stem ? [...known.keys()].filter((k) => k !== name && k.startsWith(`${stem}.`) && /^\d+$/.test(k.slice(stem.length + 1))).sort() : [];
      return others.length > 0 ? { name, found: false, otherVersions: others } : { name, found: false };
    }
    let resolved = file;
    try {
      resolved = fs.realpathSync(file);
    } catch {
      // keep the listed path
    }
    // libcudnn.so.9 → …/libcudnn.so.9.1.0: the resolved file name carries the full version.
    const version = /\.so\.([0-9][0-9.]*)$/.exec(path.basename(resolved))?.[1] ?? /\.so\.([0-9][0-9.]*)$/.exec(name)?.[1];
    return { name, found: true, path: resolved, version: version || undefined };
  });
}

/** How to get the CUDA provider for this installation of onnxruntime-node, read from where it is. */
export function cudaInstallAdvice(): CudaInstallAdvice {
  let script: string | undefined;
  let packageRoot: string | undefined;
  try {
    const pkg = require.resolve('onnxruntime-node/package.json');
    script = path.join(path.dirname(pkg), 'script', 'install.js');
    if (!fs.existsSync(script)) script = undefined;
    // …/<project>/node_modules/onnxruntime-node/package.json → <project>
    const nodeModules = path.dirname(path.dirname(pkg));
    if (path.basename(nodeModules) === 'node_modules') packageRoot = path.dirname(nodeModules);
  } catch {
    // onnxruntime-node not resolvable: nothing to advise beyond installing it
  }
  const disabledBy: string[] = [];
  if (process.env.ONNXRUNTIME_NODE_INSTALL === 'skip') disabledBy.push('environment: ONNXRUNTIME_NODE_INSTALL=skip');
  if (packageRoot) {
    const npmrc = path.join(packageRoot, '.npmrc');
    if (fs.existsSync(npmrc)) {
      const lines = readTextSafe(npmrc, 'config').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*onnxruntime-node-install(-cuda)?\s*=\s*skip\s*$/.test(line)) disabledBy.push(`${npmrc}:${i + 1}: ${line.trim()}`);
      });
    }
    try {
      const manifest = JSON.parse(readTextSafe(path.join(packageRoot, 'package.json'), 'config')) as { allowScripts?: Record<string, unknown> };
      const allowed = manifest.allowScripts?.['onnxruntime-node'];
      if (allowed === false) disabledBy.push(`${path.join(packageRoot, 'package.json')}: "allowScripts": { "onnxruntime-node": false } (npm 11 skips its install script)`);
    } catch {
      // no readable package.json above node_modules
    }
  }
  const relativeScript = script && packageRoot ? path.relative(packageRoot, script) : script ?? 'node_modules/onnxruntime-node/script/install.js';
  return {
    script,
    disabledBy,
    commands: [
      `node ${relativeScript} --onnxruntime-node-install=cuda12`,
      'or through npm: npm install-scripts approve onnxruntime-node && npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12',
    ],
    requirements:
      'downloads Microsoft.ML.OnnxRuntime.Gpu.Linux (same version as onnxruntime-node) from api.nuget.org into the binding folder; ' +
      'needs an NVIDIA driver, CUDA 12.x (libcudart.so.12, libcublas.so.12, libcublasLt.so.12, libcufft.so.11) and cuDNN 9 (libcudnn.so.9) on the loader path ' +
      '(e.g. the nvidia-cuda-runtime-cu12, nvidia-cublas-cu12, nvidia-cufft-cu12 and nvidia-cudnn-cu12 wheels, with their lib folders in LD_LIBRARY_PATH); TensorRT 10 (libnvinfer.so.10) for the tensorrt provider',
  };
}
