import { providerReport, type LibraryFound, type ProviderReport } from '../../engine/onnx/providerReport';
import { toJson, type Command } from '../command';

const TITLE: Record<string, string> = { cpu: 'CPU', cuda: 'CUDA', tensorrt: 'TensorRT', webgpu: 'WebGPU' };

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'which execution providers (cpu, cuda, tensorrt, webgpu) can run here, and why not',
  help: `Usage: adapter-composer doctor [options]

Checks what the prototype encoder and the merge can run on: each ONNX Runtime execution provider
(cpu, cuda, tensorrt, webgpu) as available or why not (provider libraries missing next to the
ONNX Runtime binding, CUDA 12 / cuDNN 9 / TensorRT / Vulkan libraries the loader cannot find, no
NVIDIA driver), how to install the CUDA provider for onnxruntime-node, and the image decoder and
tokenizer used for image and text samples.

Options:
  --json          the report as one JSON object
  --no-try        only check files; do not open a test session on each provider
  -h, --help      this help`,
  options: { 'no-try': { type: 'boolean' } },
  async run(args, io) {
    const report = await providerReport({ tryCreate: !args.values['no-try'] });
    io.out(args.values.json ? toJson(report) : formatReport(report));
    return 0;
  },
};

export function formatReport(r: ProviderReport): string {
  const lines: string[] = [];
  lines.push(`node ${r.node} on ${r.platform}; onnxruntime-node ${r.onnxruntime.version ?? '(not found)'}`);
  lines.push('');
  lines.push('Execution providers:');
  for (const p of r.providers) {
    lines.push(`  ${p.available ? '✓' : '✗'} ${p.provider.padEnd(9)} ${p.available ? `available${p.reason ? ` (${p.reason})` : ''}` : `unavailable: ${p.reason ?? 'unknown reason'}`}`);
  }
  lines.push('');
  lines.push(`GPU: ${r.gpu.devices.length > 0 ? r.gpu.devices.join('; ') : (r.gpu.note ?? 'none found')}`);
  if (r.libraries.length > 0) {
    lines.push('Libraries the loader finds:');
    for (const l of r.libraries) lines.push(`  ${l.found ? '✓' : '✗'} ${l.name.padEnd(20)} ${l.found ? `${l.path}${l.version ? ` (${l.version})` : ''}` : notFound(l)}`);
  }
  lines.push(`ONNX Runtime provider libraries in ${r.onnxruntime.bindingDir ?? '(binding not found)'}:`);
  for (const f of r.onnxruntime.providerFiles) lines.push(`  ${f.present ? '✓' : '✗'} ${f.name}`);
  const cuda = r.providers.find((p) => p.provider === 'cuda');
  if (cuda && !cuda.available) {
    lines.push('');
    lines.push(`To use the ${TITLE.cuda} provider:`);
    if (r.cudaInstall.disabledBy.length > 0) {
      lines.push('  the CUDA download of onnxruntime-node is switched off by:');
      for (const d of r.cudaInstall.disabledBy) lines.push(`    ${d}`);
    }
    lines.push('  fetch the CUDA 12 provider libraries with onnxruntime-node\'s install script:');
    for (const c of r.cudaInstall.commands) lines.push(`    ${c}`);
    lines.push(`  (${r.cudaInstall.requirements})`);
    lines.push('  then: adapter-composer doctor   — and plan/compose with --provider cuda (auto tries CUDA first)');
  }
  lines.push('');
  lines.push('Sample readers:');
  for (const s of r.sampleReaders) lines.push(`  ${s.available ? '✓' : '✗'} ${s.name.padEnd(24)} ${s.available ? s.version : `unavailable: ${s.reason}`}`);
  return lines.join('\n');
}

/** A missing library, and the other major versions of it the loader finds (the provider needs this one). */
function notFound(l: LibraryFound): string {
  if (!l.otherVersions) return 'not found';
  return `not found (the loader has ${l.otherVersions.join(', ')}: another major version, which onnxruntime-node's provider does not load)`;
}
