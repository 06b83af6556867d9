/**
 * Opening an ONNX Runtime session on the best execution provider that works here.
 *
 * onnxruntime-node does not fall back by itself: an EP list like ['cuda', 'cpu'] throws when the
 * CUDA provider library cannot load. So we try one provider at a time, catch, and move on, keeping
 * a human-readable account of why each one was skipped.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { loadOrt } from '../nativeModules';
import { ComposerError } from '../errors';
import { buildModel } from './model';
import { assertRegularFile } from '../safeRead';

export type ProviderRequest = 'auto' | 'cpu' | 'cuda' | 'tensorrt' | 'webgpu';
export const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['auto', 'cpu', 'cuda', 'tensorrt', 'webgpu'];
export type ExecutionProvider = Exclude<ProviderRequest, 'auto'>;

export interface SessionOptions {
  provider?: ProviderRequest;
  /** Threads for one operator (ORT default: one per core). */
  intraOpThreads?: number;
  /**
   * false: ORT's pool threads sleep between runs instead of spinning (ORT's default is to spin). For
   * sessions whose caller does its own work between runs: spinning threads take the cores it needs.
   */
  spinning?: boolean;
  /** Shown in error messages (the encoder file, or what the graph is for). */
  label?: string;
}

export interface ProviderAttempt {
  provider: ExecutionProvider;
  /** Why it could not be used. */
  reason: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The execution provider the session runs on. */
  provider: ExecutionProvider;
  /**
   * Set when the provider the user asked for could not be used, e.g.
   * "CUDA execution provider not available (…); running on CPU". Not set for `auto` falling to CPU.
   */
  fallback?: string;
  /** Every provider tried before the one that ran, with the reason it was skipped. */
  skipped: ProviderAttempt[];
}

const PROVIDER_TITLE: Record<ExecutionProvider, string> = {
  cpu: 'CPU',
  cuda: 'CUDA',
  tensorrt: 'TensorRT',
  webgpu: 'WebGPU',
};

/** The order in which providers are tried for a request. CPU always ends the list. */
export function providerOrder(request: ProviderRequest): ExecutionProvider[] {
  switch (request) {
    case 'auto': return ['cuda', 'cpu'];
    case 'cuda': return ['cuda', 'cpu'];
    case 'tensorrt': return ['tensorrt', 'cuda', 'cpu'];
    case 'webgpu': return ['webgpu', 'cpu'];
    case 'cpu': return ['cpu'];
  }
}

export async function createSession(model: Uint8Array | string, options: SessionOptions = {}): Promise<OpenedSession> {
  const request = options.provider ?? 'auto';
  if (!PROVIDER_REQUESTS.includes(request)) {
    throw new ComposerError('usage', `unknown execution provider '${String(request)}'`, undefined, `use one of ${PROVIDER_REQUESTS.join(', ')}`);
  }
  const label = options.label ?? (typeof model === 'string' ? model : 'ONNX model');
  if (typeof model === 'string' && !fs.existsSync(model)) {
    throw new ComposerError('encoder', `encoder file not found: ${model}`, { file: model });
  }
  if (typeof model === 'string') assertRegularFile(model, 'encoder file');
  quietNativeLogs();
  const skipped: ProviderAttempt[] = [];
  const order = providerOrder(request);
  for (const provider of order) {
    const predicted = certainlyUnavailable(provider);
    if (predicted) {
      skipped.push({ provider, reason: predicted });
      continue;
    }
    const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [provider] };
    if (options.intraOpThreads) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    if (options.spinning === false) sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
    try {
      const session = await (typeof model === 'string'
        ? loadOrt().InferenceSession.create(model, sessionOptions)
        : loadOrt().InferenceSession.create(model, sessionOptions));
      const opened: OpenedSession = { session, provider, skipped };
      if (skipped.length > 0 && request !== 'auto') opened.fallback = describeFallback(skipped, provider);
      return opened;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (provider === 'cpu') {
        throw new ComposerError(
          'encoder',
          `ONNX Runtime could not load ${label}: ${firstLine(message)}`,
          typeof model === 'string' ? { file: model } : undefined,
          'check that the file is a valid ONNX model (opset ≤ 21) exported for inference',
        );
      }
      skipped.push({ provider, reason: explainProviderFailure(provider, message) });
    }
  }
  // Unreachable: 'cpu' ends every order and either returns or throws.
  throw new ComposerError('internal', 'no execution provider was tried');
}

function describeFallback(skipped: ProviderAttempt[], ran: ExecutionProvider): string {
  const parts = skipped.map((s) => `${PROVIDER_TITLE[s.provider]} execution provider not available (${s.reason})`);
  return `${parts.join('; ')}; running on ${PROVIDER_TITLE[ran]}`;
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? s;
}

let logsQuieted = false;
/**
 * ORT logs a failed provider-library load to stderr before throwing; we report it ourselves, so keep
 * native logging to fatal errors unless ADAPTER_COMPOSER_ORT_LOG asks otherwise. Applies once, before
 * the first session (ORT reads the level at initialisation).
 */
function quietNativeLogs(): void {
  if (logsQuieted) return;
  logsQuieted = true;
  const wanted = process.env.ADAPTER_COMPOSER_ORT_LOG;
  const levels = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
  loadOrt().env.logLevel = (levels as readonly string[]).includes(wanted ?? '') ? (wanted as (typeof levels)[number]) : 'fatal';
}

// ---------------------------------------------------------------------------------------------
// Probing what could run here (for `doctor` and for explaining a fallback).

export interface ProviderProbe {
  provider: ExecutionProvider;
  available: boolean;
  /** Why not, or a short note on what was found. */
  reason?: string;
  /** Files/libraries that are missing for this provider. */
  missing?: string[];
}

/** Where onnxruntime-node keeps its native binding (provider libraries must sit next to it). */
export function ortBindingDir(): string | undefined {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

let ldCache: Map<string, string> | undefined;
/**
 * Shared libraries the dynamic loader can find, each with the file it names: the ldconfig cache (on x64
 * its 64-bit entries only: a 32-bit libcuda would not load into node), then LD_LIBRARY_PATH. Read once.
 */
export function loadableLibraries(): ReadonlyMap<string, string> {
  if (ldCache) return ldCache;
  const known = new Map<string, string>();
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s+\(([^)]*)\)\s*=>\s*(\S+)/.exec(line);
        if (m && (process.arch !== 'x64' || m[2].includes('x86-64')) && !known.has(m[1])) known.set(m[1], m[3]);
      }
      break;
    } catch {
      // try the next location
    }
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)) {
    try {
      for (const f of fs.readdirSync(dir)) if (f.includes('.so') && !known.has(f)) known.set(f, path.join(dir, f));
    } catch {
      // unreadable entries of LD_LIBRARY_PATH are the loader's problem too; ignore
    }
  }
  ldCache = known;
  return known;
}

function hasLibrary(libs: ReadonlyMap<string, string>, prefix: string): boolean {
  for (const l of libs.keys()) if (l === prefix || l.startsWith(prefix + '.')) return true;
  return false;
}

/** Libraries the CUDA 12 build of the ORT CUDA provider loads (cuDNN 9, cuBLAS 12, cudart 12, driver). */
const CUDA_LIBRARIES = ['libcuda.so.1', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcudnn.so.9', 'libcufft.so.11'];
const TENSORRT_LIBRARIES = ['libnvinfer.so.10'];

interface MissingPieces {
  /** ORT's own provider libraries, absent next to the binding: the provider cannot load at all. */
  providerFiles: string[];
  /** System libraries the loader cannot find (may still be found through RPATH, so a softer fact). */
  systemLibraries: string[];
}

function missingFor(provider: ExecutionProvider): MissingPieces {
  const dir = ortBindingDir();
  const libs = loadableLibraries();
  const providerFiles: string[] = [];
  const systemLibraries: string[] = [];
  if (provider === 'cuda' || provider === 'tensorrt') {
    for (const name of ['libonnxruntime_providers_shared.so', `libonnxruntime_providers_${provider}.so`]) {
      if (!dir || !fs.existsSync(path.join(dir, name))) providerFiles.push(name);
    }
    for (const lib of provider === 'cuda' ? CUDA_LIBRARIES : [...CUDA_LIBRARIES, ...TENSORRT_LIBRARIES]) {
      if (!hasLibrary(libs, lib)) systemLibraries.push(lib);
    }
  }
  if (provider === 'webgpu' && process.platform === 'linux' && !hasLibrary(libs, 'libvulkan.so.1')) systemLibraries.push('libvulkan.so.1');
  return { providerFiles, systemLibraries };
}

function describeMissing(provider: ExecutionProvider, m: MissingPieces): string | undefined {
  const parts: string[] = [];
  if (m.providerFiles.length > 0) {
    parts.push(`${m.providerFiles.join(' and ')} not installed next to the ONNX Runtime binding (onnxruntime-node downloads them only with its CUDA 12 package)`);
  }
  if (m.systemLibraries.length > 0) {
    const what = provider === 'webgpu' ? 'Vulkan loader not found' : 'libraries not found';
    parts.push(`${what}: ${m.systemLibraries.join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Failures we can predict without asking ORT (which would also log to stderr, e.g. Vulkan). */
function certainlyUnavailable(provider: ExecutionProvider): string | undefined {
  if (provider === 'cpu') return undefined;
  const m = missingFor(provider);
  if (m.providerFiles.length > 0) return describeMissing(provider, m);
  if (provider === 'webgpu' && m.systemLibraries.length > 0) return describeMissing(provider, m);
  return undefined;
}

function explainProviderFailure(provider: ExecutionProvider, message: string): string {
  if (process.platform === 'linux' && provider !== 'cpu') {
    const described = describeMissing(provider, missingFor(provider));
    if (described) return described;
  }
  if (/No supported adapters/i.test(message)) return 'no GPU adapter found';
  return firstLine(message);
}

/**
 * Says, per execution provider, whether it can run here and why not. Checks files first (provider
 * libraries next to the binding, CUDA/cuDNN/TensorRT/Vulkan libraries the loader can find); when
 * nothing is missing and `tryCreate` is on, opens a one-node session on it to be sure.
 */
export async function probeProviders(options: { tryCreate?: boolean } = {}): Promise<ProviderProbe[]> {
  const tryCreate = options.tryCreate ?? true;
  const supported = new Set(safeListBackends());
  const probes: ProviderProbe[] = [];
  for (const provider of ['cpu', 'cuda', 'tensorrt', 'webgpu'] as ExecutionProvider[]) {
    if (supported.size > 0 && !supported.has(provider)) {
      probes.push({ provider, available: false, reason: `this build of onnxruntime-node (${process.platform}/${process.arch}) has no ${PROVIDER_TITLE[provider]} provider` });
      continue;
    }
    const missing = process.platform === 'linux' ? missingFor(provider) : { providerFiles: [], systemLibraries: [] };
    const described = describeMissing(provider, missing);
    if (described) {
      probes.push({ provider, available: false, reason: described, missing: [...missing.providerFiles, ...missing.systemLibraries] });
      continue;
    }
    if (!tryCreate) {
      probes.push({ provider, available: true, reason: 'libraries found (not tried)' });
      continue;
    }
    probes.push(await tryProvider(provider));
  }
  return probes;
}

function safeListBackends(): string[] {
  try {
    const list = (loadOrt() as unknown as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends;
    return list ? list().map((b) => b.name) : [];
  } catch {
    return [];
  }
}

async function tryProvider(provider: ExecutionProvider): Promise<ProviderProbe> {
  quietNativeLogs();
  try {
    const session = await loadOrt().InferenceSession.create(identityModel(), { executionProviders: [provider] });
    await session.release();
    return { provider, available: true };
  } catch (e) {
    return { provider, available: false, reason: explainProviderFailure(provider, e instanceof Error ? e.message : String(e)) };
  }
}

/** A one-node Identity graph, hand-encoded (ModelProto with ir_version 8, opset 17), for probing. */
function identityModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', shape: [1] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}
