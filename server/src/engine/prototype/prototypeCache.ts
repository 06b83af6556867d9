/**
 * A folder of computed prototypes keyed by content hash (see prototypeCacheKey): recomputing a
 * target prototype is skipped when the encoder and every input file are byte-identical.
 * Entries are float64 .npy files written atomically (temp file + rename), so a crash mid-write
 * never leaves a half entry; an unreadable entry is treated as absent.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNpy, writeNpy } from './npy';
import { readTextSafe } from '../safeRead';

/**
 * The user-level cache folder: content-addressed, so one cache serves every project and checkout.
 * ADAPTER_COMPOSER_CACHE overrides it; XDG_CACHE_HOME is honoured.
 */
export function defaultPrototypeCacheDir(): string {
  if (process.env.ADAPTER_COMPOSER_CACHE) return path.join(process.env.ADAPTER_COMPOSER_CACHE, 'prototypes');
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'adapter-composer', 'prototypes');
}

export class PrototypeCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(key)) throw new RangeError(`not a content-hash key: ${key}`);
    return path.join(this.dir, `${key}.npy`);
  }

  get(key: string): Float64Array | undefined {
    const file = this.file(key);
    if (!fs.existsSync(file)) return undefined;
    try {
      const { data, shape } = readNpy(file);
      if (shape.length !== 1) return undefined;
      return Float64Array.from(data);
    } catch {
      return undefined;
    }
  }

  put(key: string, prototype: Float64Array): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file(key);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeNpy(temp, prototype, [prototype.length]);
    fs.renameSync(temp, file);
  }

  /** The sample count stored with an entry (written before the entry itself, so a present entry has it). */
  count(key: string): number | undefined {
    try {
      const n = Number(readTextSafe(path.join(this.dir, `${key}.count`), 'small'));
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  putWithCount(key: string, prototype: Float64Array, count: number): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const countFile = path.join(this.dir, `${key}.count`);
    const temp = `${countFile}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(temp, String(count));
    fs.renameSync(temp, countFile);
    this.put(key, prototype);
  }

  /** The cached prototype for `key`, or compute, store and return it. */
  async getOrCompute(key: string, compute: () => Promise<Float64Array>): Promise<{ prototype: Float64Array; cached: boolean }> {
    const hit = this.get(key);
    if (hit) return { prototype: hit, cached: true };
    const prototype = await compute();
    this.put(key, prototype);
    return { prototype, cached: false };
  }
}
