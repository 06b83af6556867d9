// The VS Code platforms the extension ships for, and which native packages each one needs.
// Shared by scripts/package-vsix.mjs (what to stage) and test/packaging (what to expect), so the two
// cannot disagree about a target. Versions are not here: they come from the installed packages'
// optionalDependencies and the lockfile (see package-vsix.mjs).

/**
 * target: a vsce --target name.
 * lancedb: LanceDB's platform package (one .node file).
 * ort: onnxruntime-node's binary folder under bin/napi-v6/ (the package ships every platform inside itself).
 * sharp: sharp's platform package, and libvips' (on Windows libvips is inside sharp's package).
 * binary: the executable format every native file of the target must have (checked on the headers).
 * ortPrune: ORT files left out of this target's .vsix, each with the reason it is safe.
 */
export const TARGETS = {
  'linux-x64': {
    lancedb: '@lancedb/lancedb-linux-x64-gnu',
    ort: 'linux/x64',
    sharp: ['@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64'],
    binary: { format: 'elf', arch: 'x86-64' },
  },
  'linux-arm64': {
    lancedb: '@lancedb/lancedb-linux-arm64-gnu',
    ort: 'linux/arm64',
    sharp: ['@img/sharp-linux-arm64', '@img/sharp-libvips-linux-arm64'],
    binary: { format: 'elf', arch: 'aarch64' },
  },
  'darwin-arm64': {
    lancedb: '@lancedb/lancedb-darwin-arm64',
    ort: 'darwin/arm64',
    sharp: ['@img/sharp-darwin-arm64', '@img/sharp-libvips-darwin-arm64'],
    binary: { format: 'macho', arch: 'arm64' },
  },
  'win32-x64': {
    lancedb: '@lancedb/lancedb-win32-x64-msvc',
    ort: 'win32/x64',
    sharp: ['@img/sharp-win32-x64'],
    binary: { format: 'pe', arch: 'x64' },
    // DirectML.dll (18 MB) serves only ORT's DirectML provider, which the product never asks for;
    // onnxruntime.dll delay-loads it, so without it the CPU/WebGPU providers load as before (checked on
    // the import tables in test/packaging). dxcompiler.dll/dxil.dll stay: WebGPU (Dawn) uses them.
    ortPrune: ['DirectML.dll'],
  },
};

/** Targets asked for in the issue that the pinned native dependencies cannot serve, and why. */
export const UNSUPPORTED = {
  'darwin-x64':
    'macOS Intel: @lancedb/lancedb 0.31.0 publishes no darwin-x64 package (the last one is 0.22.3) and ' +
    'onnxruntime-node 1.30.0 ships no bin/napi-v6/darwin/x64 (sharp has one). Not buildable with the pinned versions.',
  'alpine-x64':
    'Alpine (musl): LanceDB (lancedb-linux-x64-musl) and sharp (sharp-linuxmusl-x64) have musl builds, ' +
    'onnxruntime-node 1.30.0 does not (its linux/x64 binary links glibc). Not buildable.',
};

/** Native-file suffixes: what counts as a binary in a listing. */
export const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;
