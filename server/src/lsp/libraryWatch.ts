/**
 * Notices when a library folder changes on disk (another process ran `library add`): a cheap
 * signature of the folder (mtimes of the table folders and their `_versions`) polled on a timer.
 * Remote libraries (s3://, gs://) are not polled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { localPath as localPathOf } from '../engine/location';

export class LibraryWatch {
  private readonly signatures = new Map<string, string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly onChange: (libraryPath: string) => void) {}

  /** The libraries of the open recipes; forgets the others. */
  setLibraries(paths: Iterable<string>): void {
    const wanted = new Set([...paths].map(localPath).filter((p): p is string => !!p));
    for (const p of [...this.signatures.keys()]) if (!wanted.has(p)) this.signatures.delete(p);
    for (const p of wanted) if (!this.signatures.has(p)) this.signatures.set(p, signature(p));
  }

  start(intervalMs: number): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    for (const [p, before] of this.signatures) {
      const now = signature(p);
      if (now !== before) {
        this.signatures.set(p, now);
        this.onChange(p);
      }
    }
  }
}

function localPath(uri: string): string | undefined {
  return localPathOf(uri, process.cwd());
}

function signature(dir: string): string {
  const parts: string[] = [];
  const stamp = (p: string) => {
    try {
      const s = fs.statSync(p);
      parts.push(`${p}:${s.mtimeMs}:${s.size}`);
      return s.isDirectory();
    } catch {
      parts.push(`${p}:-`);
      return false;
    }
  };
  if (!stamp(dir)) return parts.join('|');
  let entries: string[];
  try {
    entries = fs.readdirSync(dir).sort();
  } catch {
    return parts.join('|');
  }
  for (const name of entries.slice(0, 64)) {
    const table = path.join(dir, name);
    if (stamp(table) && name.endsWith('.lance')) stamp(path.join(table, '_versions'));
  }
  return parts.join('|');
}
