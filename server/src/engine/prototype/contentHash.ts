/**
 * Content hashes (sha256, hex): of files, of prototypes, and the cache key of a prototype computed
 * from (encoder, inputs). Hashes name content, not paths, so moving a file keeps its cache entry.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { ComposerError } from '../errors';
import { openRegular } from '../safeRead';

export function sha256Bytes(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Streams the file through sha256 (no whole-file buffer). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let fd: number;
    try {
      fd = openRegular(file).fd;
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const stream = fs.createReadStream(file, { highWaterMark: 1 << 20, fd });
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', (e: NodeJS.ErrnoException) =>
      reject(new ComposerError('io', e.code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${e.message}`, { file })));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}

/** Synchronous variant for small files (encoder checks, tests). */
export function sha256FileSync(file: string): string {
  const hash = createHash('sha256');
  const { fd } = openRegular(file);
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Hash of a prototype as the library stores it: its float32 little-endian bytes. A float64
 * prototype hashes like its float32 rounding, so a computed and a stored prototype compare equal.
 */
export function sha256Prototype(prototype: ArrayLike<number>): string {
  const f32 = Float32Array.from(prototype);
  const bytes = Buffer.alloc(f32.length * 4);
  for (let i = 0; i < f32.length; i++) bytes.writeFloatLE(f32[i], i * 4);
  return sha256Bytes(bytes);
}

export interface PrototypeKeyParts {
  /** sha256 of the encoder file ('' for features/prototype inputs, which need no encoder). */
  encoderSha256: string;
  /** How the inputs are read: 'samples' | 'features' | 'prototype'. */
  source: string;
  /** sha256 of each input file (order does not matter: the key sorts them). */
  inputSha256s: string[];
}

/** The cache key of a prototype: sha256 over (format tag, encoder hash, source, sorted input hashes). */
export function prototypeCacheKey(parts: PrototypeKeyParts): string {
  // Sorted: the mean over samples does not depend on file order.
  const inputs = [...parts.inputSha256s].sort();
  return sha256Bytes(JSON.stringify({ v: 1, encoder: parts.encoderSha256, source: parts.source, inputs }));
}
