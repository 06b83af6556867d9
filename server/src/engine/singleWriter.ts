/**
 * One compose per output folder at a time: a `<output>.composing` file created exclusively (O_EXCL)
 * holds the writer's pid. A second compose waits for it; a lock left by a dead process (kill -9) is
 * taken over, so a crash never blocks the next run. The library's writers take the same kind of
 * lock (`withLockFile`). (Not the lock *file* `<recipe>.compose.lock`: that is lock.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from './errors';
import { readTextSafe } from './safeRead';

export async function withOutputLock<T>(outputDir: string, body: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const lockFile = `${outputDir.replace(/[\\/]+$/, '')}.composing`;
  return withLockFile(lockFile, `another compose is writing ${outputDir}`, body, timeoutMs);
}

/** Runs `body` holding `lockFile` (created O_EXCL with our pid; a dead holder's file is taken over). */
export async function withLockFile<T>(lockFile: string, what: string, body: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ComposerError('io', `cannot create ${lockFile}: ${(e as Error).message}`, { file: lockFile });
      // Only a lock file of ours (a pid, or empty: created but not yet written) is ever removed; a file
      // of the user's that happens to carry the name is not — nor a folder, a FIFO, or a file too
      // large to be a pid (unreadable here, it used to read as "empty" and was removed). A symbolic
      // link is ours to remove (the link, never what it points to).
      const kind = entryKind(lockFile);
      const content = kind === 'lock-sized' ? readOr(lockFile, '').trim() : '';
      if (kind === 'other' || (content !== '' && !/^\d{1,10}$/.test(content))) {
        throw new ComposerError('io', `${lockFile} exists and is not a compose lock file (it holds something else)`, { file: lockFile }, 'move that file away; compose keeps a lock file of that name while it writes');
      }
      const holder = Number(content);
      if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
        fs.rmSync(lockFile, { force: true }); // left behind by a process that died
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        throw new ComposerError('io', `${what} (pid ${holder} holds ${path.basename(lockFile)})`, { file: lockFile }, `wait for it to finish, or remove ${lockFile} if that process is gone`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await body();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

/** A lock-sized regular file (a pid is at most 10 digits), a symbolic link, or something else (or gone: 'lock-sized', retried). */
function entryKind(file: string): 'lock-sized' | 'link' | 'other' {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return 'lock-sized';
  }
  if (stat.isSymbolicLink()) return 'link';
  return stat.isFile() && stat.size <= 64 ? 'lock-sized' : 'other';
}

function readOr(file: string, fallback: string): string {
  try {
    return readTextSafe(file, 'small');
  } catch {
    return fallback;
  }
}

/** True while a process with this pid exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
