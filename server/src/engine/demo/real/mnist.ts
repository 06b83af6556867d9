/**
 * The real-data demo's digits: 10,000 MNIST images (28×28 uint8) with labels, vendored as
 * data/mnist-10k.bin.gz (see data/ATTRIBUTION.md and scripts/vendor-mnist.mjs). Read from the source
 * tree when run through tsx, or from the repository's copy when run as the bundled dist/cli.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ComposerError } from '../../errors';

export const DIGITS_FILE = 'mnist-10k.bin.gz';

export interface Digits {
  count: number;
  rows: number;
  cols: number;
  /** [count] in 0..9 */
  labels: Uint8Array;
  /** [count, rows·cols] grey levels 0..255 */
  pixels: Uint8Array;
}

/** Where the vendored file is: beside this module (tsx) or under the repository from dist/. */
export function digitsFile(): string {
  const candidates = [
    path.join(__dirname, 'data', DIGITS_FILE),
    path.join(__dirname, '..', 'server', 'src', 'engine', 'demo', 'real', 'data', DIGITS_FILE),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new ComposerError('io', `the real-data demo's digits file (${DIGITS_FILE}) is missing`, { file: candidates[0] }, 'run from a checkout of the repository (it is committed under server/src/engine/demo/real/data)');
  return found;
}

let cached: Digits | undefined;

export function loadDigits(file = digitsFile()): Digits {
  if (cached && file === digitsFile()) return cached;
  const raw = gunzipSync(fs.readFileSync(file));
  if (raw.length < 20 || raw.toString('latin1', 0, 8) !== 'MNIST10K') throw new ComposerError('io', `${file} is not a digits file (bad magic)`, { file });
  const count = raw.readUInt32LE(8);
  const rows = raw.readUInt32LE(12);
  const cols = raw.readUInt32LE(16);
  if (raw.length !== 20 + count + count * rows * cols) throw new ComposerError('io', `${file}: ${raw.length} bytes, expected ${20 + count + count * rows * cols}`, { file });
  const digits: Digits = {
    count,
    rows,
    cols,
    labels: new Uint8Array(raw.buffer, raw.byteOffset + 20, count),
    pixels: new Uint8Array(raw.buffer, raw.byteOffset + 20 + count, count * rows * cols),
  };
  if (file === digitsFile()) cached = digits;
  return digits;
}
