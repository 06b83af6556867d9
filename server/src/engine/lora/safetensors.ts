/**
 * The safetensors format and its reader: 8-byte little-endian header length N, N bytes of a
 * JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then
 * the raw little-endian data. The whole header is validated before any tensor is read; tensors are
 * read one at a time at their file offset, so memory stays near the largest tensor. The writer is
 * safetensorsWriter.ts (re-exported here, so callers import the format from one place).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { ComposerError } from '../errors';
import type { Scratch } from './scratch';
import { DTYPE_SIZES, DType, FloatDType, decodeInto, decodeToFloat64, elementCount, isDType, isFloatDType, type Placement } from './dtypes';
import { openRegular, parseJsonQuiet, readAt } from '../safeRead';

export { buildSafetensorsHeader, SafetensorsStream, writeFloatTensors, writeSafetensors } from './safetensorsWriter';
export type { TensorToWrite } from './safetensorsWriter';

/** Larger headers are refused: real ones are kilobytes (the Rust reference caps at 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** Offsets inside the data section (as in the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Bytes before the data section: 8 + N. */
  dataStart: number;
}

function fail(file: string, message: string, hint?: string): never {
  throw new ComposerError('safetensors', message, { file }, hint);
}

/**
 * Validates a header given its JSON bytes and the size of the data section that follows it.
 * Throws ComposerError('safetensors') naming the tensor and field at fault.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(file, 'safetensors header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(file, 'safetensors header does not start with "{" (not a safetensors file?)');
  let json: unknown;
  try {
    json = parseJsonQuiet(text);
  } catch (e) {
    fail(file, `safetensors header is ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'safetensors header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null) continue; // the Rust reference reads null as "no metadata" (MLX writes it)
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, '"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `"__metadata__"."${k}" must be a string, found ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, `${where}: entry must be an object with dtype, shape, data_offsets`);
    const entry = raw as Record<string, unknown>;
    if (!isDType(entry.dtype)) fail(file, `${where}: unknown dtype ${JSON.stringify(entry.dtype)}`, `known dtypes: ${Object.keys(DTYPE_SIZES).join(', ')}`);
    const dtype = entry.dtype;
    if (!Array.isArray(entry.shape)) fail(file, `${where}: "shape" must be an array of non-negative integers`);
    const shape: number[] = [];
    for (const d of entry.shape as unknown[]) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(file, `${where}: "shape" has an invalid dimension ${JSON.stringify(d)}`);
      shape.push(d);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(file, `${where}: "data_offsets" must be [begin, end]`);
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      fail(file, `${where}: "data_offsets" ${JSON.stringify(offsets)} must be integers with 0 ≤ begin ≤ end`);
    }
    if (end > dataLength) fail(file, `${where}: "data_offsets" end ${end} lies beyond the data section (${dataLength} bytes)`, 'the file is truncated or the header is wrong');
    // compare in floating point first: a huge shape must not overflow into a plausible number
    const count = elementCount(shape);
    const expected = count * DTYPE_SIZES[dtype];
    if (!Number.isSafeInteger(expected) || expected !== end - begin) {
      fail(file, `${where}: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    tensors.set(name, { name, dtype, shape, begin, end });
  }

  // the data section must be covered exactly: no overlaps, no holes, nothing after the last tensor
  const ordered = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: TensorInfo | undefined;
  for (const t of ordered) {
    if (t.begin < cursor) fail(file, `tensor "${t.name}" overlaps tensor "${previous?.name}" (bytes ${t.begin}..${t.end} vs ..${cursor})`);
    if (t.begin > cursor) fail(file, `hole in the data section: bytes ${cursor}..${t.begin} belong to no tensor (before "${t.name}")`, 'the safetensors format requires tensors to cover the data section contiguously');
    cursor = t.end;
    previous = t;
  }
  if (cursor !== dataLength) fail(file, `data section has ${dataLength - cursor} bytes after the last tensor (${dataLength} bytes, tensors end at ${cursor})`);
  return { tensors, metadata, dataStart: 8 + headerBytes.length };
}

/** What a pinned open saw: the sha256 of every byte read through the descriptor, and its stat. */
export interface PinnedRead {
  sha256: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** A safetensors file whose header has been validated; tensors are read on demand. */
export class SafetensorsFile {
  private pinnedFd: number | undefined;
  /** Set by `openPinned`: the hash of the bytes the header was parsed from and the tensors are read from. */
  pinned: PinnedRead | undefined;

  private constructor(
    readonly path: string,
    readonly size: number,
    readonly header: SafetensorsHeader,
  ) {}

  /**
   * Opens the file once and keeps the descriptor: one sequential pass streams every byte through
   * sha256 and the header is parsed from the bytes of that same pass; tensors are then read through
   * the same descriptor (a file replaced by rename meanwhile does not affect it; an in-place write
   * changes its mtime/ctime, which `checkUnchanged` detects). Call `close()` when done.
   */
  static openPinned(file: string): SafetensorsFile {
    // a regular file only (a link to /dev/zero or a FIFO would never end or never answer)
    const { fd } = openRegular(file, 'safetensors file', undefined, 'safetensors');
    try {
      const st = fs.fstatSync(fd);
      const size = st.size;
      if (size < 8) fail(file, `file is ${size} bytes, too short for a safetensors header`);
      const hash = createHash('sha256');
      const chunk = Buffer.alloc(Math.min(size, 1 << 20));
      let headerBytes: Buffer | undefined;
      let headerFilled = 0;
      let position = 0;
      while (position < size) {
        const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
        if (n === 0) fail(file, `unexpected end of file at byte ${position} (the file shrank while it was read)`);
        const bytes = chunk.subarray(0, n);
        hash.update(bytes);
        if (position === 0) {
          const length = bytes.length >= 8 ? bytes.readBigUInt64LE(0) : 0n;
          if (length > BigInt(size - 8)) fail(file, `header length ${length} exceeds the file size (${size} bytes)`, 'the file is truncated or not a safetensors file');
          if (length > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
          headerBytes = Buffer.alloc(Number(length));
        }
        if (headerBytes && headerFilled < headerBytes.length) {
          const from = Math.max(0, 8 + headerFilled - position);
          const copied = bytes.copy(headerBytes, headerFilled, from, Math.min(bytes.length, from + headerBytes.length - headerFilled));
          headerFilled += copied;
        }
        position += n;
      }
      const header = parseSafetensorsHeader(headerBytes!, size - 8 - headerBytes!.length, file);
      const opened = new SafetensorsFile(file, size, header);
      opened.pinnedFd = fd;
      opened.pinned = { sha256: hash.digest('hex'), size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      return opened;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** For a pinned file: throws when the file was written in place since it was hashed. */
  checkUnchanged(): void {
    if (this.pinnedFd === undefined || !this.pinned) return;
    const st = fs.fstatSync(this.pinnedFd);
    if (st.size !== this.pinned.size || st.mtimeMs !== this.pinned.mtimeMs || st.ctimeMs !== this.pinned.ctimeMs) {
      throw new ComposerError('io', `${this.path} was modified while it was being merged`, { file: this.path }, 'compose again once nothing writes to the adapter');
    }
  }

  close(): void {
    if (this.pinnedFd !== undefined) fs.closeSync(this.pinnedFd);
    this.pinnedFd = undefined;
  }

  get tensors(): Map<string, TensorInfo> {
    return this.header.tensors;
  }
  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  static open(file: string): SafetensorsFile {
    const { fd, size } = openRegular(file, 'safetensors file', undefined, 'safetensors');
    try {
      if (size < 8) fail(file, `file is ${size} bytes, too short for a safetensors header`);
      const prefix = Buffer.alloc(8);
      readExactly(fd, prefix, 0, file);
      const n = prefix.readBigUInt64LE(0);
      if (n > BigInt(size - 8)) fail(file, `header length ${n} exceeds the file size (${size} bytes)`, 'the file is truncated or not a safetensors file');
      if (n > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
      const headerBytes = Buffer.alloc(Number(n));
      readExactly(fd, headerBytes, 8, file);
      const header = parseSafetensorsHeader(headerBytes, size - 8 - Number(n), file);
      return new SafetensorsFile(file, size, header);
    } finally {
      fs.closeSync(fd);
    }
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ComposerError('safetensors', `no tensor "${name}"`, { file: this.path });
    return t;
  }

  readBytes(name: string): Buffer {
    const t = this.info(name);
    const buf = Buffer.alloc(t.end - t.begin);
    if (this.pinnedFd !== undefined) {
      readExactly(this.pinnedFd, buf, this.header.dataStart + t.begin, this.path);
      return buf;
    }
    const { fd } = openRegular(this.path, 'safetensors file', undefined, 'safetensors');
    try {
      readExactly(fd, buf, this.header.dataStart + t.begin, this.path);
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  }

  /** A float tensor as float64 (exact for F16, BF16, F32, F64). */
  readFloat64(name: string): Float64Array {
    const t = this.floatInfo(name);
    return decodeToFloat64(this.readBytes(name), t.dtype, elementCount(t.shape));
  }

  /**
   * Decodes a 2-D float tensor straight into its place in `into` (see `decodeInto`); false when some
   * element is not finite. With `scratch`, the file stays open and the bytes land in a reused buffer.
   */
  readInto(name: string, into: Float32Array | Float64Array, at: Placement, scratch?: Scratch): boolean {
    const t = this.floatInfo(name);
    const [rows, cols] = t.shape.length === 0 ? [1, 1] : [t.shape[0], elementCount(t.shape.slice(1))];
    let raw: Uint8Array;
    if (scratch) {
      raw = scratch.bytes('raw', t.end - t.begin);
      readExactly(this.pinnedFd ?? scratch.open(this.path), raw, this.header.dataStart + t.begin, this.path);
    } else {
      raw = this.readBytes(name);
    }
    return decodeInto(raw, t.dtype, rows, cols, into, at);
  }

  private floatInfo(name: string): TensorInfo & { dtype: FloatDType } {
    const t = this.info(name);
    if (!isFloatDType(t.dtype)) {
      throw new ComposerError('unsupported-adapter', `tensor "${name}" has dtype ${t.dtype}; only F16, BF16, F32 and F64 tensors can be merged`, { file: this.path }, 'quantised or integer adapters must be dequantised to a float dtype first');
    }
    return t as TensorInfo & { dtype: FloatDType };
  }
}

function readExactly(fd: number, buf: Uint8Array, position: number, file: string): void {
  const done = readAt(fd, buf, position);
  if (done < buf.length) fail(file, `unexpected end of file at byte ${position + done}`);
}
