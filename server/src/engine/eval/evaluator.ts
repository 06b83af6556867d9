/**
 * A recipe's external evaluator (`evaluate: {command: [argv…], timeout}`), run after compose.
 *
 * It runs only when the caller allows it (CLI `--allow-exec`, a trusted workspace in the editor), is
 * spawned from its argv WITHOUT a shell (the recipe's strings are passed literally: no globbing,
 * quoting or `$(…)`), in its own process group so that a timeout stops the whole tree, and must print
 * its metrics as JSON on stdout (the last line that is a JSON object, or the whole stdout). Whatever
 * goes wrong is reported in the outcome; it never undoes the compose.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { ComposerError } from '../errors';
import { recordRun, type HistoryStore } from '../history/runHistory';
import type { LockFile } from '../lock';
import { sha256Bytes } from '../prototype/contentHash';
import type { Recipe } from '../recipe/parse';
import type { RecipePaths } from '../recipe/paths';
import type { BuiltinEvaluateSpec, EvaluateSpec } from '../recipe/spec';
import { isReadable } from '../recipe/workspaceConfinement';
import { evaluateClassification } from './classification';
import type { EvaluationOutcome } from '../types';
import { readFileSafe } from '../safeRead';
import { setOwn } from '../nameTable';

export interface EvaluatorContext {
  /** Absolute paths (and the recipe's name) substituted for {output}, {recipe}, {lock}, {name}. */
  output: string;
  name: string;
  recipe: string;
  lock: string;
  /** Working folder: the recipe's. */
  cwd: string;
}

export interface RunEvaluatorOptions {
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL of the process group after a timeout. */
  killGraceMs?: number;
}

/** Keep at most this much of stdout (the metrics line is at the end) and of stderr (for messages). */
const STDOUT_LIMIT = 8 * 1024 * 1024;
const STDERR_TAIL = 4000;

/** The argv with {output} {name} {recipe} {lock} substituted, in one pass (values are not re-scanned). */
export function evaluatorArgv(command: readonly string[], context: EvaluatorContext): string[] {
  const values: Record<string, string> = { output: context.output, name: context.name, recipe: context.recipe, lock: context.lock };
  const argv = command.map((arg) => arg.replace(/\{(output|name|recipe|lock)\}/g, (_, key: string) => values[key]));
  // A program given as a relative path (./score.py, tools/eval) is the recipe folder's, not the caller's.
  if (argv.length > 0 && /[\\/]/.test(argv[0]) && !path.isAbsolute(argv[0])) argv[0] = path.resolve(context.cwd, argv[0]);
  return argv;
}

/** Refuses, before anything is written, a recipe whose evaluator may not run. */
export function requireEvaluatorAllowed(recipe: Recipe, options: { allowExec?: boolean; skipEvaluate?: boolean }): void {
  const evaluate = recipe.spec.evaluate;
  // A built-in evaluator runs no program: nothing to allow.
  if (!evaluate || evaluate.builtin || options.skipEvaluate || options.allowExec) return;
  throw new ComposerError(
    'recipe',
    `this recipe runs an external command after composing (evaluate.command: ${JSON.stringify(evaluate.command)}), which is not allowed here`,
    recipe.locationOf(['evaluate'], 'key'),
    'CLI: pass --allow-exec to run it (or --skip-evaluate to compose without it); editor: trust the workspace',
  );
}

export async function runEvaluator(spec: EvaluateSpec, context: EvaluatorContext, options: RunEvaluatorOptions = {}): Promise<EvaluationOutcome> {
  const argv = evaluatorArgv(spec.command, context);
  const started = Date.now();
  const outcome = (status: EvaluationOutcome['status'], exitCode: number | null, metrics: Record<string, number> = {}, message?: string): EvaluationOutcome => ({
    status,
    command: argv,
    metrics,
    exit_code: exitCode,
    duration_ms: Date.now() - started,
    ...(message ? { message } : {}),
  });
  if (argv.length === 0 || argv[0] === '') return outcome('failed', null, {}, 'evaluate.command is empty');
  if (options.signal?.aborted) return outcome('cancelled', null, {}, 'cancelled before the evaluator started');

  const group = process.platform !== 'win32';
  return new Promise<EvaluationOutcome>((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0], argv.slice(1), {
        cwd: context.cwd,
        shell: false,
        detached: group, // its own process group: a timeout kills children it started, too
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
        env: {
          ...process.env,
          ADAPTER_COMPOSER_OUTPUT: context.output,
          ADAPTER_COMPOSER_RECIPE: context.recipe,
          ADAPTER_COMPOSER_LOCK: context.lock,
          ADAPTER_COMPOSER_NAME: context.name,
        },
      });
    } catch (e) {
      resolve(outcome('failed', null, {}, `cannot start ${argv[0]}: ${(e as Error).message}`));
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let stopped: 'timeout' | 'cancelled' | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    child.stdout!.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      stdoutBytes += chunk.length;
      while (stdoutBytes > STDOUT_LIMIT && stdout.length > 1) stdoutBytes -= stdout.shift()!.length;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });

    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (group && child.pid) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stopped || settled) return;
      stopped = why;
      signalGroup('SIGTERM');
      const grace = options.killGraceMs ?? 2000;
      timers.push(setTimeout(() => signalGroup('SIGKILL'), grace));
      // A grandchild that left the group could hold the pipes open: do not wait for it forever.
      timers.push(setTimeout(() => finish(null), grace + 2000));
    };
    const onAbort = () => stop('cancelled');
    options.signal?.addEventListener('abort', onAbort);
    timers.push(setTimeout(() => stop('timeout'), Math.max(1, spec.timeout) * 1000));

    const finish = (code: number | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const tail = stderr.trim() ? `; stderr: ${stderr.trim().split('\n').slice(-6).join(' | ')}` : '';
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such program (it is run without a shell: give an executable on PATH or a path relative to the recipe)' : spawnError.message;
        resolve(outcome('failed', null, {}, `cannot run ${argv[0]}: ${why}`));
        return;
      }
      if (stopped === 'timeout') {
        resolve(outcome('timeout', code, {}, `the evaluator did not finish within ${spec.timeout} s and was stopped (process group killed)${tail}`));
        return;
      }
      if (stopped === 'cancelled') {
        resolve(outcome('cancelled', code, {}, 'the evaluator was cancelled and stopped'));
        return;
      }
      if (code !== 0) {
        resolve(outcome('failed', code, {}, `the evaluator exited with ${code === null ? 'a signal' : `code ${code}`}${tail}`));
        return;
      }
      const parsed = metricsFromStdout(Buffer.concat(stdout).toString('utf8'));
      if ('error' in parsed) resolve(outcome('invalid-output', code, {}, `${parsed.error}${tail}`));
      else resolve(outcome('ok', code, parsed.metrics));
    };
    child.on('error', (e) => finish(null, e));
    child.on('close', (code) => finish(code));
  });
}

/**
 * The built-in classification evaluator (`evaluate: {builtin: classification, model, data, labels}`):
 * the composite at `output` merged into the model, accuracy and NLL on the labelled data. Paths are
 * the recipe folder's; with a workspace, they must lie inside it or a read root. Failures are reported, not thrown.
 */
/** The built-in evaluator's files, resolved from the recipe's folder `cwd`. */
export function builtinFiles(spec: Pick<BuiltinEvaluateSpec, 'model' | 'data' | 'labels'>, cwd: string): { model: string; data: string; labels: string } {
  return { model: path.resolve(cwd, spec.model), data: path.resolve(cwd, spec.data), labels: path.resolve(cwd, spec.labels) };
}

/** The first of the built-in evaluator's files outside the workspace and the read roots: its key and what to say. */
export function builtinFileEscape(files: Record<string, string>, workspaceRoot: string, readRoots: readonly string[] = []): { key: string; message: string } | undefined {
  for (const [key, file] of Object.entries(files)) {
    if (!isReadable(file, workspaceRoot, readRoots)) return { key, message: `evaluate.${key} ${file} is outside the workspace ${workspaceRoot}${readRoots.length ? ' and the read roots' : ''}` };
  }
  return undefined;
}

export async function runBuiltinEvaluator(spec: BuiltinEvaluateSpec, context: { output: string; cwd: string; workspaceRoot?: string; readRoots?: readonly string[] }): Promise<EvaluationOutcome> {
  const started = Date.now();
  const files = builtinFiles(spec, context.cwd);
  const command = [`builtin:${spec.kind}`, `model=${files.model}`, `data=${files.data}`, `labels=${files.labels}`, `adapter=${context.output}`];
  const outcome = (status: EvaluationOutcome['status'], metrics: Record<string, number> = {}, message?: string): EvaluationOutcome => ({
    status, command, metrics, exit_code: null, duration_ms: Date.now() - started, ...(message ? { message } : {}),
  });
  const escape = context.workspaceRoot ? builtinFileEscape(files, context.workspaceRoot, context.readRoots) : undefined;
  if (escape) return outcome('failed', {}, escape.message);
  try {
    const m = await evaluateClassification({ model: files.model, adapter: context.output, data: files.data, labels: files.labels, provider: 'cpu' });
    return outcome('ok', { accuracy: m.accuracy, nll: m.nll, samples: m.samples });
  } catch (e) {
    return outcome('failed', {}, e instanceof ComposerError ? e.message : String(e));
  }
}

/** The metrics object: the last stdout line that is a JSON object, else the whole stdout. */
export function metricsFromStdout(stdout: string): { metrics: Record<string, number> } | { error: string } {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    const value = tryJson(lines[i]);
    if (isObject(value)) return { metrics: flattenMetrics(value) };
  }
  const whole = tryJson(stdout.trim());
  if (isObject(whole)) return { metrics: flattenMetrics(whole) };
  const last = lines[lines.length - 1];
  return {
    error: last === undefined
      ? 'the evaluator printed nothing on stdout; it must print its metrics as a JSON object, e.g. {"accuracy": 0.81}'
      : `the evaluator printed no JSON object on stdout (last line: ${JSON.stringify(last.length > 120 ? last.slice(0, 117) + '…' : last)}); it must print e.g. {"accuracy": 0.81}`,
  };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Finite numbers, nested objects as `a.b`; anything else is not a metric. */
export function flattenMetrics(value: Record<string, unknown>, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof v === 'number' && Number.isFinite(v)) setOwn(out, name, v);
    else if (isObject(v)) flattenMetrics(v, name, out);
  }
  return out;
}

export interface AfterComposeInput {
  recipe: Recipe;
  paths: RecipePaths;
  lock: LockFile;
  /** Where the run history goes when the library is remote; with no allowOutsideWorkspace, what the built-in evaluator may read (with readRoots). */
  workspaceRoot?: string;
  allowOutsideWorkspace?: boolean;
  readRoots?: readonly string[];
  allowExec?: boolean;
  skipEvaluate?: boolean;
  toolVersion: string;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface AfterCompose {
  evaluation?: EvaluationOutcome;
  history?: { id: string; database: string; kind: HistoryStore['kind'] };
  warnings: string[];
}

/** After the composite and lock are in place: the evaluator (when allowed), then one history entry. */
export async function afterCompose(input: AfterComposeInput): Promise<AfterCompose> {
  const { recipe, paths, lock } = input;
  const warnings: string[] = [];
  let evaluation: EvaluationOutcome | undefined;
  const spec = recipe.spec.evaluate;
  if (spec?.builtin && !input.skipEvaluate) {
    input.onProgress?.(`evaluating: built-in ${spec.builtin.kind}`);
    evaluation = await runBuiltinEvaluator(spec.builtin, { output: paths.output, cwd: paths.recipeDir, workspaceRoot: input.allowOutsideWorkspace ? undefined : input.workspaceRoot, readRoots: input.readRoots });
  } else if (spec?.builtin) {
    warnings.push('the recipe\'s evaluator was skipped (--skip-evaluate)');
  } else if (spec && input.allowExec && !input.skipEvaluate) {
    input.onProgress?.(`evaluating: ${spec.command.join(' ')}`);
    evaluation = await runEvaluator(spec, { output: paths.output, name: recipe.spec.name, recipe: paths.recipeFile, lock: paths.lock, cwd: paths.recipeDir }, { signal: input.signal });
  } else if (spec) {
    warnings.push(input.skipEvaluate ? 'the recipe\'s evaluator was skipped (--skip-evaluate)' : 'the recipe\'s evaluator was not run: running commands is not allowed here');
  }
  let history: AfterCompose['history'];
  try {
    let lockBytes: Buffer | string = '';
    try {
      lockBytes = readFileSafe(paths.lock, 'lock');
    } catch {
      // recorded with an empty hash below
    }
    const run = await recordRun({ library: paths.library, workspaceRoot: input.workspaceRoot, recipeFile: paths.recipeFile }, {
      recipeFile: paths.recipeFile,
      name: recipe.spec.name,
      recipeSha256: lock.recipe.sha256,
      lockSha256: lockBytes.length ? sha256Bytes(lockBytes) : '',
      libraryVersion: lock.library.version,
      strategy: lock.strategy,
      parameters: lock.parameters,
      weights: lock.weights,
      output: paths.output,
      toolVersion: input.toolVersion,
      evaluation,
    });
    history = { id: run.id, database: run.store.database, kind: run.store.kind };
  } catch (e) {
    warnings.push(`the run was not recorded in the history: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { ...(evaluation ? { evaluation } : {}), ...(history ? { history } : {}), warnings };
}
