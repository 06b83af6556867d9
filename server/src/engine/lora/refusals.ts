/**
 * The adapters we will not read, each refused with the reason and what to do instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { openRegular } from '../safeRead';

export function refuse(file: string, reason: string, hint: string): never {
  throw new ComposerError('unsupported-adapter', reason, { file }, hint);
}

export function refusePickle(file: string): never {
  const name = path.basename(file);
  const out = name.replace(/\.(bin|pt|pth|ckpt|pkl)$/i, '') + '.safetensors';
  refuse(
    file,
    `${name} is a pickled PyTorch checkpoint; pickles can run arbitrary code when loaded, so it is never unpickled here`,
    `convert it once to safetensors in a Python environment you trust: python -c "import torch; from safetensors.torch import save_file; ` +
      `save_file({k: v.contiguous() for k, v in torch.load('${name}', map_location='cpu', weights_only=True).items()}, '${out}')"`,
  );
}

export function refuseDora(file: string, evidence: string): never {
  refuse(
    file,
    `DoRA adapter (${evidence}): its update rescales the merged weight by a magnitude vector, so it is not a low-rank product B·A and cannot be merged as LoRA`,
    'merge it into the base model with PEFT (merge_and_unload), or use a plain LoRA adapter',
  );
}

export function refuseLycoris(file: string, algorithm: 'LoKr' | 'LoHa' | 'LoCon (Tucker)' | 'OFT' | 'full-difference', evidence: string): never {
  const what: Record<string, string> = {
    LoKr: 'Kronecker-product update kron(w1, w2)',
    LoHa: 'Hadamard-product update (w1a·w1b) ⊙ (w2a·w2b)',
    'LoCon (Tucker)': 'Tucker-decomposed convolution update with a lora_mid core',
    OFT: 'orthogonal fine-tuning (a rotation, not an additive update)',
    'full-difference': 'full weight difference (not low-rank)',
  };
  refuse(
    file,
    `LyCORIS ${algorithm} network (${evidence}): a ${what[algorithm]}, not a LoRA B·A`,
    'extract a LoRA from it (e.g. LyCORIS or kohya "extract_lora_from_models" on the merged model) or use a plain LoRA adapter',
  );
}

/** Pickle/zip magic at the start of a file: a torch checkpoint whatever its extension says. */
export function looksPickled(file: string): boolean {
  try {
    const { fd } = openRegular(file);
    try {
      const head = Buffer.alloc(4);
      const n = fs.readSync(fd, head, 0, 4, 0);
      if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return true; // zip (torch ≥ 1.6)
      return n >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5; // raw pickle protocol 2–5
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}
