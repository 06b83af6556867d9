/**
 * The safetensors writer: the header of a tensor list (sorted-name order, data offsets, padded to a
 * multiple of 8), then the tensors streamed one by one into a temporary file renamed into place on
 * commit (so a crash never leaves a half-written file under the target name), hashed as written.
 * The format and its reader are safetensors.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { DTYPE_SIZES, DType, FloatDType, elementCount, encodeFromFloat64 } from './dtypes';

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
}

/** Builds the header bytes for tensors in sorted-name order; padded with spaces to a multiple of 8. */
export function buildSafetensorsHeader(tensors: TensorToWrite[], metadata?: Record<string, string>): { header: Buffer; order: TensorToWrite[]; dataLength: number } {
  const order = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) sorted[k] = metadata[k];
    json.__metadata__ = sorted;
  }
  let offset = 0;
  for (const t of order) {
    if (t.name === '__metadata__') throw new ComposerError('internal', 'a tensor cannot be named __metadata__');
    if (json[t.name] !== undefined) throw new ComposerError('internal', `duplicate tensor name "${t.name}"`);
    const bytes = elementCount(t.shape) * DTYPE_SIZES[t.dtype];
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(json);
  const pad = (8 - (Buffer.byteLength(text) % 8)) % 8;
  text += ' '.repeat(pad);
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, order, dataLength: offset };
}

/**
 * Writes a safetensors file tensor by tensor, in sorted-name order (the order of the data section).
 * With `atomic` (the default) it writes a temporary file in the same folder and renames it into
 * place on `commit()`, so a crash never leaves a half-written file under the target name; without,
 * it writes the target directly (for a caller that owns a temporary folder).
 */
export class SafetensorsStream {
  readonly order: TensorToWrite[];
  private readonly temp: string;
  private fd: number | undefined;
  private index = 0;
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(
    readonly target: string,
    tensors: TensorToWrite[],
    options: { metadata?: Record<string, string>; atomic?: boolean } = {},
  ) {
    const { header, order } = buildSafetensorsHeader(tensors, options.metadata);
    this.order = order;
    this.temp = options.atomic ?? true ? path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`) : target;
    this.fd = fs.openSync(this.temp, 'w');
    this.write(header);
  }

  /** The tensor whose bytes come next, or undefined when all are written. */
  get next(): TensorToWrite | undefined {
    return this.order[this.index];
  }

  push(bytes: Uint8Array): void {
    const t = this.order[this.index];
    if (!t) throw new ComposerError('internal', 'more tensors pushed than declared');
    const expected = elementCount(t.shape) * DTYPE_SIZES[t.dtype];
    if (bytes.length !== expected) throw new ComposerError('internal', `tensor "${t.name}": produced ${bytes.length} bytes, header says ${expected}`);
    this.write(bytes);
    this.index++;
  }

  commit(): void {
    if (this.index !== this.order.length) throw new ComposerError('internal', `only ${this.index} of ${this.order.length} tensors written`);
    fs.fsyncSync(this.fd!);
    fs.closeSync(this.fd!);
    this.fd = undefined;
    if (this.temp !== this.target) fs.renameSync(this.temp, this.target);
  }

  /** sha256 of everything written (the whole file once committed). */
  sha256(): string {
    return this.hash.copy().digest('hex');
  }

  abort(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.temp, { force: true });
  }

  private write(buf: Uint8Array): void {
    writeAll(this.fd!, buf);
    this.hash.update(buf);
    this.bytes += buf.length;
  }
}

/** Writes a whole safetensors file from a per-tensor producer (atomic unless told otherwise). */
export function writeSafetensors(
  target: string,
  tensors: TensorToWrite[],
  produce: (t: TensorToWrite) => Uint8Array,
  options: { metadata?: Record<string, string>; atomic?: boolean } = {},
): { bytes: number } {
  const stream = new SafetensorsStream(target, tensors, options);
  try {
    for (let t = stream.next; t; t = stream.next) stream.push(produce(t));
    stream.commit();
  } catch (e) {
    stream.abort();
    throw e;
  }
  return { bytes: stream.bytes };
}

function writeAll(fd: number, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done);
}

/** Convenience for tests and small files: float64 data encoded to the given dtype. */
export function writeFloatTensors(
  target: string,
  tensors: { name: string; dtype: FloatDType; shape: number[]; data: ArrayLike<number> }[],
  metadata?: Record<string, string>,
): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  writeSafetensors(target, tensors, (t) => encodeFromFloat64(byName.get(t.name)!.data, t.dtype as FloatDType), { metadata });
}
