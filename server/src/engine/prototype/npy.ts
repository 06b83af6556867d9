/**
 * NumPy .npy files, read and written per the published format
 * (numpy.lib.format, "NEP 1 — A simple file format for NumPy arrays"):
 *
 *   magic "\x93NUMPY" · major · minor · header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0)
 *   · header: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }
 *     padded with spaces and ending in '\n' (latin-1 in 1.0/2.0, UTF-8 in 3.0) · raw data.
 *
 * Only float arrays are accepted (<f2, <f4, <f8 and their big-endian forms). Every size is checked
 * against the file size before anything is allocated, so a corrupt header cannot make us allocate
 * more than the file justifies. The header dict is read by pythonLiteral.ts.
 */
import * as fs from 'node:fs';
import { ComposerError } from '../errors';
import { openRegular, readAt } from '../safeRead';
import { f16BitsToNumber } from '../lora/dtypes';
import { isDict, parsePythonLiteral, type PyValue } from './pythonLiteral';

export type NpyDtype = 'float16' | 'float32' | 'float64';

export interface NpyHeader {
  file: string;
  version: [number, number];
  dtype: NpyDtype;
  /** The descr string as written, e.g. '<f4'. */
  descr: string;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Number of elements (product of the shape). */
  count: number;
  itemSize: number;
  /** Byte offset of the first data byte. */
  dataOffset: number;
}

export interface NpyArray {
  shape: number[];
  /** float16 files are widened to float32; values in C (row-major) order. */
  data: Float32Array | Float64Array;
  dtype: NpyDtype;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Headers are a few hundred bytes; anything far larger is corruption, not a bigger array. */
const MAX_HEADER_BYTES = 1 << 20;

function npyError(file: string, message: string, hint?: string): ComposerError {
  return new ComposerError('npy', message, { file }, hint);
}

// ---------------------------------------------------------------------------------------------
// Header

/** Parses the preamble and header dict from the first bytes of a file (which may be longer). */
export function parseNpyHeader(prefix: Uint8Array, fileSize: number, file: string): NpyHeader {
  if (prefix.length < 10 || !MAGIC.every((b, i) => prefix[i] === b)) {
    throw npyError(file, 'not a .npy file (missing the \\x93NUMPY magic)', 'save arrays with numpy.save(); .npz archives and text files are not read');
  }
  const major = prefix[6];
  const minor = prefix[7];
  if (major < 1 || major > 3) throw npyError(file, `unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are read)`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (prefix.length < 8 + lengthBytes) throw npyError(file, 'truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataOffset = headerStart + headerLength;
  if (headerLength > MAX_HEADER_BYTES) throw npyError(file, `.npy header length ${headerLength} is implausibly large (corrupt file?)`);
  if (dataOffset > fileSize || dataOffset > prefix.length) {
    throw npyError(file, `truncated .npy header: it declares ${headerLength} bytes but the file has ${Math.max(0, fileSize - headerStart)} after the preamble`);
  }
  const headerBytes = prefix.subarray(headerStart, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  let dict: Record<string, PyValue>;
  try {
    const parsed = parsePythonLiteral(text);
    if (!isDict(parsed)) throw new Error('the header is not a dict');
    dict = parsed;
  } catch (e) {
    throw npyError(file, `malformed .npy header (${(e as Error).message}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in dict)) throw npyError(file, `.npy header has no '${key}' key`);
  }
  const descr = dict.descr;
  if (typeof descr !== 'string') throw npyError(file, 'structured arrays (a list descr) are not supported; save a plain float array');
  const { dtype, littleEndian, itemSize } = parseDescr(descr, file);
  if (typeof dict.fortran_order !== 'boolean') throw npyError(file, "'fortran_order' in the .npy header is not True/False");
  const shape = dict.shape;
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw npyError(file, `'shape' in the .npy header is not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * itemSize)) throw npyError(file, `shape (${dims.join(', ')}) is too large`);
  const expected = count * itemSize;
  const actual = fileSize - dataOffset;
  if (actual < expected) {
    throw npyError(file, `truncated .npy data: shape (${dims.join(', ')}) of ${descr} needs ${expected} bytes, the file has ${actual}`, 'the file was probably cut short while copying or saving');
  }
  if (actual > expected) {
    throw npyError(file, `.npy file has ${actual - expected} unexpected bytes after the data for shape (${dims.join(', ')}) of ${descr}`, 'the header does not match the data; re-save the array with numpy.save()');
  }
  return {
    file,
    version: [major, minor],
    dtype,
    descr,
    littleEndian,
    fortranOrder: dict.fortran_order,
    shape: dims,
    count,
    itemSize,
    dataOffset,
  };
}

function parseDescr(descr: string, file: string): { dtype: NpyDtype; littleEndian: boolean; itemSize: number } {
  const m = /^([<>=|]?)f([248])$/.exec(descr);
  if (!m) {
    const kind = /^[<>=|]?([a-zA-Z])/.exec(descr)?.[1];
    const name = kind === 'i' || kind === 'u' ? 'integer' : kind === 'b' ? 'boolean' : kind === 'c' ? 'complex' : kind === 'O' ? 'object' : kind === 'U' || kind === 'S' ? 'string' : 'unsupported';
    throw npyError(file, `${name} dtype '${descr}' is not supported; only float16/float32/float64 arrays are read`, 'convert with array.astype(numpy.float32) before saving');
  }
  const itemSize = Number(m[2]);
  const littleEndian = m[1] === '>' ? false : m[1] === '<' || m[1] === '|' ? true : HOST_LITTLE_ENDIAN;
  return { dtype: itemSize === 2 ? 'float16' : itemSize === 4 ? 'float32' : 'float64', littleEndian, itemSize };
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Reads just the header of a file on disk. */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openForReading(file);
  try {
    const size = fs.fstatSync(fd).size;
    // Read the preamble, then as much header as it declares.
    const pre = Buffer.alloc(Math.min(12, size));
    fs.readSync(fd, pre, 0, pre.length, 0);
    let want = pre.length;
    if (pre.length >= 10 && MAGIC.every((b, i) => pre[i] === b)) {
      const major = pre[6];
      const len = major === 1 ? pre.readUInt16LE(8) : pre.length >= 12 ? pre.readUInt32LE(8) : 0;
      want = Math.min(size, (major === 1 ? 10 : 12) + Math.min(len, MAX_HEADER_BYTES + 1));
    }
    const prefix = Buffer.alloc(want);
    fs.readSync(fd, prefix, 0, want, 0);
    return parseNpyHeader(prefix, size, file);
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(file: string): number {
  return openRegular(file, 'npy file', undefined, 'npy').fd;
}

// ---------------------------------------------------------------------------------------------
// Data

/** Converts `count` raw elements to a float32/float64 array in host order (float16 → float32). */
function decode(bytes: Uint8Array, header: Pick<NpyHeader, 'dtype' | 'littleEndian' | 'itemSize'>, count: number): Float32Array | Float64Array {
  const { dtype, littleEndian, itemSize } = header;
  const aligned = new Uint8Array(count * itemSize);
  aligned.set(bytes.subarray(0, count * itemSize));
  if (littleEndian !== HOST_LITTLE_ENDIAN) {
    for (let i = 0; i < aligned.length; i += itemSize) aligned.subarray(i, i + itemSize).reverse();
  }
  if (dtype === 'float64') return new Float64Array(aligned.buffer, 0, count);
  if (dtype === 'float32') return new Float32Array(aligned.buffer, 0, count);
  const halves = new Uint16Array(aligned.buffer, 0, count);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = f16BitsToNumber(halves[i]);
  return out;
}

/** C-order copy of a Fortran-order array. */
function fortranToC<T extends Float32Array | Float64Array>(data: T, shape: number[]): T {
  if (shape.length < 2) return data;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const n = shape.length;
  const cStrides = new Array<number>(n);
  const fStrides = new Array<number>(n);
  cStrides[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) cStrides[i] = cStrides[i + 1] * shape[i + 1];
  fStrides[0] = 1;
  for (let i = 1; i < n; i++) fStrides[i] = fStrides[i - 1] * shape[i - 1];
  const index = new Array<number>(n).fill(0);
  for (let f = 0; f < data.length; f++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += index[i] * cStrides[i];
    out[c] = data[f];
    for (let i = 0; i < n; i++) {
      if (++index[i] < shape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

/** Decodes a whole .npy held in memory. */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const header = parseNpyHeader(bytes, bytes.length, file);
  const raw = bytes.subarray(header.dataOffset);
  let data = decode(raw, header, header.count);
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { shape: header.shape, data, dtype: header.dtype };
}

/** Reads a whole .npy file (sizes checked against the file before allocating). */
export function readNpy(file: string): NpyArray {
  const header = readNpyHeader(file);
  const fd = openForReading(file);
  try {
    const raw = Buffer.alloc(header.count * header.itemSize);
    readFully(fd, raw, header.dataOffset, file);
    let data = decode(raw, header, header.count);
    if (header.fortranOrder) data = fortranToC(data, header.shape);
    return { shape: header.shape, data, dtype: header.dtype };
  } finally {
    fs.closeSync(fd);
  }
}

function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  if (readAt(fd, target, position) < target.length) throw npyError(file, 'file ended early while reading (was it modified while being read?)');
}

// ---------------------------------------------------------------------------------------------
// Streaming rows of an [N, D] (or [D]) file

export interface RowBatch {
  /** Index of the first row of this batch. */
  start: number;
  rows: number;
  /** D values per row; float16 files come as float32. */
  dim: number;
  /** rows × dim values, row-major. */
  data: Float32Array | Float64Array;
}

/** Rows and width of a file read as samples: [D] is one row, [N, D] is N rows. */
export function rowLayout(header: NpyHeader): { rows: number; dim: number } {
  if (header.shape.length === 1) return { rows: 1, dim: header.shape[0] };
  if (header.shape.length === 2) return { rows: header.shape[0], dim: header.shape[1] };
  throw new ComposerError('dimension', `expected an array of shape [D] or [N, D], got (${header.shape.join(', ')})`, { file: header.file }, 'save one sample per row: array.reshape(N, -1)');
}

/**
 * Yields batches of at most `batchRows` rows, reading by file offsets: memory stays bounded by one
 * batch whatever the file size. Fortran-order files are read column by column within each batch.
 */
export function* readNpyRows(file: string, batchRows: number): Generator<RowBatch> {
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new ComposerError('usage', `batch size must be a positive integer, got ${batchRows}`);
  const header = readNpyHeader(file);
  const { rows, dim } = rowLayout(header);
  const fd = openForReading(file);
  try {
    const rowBytes = dim * header.itemSize;
    for (let start = 0; start < rows; start += batchRows) {
      const n = Math.min(batchRows, rows - start);
      const raw = Buffer.alloc(n * rowBytes);
      if (!header.fortranOrder || header.shape.length === 1) {
        readFully(fd, raw, header.dataOffset + start * rowBytes, file);
        yield { start, rows: n, dim, data: decode(raw, header, n * dim) };
      } else {
        // Column j holds rows contiguously at offset j·N: read the slice [start, start+n) of each.
        const column = Buffer.alloc(n * header.itemSize);
        const colMajor = Buffer.alloc(n * rowBytes);
        for (let j = 0; j < dim; j++) {
          readFully(fd, column, header.dataOffset + (j * rows + start) * header.itemSize, file);
          colMajor.set(column, j * n * header.itemSize);
        }
        const decoded = decode(colMajor, header, n * dim);
        yield { start, rows: n, dim, data: fortranToC(decoded, [n, dim]) };
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Encodes a float32/float64 array as a version 1.0 .npy (2.0 if the header would not fit). */
export function encodeNpy(data: Float32Array | Float64Array, shape: number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ComposerError('dimension', `shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let preamble = 10;
  let total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  if (total - preamble > 0xffff) {
    major = 2;
    preamble = 12;
    total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  }
  const header = dict + ' '.repeat(total - preamble - dict.length - 1) + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, total);
  if (!HOST_LITTLE_ENDIAN) {
    for (let i = total; i < out.length; i += data.BYTES_PER_ELEMENT) out.subarray(i, i + data.BYTES_PER_ELEMENT).reverse();
  }
  return out;
}

export function writeNpy(file: string, data: Float32Array | Float64Array, shape: number[] = [data.length]): void {
  fs.writeFileSync(file, encodeNpy(data, shape));
}
