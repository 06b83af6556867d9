/**
 * Special files behind symlinks (issue 10, item 7, and the minor items about messages): a sample,
 * lock, adapter config, safetensors, encoder.json, tokenizer, image or `<output>.composing` that is
 * a link to /dev/zero (or a FIFO) used to hang plan/compose (and pin the language server) or abort
 * with std::bad_alloc. Every read goes through engine/safeRead.ts: regular files only, bounded.
 * Runs the real CLI as a child process so a hang or an abort shows as a signal, not a stuck suite.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isComposerError } from '../../server/src/engine/errors';
import { openTokenizer } from '../../server/src/engine/prototype/textInput';
import { decodeForEncoder, loadSharp } from '../../server/src/engine/prototype/imageInput';
import { readLock } from '../../server/src/engine/lock';
import { READ_CAPS, readTextSafe } from '../../server/src/engine/safeRead';
import { cli, demoWorkspace, ensureBuilt } from './workspace';

let ws: string;
const ZERO = '/dev/zero';
const NOT_REGULAR = /is a (character device|FIFO \(named pipe\)), not a regular file/;

before(() => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-files-');
});

/** A copy of the demo recipe under a new name, with `changes` applied to whole top-level keys. */
function recipe(name: string, changes: Record<string, string> = {}): string {
  let text = fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8');
  for (const [key, value] of Object.entries(changes)) text = text.replace(new RegExp(`^${key}:.*(?:\\n[ \\t]+.*)*`, 'm'), `${key}: ${value}`);
  const file = path.join(ws, 'recipes', `${name}.compose.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

function assertCleanRefusal(r: ReturnType<typeof cli>, pattern: RegExp, what: string, status = 1): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (hang or abort)\n${r.stderr.slice(-1000)}`);
  assert.equal(r.status, status, `${what}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout + r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /bad_alloc|internal error/, what);
}

test('a sample .npy that links to /dev/zero or is a FIFO: plan and compose refuse it, no hang', () => {
  for (const [kind, make] of [['zero', (p: string) => fs.symlinkSync(ZERO, p)], ['fifo', (p: string) => execFileSync('mkfifo', [p])]] as const) {
    const dir = path.join(ws, 'data', `special-${kind}`);
    fs.cpSync(path.join(ws, 'data', 'grammar-01'), dir, { recursive: true });
    make(path.join(dir, 'zz-special.npy'));
    const file = recipe(`samples-${kind}`, { target: `\n  samples: ../data/special-${kind}/*.npy`, output: `../out/samples-${kind}` });
    for (const command of ['plan', 'compose']) {
      const r = cli([command, file], { cwd: ws, timeoutMs: 60_000 });
      if (kind === 'fifo') {
        // The sample glob lists regular files (and links to them) only: a FIFO is not a sample.
        assert.equal(r.signal, null, `${command} with a FIFO among the samples: killed by ${r.signal}`);
        assert.equal(r.status, 0, r.stderr);
        continue;
      }
      // The workspace check comes first (the link resolves to /dev/zero, outside the workspace) ...
      assertCleanRefusal(r, /resolves to \/dev\/zero, outside the workspace/, `${command} with a ${kind} sample`);
      assert.match(r.stderr, /samples-.*\.compose\.yaml:\d+:\d+:/, 'located in the recipe');
      // ... and when the user trusts paths outside it, the regular-file guard still refuses to read.
      const trusting = cli([command, file, '--allow-outside-workspace'], { cwd: ws, timeoutMs: 60_000 });
      assertCleanRefusal(trusting, NOT_REGULAR, `${command} --allow-outside-workspace with a ${kind} sample`);
      assert.match(trusting.stderr, /samples-.*\.compose\.yaml:\d+:\d+:/, 'located in the recipe');
    }
  }
});

test('a lock, adapter_config.json or safetensors that links to /dev/zero is refused without an abort', () => {
  // The lock beside a recipe (read by plan's drift check and by compose --locked).
  const file = recipe('zero-lock');
  fs.symlinkSync(ZERO, path.join(ws, 'recipes', 'zero-lock.compose.lock'));
  // plan: a warning that the lock is unreadable; compose --locked: an error.
  assertCleanRefusal(cli(['plan', file], { cwd: ws, timeoutMs: 60_000 }), NOT_REGULAR, 'plan with the lock → /dev/zero', 0);
  assertCleanRefusal(cli(['compose', file, '--locked'], { cwd: ws, timeoutMs: 60_000 }), NOT_REGULAR, 'compose --locked with the lock → /dev/zero');
  // The FIFO variant of the lock (open must not block on a FIFO without a writer).
  fs.rmSync(path.join(ws, 'recipes', 'zero-lock.compose.lock'));
  execFileSync('mkfifo', [path.join(ws, 'recipes', 'zero-lock.compose.lock')]);
  assertCleanRefusal(cli(['compose', file, '--locked'], { cwd: ws, timeoutMs: 60_000 }), NOT_REGULAR, 'compose --locked with a FIFO lock');
  // Adapter files.
  for (const linked of ['adapter_config.json', 'adapter_model.safetensors']) {
    const dir = path.join(ws, 'adapters', `zero-${linked.split('.')[0]}`);
    fs.cpSync(path.join(ws, 'adapters', 'grammar-02'), dir, { recursive: true });
    fs.rmSync(path.join(dir, linked));
    fs.symlinkSync(ZERO, path.join(dir, linked));
    const proto = path.join(ws, 'data', 'grammar-01');
    const sample = fs.readdirSync(proto).find((f) => f.endsWith('.npy'))!;
    const r = cli(['library', 'add', path.join(ws, 'library'), dir, '--name', `zero-${linked}`, '--samples', path.join(proto, sample)], { cwd: ws, timeoutMs: 60_000 });
    assertCleanRefusal(r, NOT_REGULAR, `library add with ${linked} → /dev/zero`);
  }
  // encoder.json for a new library.
  const r = cli(['library', 'init', path.join(ws, 'lib-zero'), '--encoder', path.join(ws, 'encoder.onnx'), '--encoder-config', ZERO], { cwd: ws, timeoutMs: 60_000 });
  assertCleanRefusal(r, NOT_REGULAR, 'library init --encoder-config /dev/zero');
});

test('a tokenizer or an image that links to /dev/zero is refused by the engine readers', async () => {
  const link = path.join(ws, 'zero-tokenizer.json');
  fs.symlinkSync(ZERO, link);
  assert.throws(() => openTokenizer({ tokenizerFile: link, tokenizerName: 'zero-tokenizer.json', maxLength: 8 } as never), (e: unknown) => isComposerError(e) && NOT_REGULAR.test(e.message));
  const image = path.join(ws, 'zero.png');
  fs.symlinkSync(ZERO, image);
  const p = { height: 4, width: 4, resize: 'stretch', interpolation: 'bilinear', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'RGB' } as const;
  await assert.rejects(decodeForEncoder(loadSharp(), image, { ...p, mean: [0, 0, 0], std: [1, 1, 1] }), (e: unknown) => isComposerError(e) && NOT_REGULAR.test(e.message));
  // Whole-file reads are bounded per kind.
  const big = path.join(ws, 'big.compose.yaml');
  fs.writeFileSync(big, Buffer.alloc(READ_CAPS.recipe + 1, 0x20));
  assert.throws(() => readTextSafe(big, 'recipe', 'recipe'), (e: unknown) => isComposerError(e) && /at most 1048576 bytes/.test(e.message));
});

test('`<output>.composing` linking to /dev/zero: compose does not abort, and /dev/zero is untouched', () => {
  const file = recipe('zero-composing', { output: '../out/zero-composing' });
  fs.mkdirSync(path.join(ws, 'out'), { recursive: true });
  fs.symlinkSync(ZERO, path.join(ws, 'out', 'zero-composing.composing'));
  const r = cli(['compose', file], { cwd: ws, timeoutMs: 120_000 });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.statSync(ZERO).isCharacterDevice());
});

test('messages never quote a file that is not ours; a damaged lock names the missing field', () => {
  const dir = path.join(ws, 'adapters', 'passwd-config');
  fs.cpSync(path.join(ws, 'adapters', 'grammar-02'), dir, { recursive: true });
  const secret = path.join(os.tmpdir(), `ac-secret-${process.pid}.txt`);
  fs.writeFileSync(secret, 'root:x:0:0:root:/root:/bin/bash\nsecret-token-123\n');
  fs.rmSync(path.join(dir, 'adapter_config.json'));
  fs.symlinkSync(secret, path.join(dir, 'adapter_config.json'));
  const sample = path.join(ws, 'data', 'grammar-01', fs.readdirSync(path.join(ws, 'data', 'grammar-01')).find((f) => f.endsWith('.npy'))!);
  const r = cli(['library', 'add', path.join(ws, 'library'), dir, '--name', 'passwd', '--samples', sample], { cwd: ws });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /adapter_config\.json is not valid JSON/);
  assert.doesNotMatch(r.stdout + r.stderr, /root:x|secret-token/);
  // A lock of format 1 with a field missing says which.
  const lockFile = path.join(ws, 'recipes', 'damaged.compose.lock');
  for (const [drop, field] of [['weights', 'weights'], ['merge', 'merge'], ['tool_version', 'tool_version']]) {
    const lock: Record<string, unknown> = {
      format: 1, tool_version: '0', recipe: { path: 'x', sha256: 'x' }, library: { uri: 'x', version: 1, size: 1 }, encoder: { sha256: null, dim: 1 },
      target: { source: 'samples', sha256: 'x', count: 1, dim: 1 }, provider: null, candidates: [], strategy: 'sparse', parameters: {}, weights: {},
      merge: { method: 'svd', rank: 1, dtype: 'f32', modules_to_save: 'refuse' }, output: { path: 'x', files: [] },
    };
    delete lock[drop];
    fs.writeFileSync(lockFile, JSON.stringify(lock));
    assert.throws(() => readLock(lockFile), (e: unknown) => isComposerError(e) && new RegExp(`"${field}" is missing`).test(e.message) && !/unsupported lock format/.test(e.message), drop);
  }
});
