/**
 * The native packages (LanceDB with apache-arrow, ONNX Runtime, the tokenizers binding), loaded on
 * first use instead of when the CLI or the language server starts. Loading them costs about 0.3 s of
 * the 0.4 s a bare `adapter-composer --version` took (LanceDB's native library most of it); the
 * language server answers `initialize` and shows its status before any of them is needed, and a
 * recipe with a .npy target never loads ONNX Runtime or the tokenizer at all (bench/coldStart.ts).
 *
 * Modules import the packages' types only (`import type * as lancedb from '@lancedb/lancedb'`) and
 * call these for values. Type-only imports are erased, so nothing is required before the call.
 */
import type * as LanceDb from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import type * as Ort from 'onnxruntime-node';
import type * as Tokenizers from '@huggingface/tokenizers';

let lance: typeof LanceDb | undefined;
let arrowModule: typeof Arrow | undefined;
let ortModule: typeof Ort | undefined;
let tokenizersModule: typeof Tokenizers | undefined;

/** @lancedb/lancedb, with its native logger quieted (it reads LANCEDB_LOG once, when it loads). */
export function loadLancedb(): typeof LanceDb {
  if (!lance) {
    if (process.env.LANCEDB_LOG === undefined) process.env.LANCEDB_LOG = 'error';
    // apache-arrow through the CommonJS build LanceDB itself uses (one copy of its classes).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, synchronously (the point of this module)
    lance = require('@lancedb/lancedb') as typeof LanceDb;
  }
  return lance;
}

export function loadArrow(): typeof Arrow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, synchronously (the point of this module)
  return (arrowModule ??= require('apache-arrow') as typeof Arrow);
}

export function loadOrt(): typeof Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, synchronously (the point of this module)
  return (ortModule ??= require('onnxruntime-node') as typeof Ort);
}

export function loadTokenizers(): typeof Tokenizers {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, synchronously (the point of this module)
  return (tokenizersModule ??= require('@huggingface/tokenizers') as typeof Tokenizers);
}
