/**
 * Reusable buffers (and open files) for a pass over many tensors. Large typed arrays live outside
 * the V8 heap: allocating one per tensor costs zero-filling, page faults and frequent garbage
 * collections, more than decoding the tensor. A merge reuses a few named slots that grow to the
 * largest tensor, and opens each input file once.
 */
import * as fs from 'node:fs';
import { openRegular } from '../safeRead';

export class Scratch {
  private readonly buffers = new Map<string, ArrayBuffer>();
  private readonly files = new Map<string, number>();

  private buffer(slot: string, bytes: number): ArrayBuffer {
    let b = this.buffers.get(slot);
    if (!b || b.byteLength < bytes) {
      // grow geometrically so that a run of slightly larger tensors does not reallocate each time
      b = new ArrayBuffer(Math.max(bytes, Math.ceil((b?.byteLength ?? 0) * 1.5), 4096));
      this.buffers.set(slot, b);
    }
    return b;
  }

  /** `length` bytes of slot `slot`; the contents are whatever the slot held before. */
  bytes(slot: string, length: number): Uint8Array {
    return new Uint8Array(this.buffer(slot, length), 0, length);
  }

  float32(slot: string, length: number): Float32Array {
    return new Float32Array(this.buffer(slot, length * 4), 0, length);
  }

  float64(slot: string, length: number): Float64Array {
    return new Float64Array(this.buffer(slot, length * 8), 0, length);
  }

  /** A read descriptor for `file`, opened on first use and kept until `close`. */
  open(file: string): number {
    let fd = this.files.get(file);
    if (fd === undefined) {
      fd = openRegular(file).fd;
      this.files.set(file, fd);
    }
    return fd;
  }

  /** Closes the files and drops the buffers. */
  close(): void {
    for (const fd of this.files.values()) fs.closeSync(fd);
    this.files.clear();
    this.buffers.clear();
  }
}
