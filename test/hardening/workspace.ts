/**
 * A demo workspace made by the real CLI (`demo --out`), and a way to run the CLI as a child process
 * (the built dist/cli.js: kill -9, ulimit and concurrency need a real process).
 */
import { after, before } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdapterRecord } from '../../server/src/engine/types';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

/** The newest modification time (ms) of the files dist/cli.js and dist/composeWorker.js are bundled from. */
function newestSource(): number {
  let newest = fs.statSync(path.join(REPO, 'package.json')).mtimeMs;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(REPO, 'server', 'src'));
  return newest;
}

/**
 * dist/ as the tests spawn it. `scripts/run-tests.mjs` builds once before any test file starts and
 * says so (ADAPTER_COMPOSER_TEST_BUILT); test files never rebuild then, so no file rewrites
 * dist/cli.js while another spawns it. A file run on its own builds only when dist/ is missing or
 * older than the sources (HARDENING_SKIP_BUILD: never).
 */
export function ensureBuilt(): void {
  const built = [CLI, path.join(REPO, 'dist', 'composeWorker.js')];
  if (built.every((f) => fs.existsSync(f)) && (process.env.ADAPTER_COMPOSER_TEST_BUILT || process.env.HARDENING_SKIP_BUILD)) return;
  if (built.every((f) => fs.existsSync(f)) && Math.min(...built.map((f) => fs.statSync(f).mtimeMs)) >= newestSource()) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export function demoWorkspace(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const r = spawnSync(process.execPath, [CLI, 'demo', '--out', dir], { encoding: 'utf8', cwd: dir });
  if (r.status !== 0) throw new Error(`demo failed: ${r.stderr}${r.stdout}`);
  return dir;
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function cli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } ): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

export function cliAsync(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; shellPrefix?: string }): { child: ChildProcess; done: Promise<Run> } {
  const t0 = Date.now();
  const child = options.shellPrefix
    ? spawn('bash', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, process.execPath, CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } })
    : spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 })));
  return { child, done };
}

/** Every file of a folder (relative path → bytes), or undefined when it does not exist. */
export function snapshot(dir: string): Map<string, Buffer> | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export function sameSnapshot(a: Map<string, Buffer> | undefined, b: Map<string, Buffer> | undefined): boolean {
  if (!a || !b || a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

/**
 * A hostile-round test file's set-up: one demo workspace made before its tests (`demo()`), copies of it
 * and temporary folders for each test, all removed after the file's tests.
 */
export function demoRound(name: string): { demo: () => string; tempDir: (prefix: string) => string; workspaceCopy: () => string } {
  let demo = '';
  const made: string[] = [];
  before(() => {
    ensureBuilt();
    demo = demoWorkspace(`ac-${name}-`);
  });
  after(() => {
    for (const dir of [demo, ...made]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (prefix: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
  const workspaceCopy = (): string => {
    const dir = tempDir(`ac-${name}-ws-`);
    fs.cpSync(demo, dir, { recursive: true });
    return dir;
  };
  return { demo: () => demo, tempDir, workspaceCopy };
}

/**
 * Rows written straight through LanceDB, as another tool (or a pull request's commit) could write them:
 * none of `library add`'s checks (names, bases, details) run.
 */
export async function addRowsUnchecked(lib: string, records: AdapterRecord[]): Promise<void> {
  const lancedb = await import('@lancedb/lancedb');
  const { rowFromRecord, ADAPTERS_TABLE } = await import('../../server/src/engine/library/schema');
  const db = await lancedb.connect(lib);
  const table = await db.openTable(ADAPTERS_TABLE);
  try {
    await table.add(records.map((r) => rowFromRecord(r)));
  } finally {
    table.close();
    db.close();
  }
}
