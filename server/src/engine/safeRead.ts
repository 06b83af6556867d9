/**
 * The one way the product reads a file. Paths come from untrusted recipes, adapter folders and
 * libraries: a sample `.npy`, a lock or an adapter_config.json that is a symlink to /dev/zero (or a
 * FIFO, a socket, a terminal) used to hang the language server or abort with std::bad_alloc. So:
 *
 *  - open with O_NONBLOCK (a FIFO with no writer does not block the open), then fstat the descriptor
 *    (not the path: nothing can swap the file between the check and the read) and accept regular
 *    files only;
 *  - bound what is read whole by a cap per kind of file, with a clear error naming the file and cap;
 *  - never quote a file's contents in an error (a config symlinked to /etc/passwd must not echo it).
 *
 * Readers that seek (safetensors, npy, hashing) use `openRegular`; libraries that take a path (ONNX
 * Runtime, sharp) get `assertRegularFile` first.
 */
import * as fs from 'node:fs';
import { ComposerError, type ErrorCode, ioError } from './errors';

const MiB = 1024 * 1024;

/** The most bytes read whole, per kind of file. Large binary files are read in pieces, not whole. */
export const READ_CAPS = {
  /** A recipe (*.compose.yaml): recipes are small; the language server plans at most this much. */
  recipe: 1 * MiB,
  /** compose.lock, composition.json, run records. */
  lock: 16 * MiB,
  /** adapter_config.json, encoder.json and other small JSON configs. */
  config: 8 * MiB,
  /** tokenizer.json (large vocabularies run to tens of MB). */
  tokenizer: 64 * MiB,
  /** A text sample file or a text target. */
  text: 64 * MiB,
  /** An image sample (decoded by sharp from these bytes). */
  image: 256 * MiB,
  /** A small state file (a lock holder's pid, a cache count). */
  small: 64 * 1024,
} as const;

export type ReadKind = keyof typeof READ_CAPS;

function describeType(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(file: string, st: fs.Stats, what: string, code: ErrorCode): ComposerError {
  return new ComposerError(code, `${what} ${file} is ${describeType(st)}, not a regular file`, { file }, 'only regular files are read (a symlink must point to one)');
}

function openError(file: string, e: unknown, what: string): ComposerError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ComposerError('io', `${what} not found: ${file}`, { file });
  return ioError(`cannot read ${what}`, file, e);
}

/**
 * Opens a regular file for reading (symlinks followed), checked on the descriptor. The caller closes
 * `fd`. `maxBytes` refuses larger files.
 */
export function openRegular(file: string, what = 'file', maxBytes?: number, code: ErrorCode = 'io'): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    throw openError(file, e, what);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(file, st, what, code);
    if (maxBytes !== undefined && st.size > maxBytes) throw tooLarge(file, st.size, maxBytes, what);
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function tooLarge(file: string, size: number, cap: number, what: string): ComposerError {
  return new ComposerError('io', `${what} ${file} is ${size} bytes; at most ${cap} bytes are read for it`, { file }, 'is this the right file?');
}

/** Reads into `target` from byte `position` until it is full or the file ends; returns the bytes read. */
export function readAt(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * A whole regular file, at most READ_CAPS[kind] bytes. Every failure is a located ComposerError
 * (`<what> not found: …`, `cannot read <what> …: EIO`), so callers need no wrapping of their own.
 */
export function readFileSafe(file: string, kind: ReadKind, what = 'file'): Buffer {
  const cap = READ_CAPS[kind];
  const { fd, size } = openRegular(file, what, cap);
  try {
    const buf = Buffer.alloc(size);
    const done = readAt(fd, buf, 0); // fewer when the file shrank while being read
    return done === size ? buf : buf.subarray(0, done);
  } catch (e) {
    throw ioError(`cannot read ${what}`, file, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole regular text file (UTF-8), at most READ_CAPS[kind] bytes. */
export function readTextSafe(file: string, kind: ReadKind, what = 'file'): string {
  return readFileSafe(file, kind, what).toString('utf8');
}

/** For libraries that open a path themselves (ONNX Runtime, sharp): the path must be a regular file. */
export function assertRegularFile(file: string, what = 'file', maxBytes?: number): number {
  const { fd, size } = openRegular(file, what, maxBytes);
  fs.closeSync(fd);
  return size;
}

/** True when `file` exists and is (or links to) a regular file; never blocks. */
export function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * JSON.parse without echoing the text: V8's messages quote the start of the input
 * (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`), which would print a file that is not
 * ours. Returns the value, or throws an Error whose message names only the position when known.
 */
export function parseJsonQuiet(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    if (m) {
      const at = Number(m[1]);
      const before = text.slice(0, at);
      const line = before.split('\n').length;
      const column = at - before.lastIndexOf('\n');
      // eslint-disable-next-line preserve-caught-error -- V8's error quotes the text, which this function exists to keep out
      throw new Error(`not valid JSON (line ${line}, column ${column})`);
    }
    // eslint-disable-next-line preserve-caught-error -- as above: no cause, it would carry the file's text
    throw new Error(text.trim() === '' ? 'not valid JSON (the file is empty)' : 'not valid JSON');
  }
}
