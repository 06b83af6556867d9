/**
 * The lock a reviewer trusts, and check = compose (issue 11 "Defects to fix", issue 14 lock tests).
 * Real third-party LoRA files (> 1 MiB), a real LanceDB library, the real CLI (dist/cli.js): an
 * adapter rewritten in place (also past its first MiB, also with its mtime put back), a config edited
 * alone, a row re-added, a recipe edited — each is refused with the field named and both values, and
 * leaves the composite and the lock byte for byte as they were. Digests are computed here with
 * node's crypto over the whole file (and `sha256sum` where installed), never by the code under test.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { createPlanner } from '../../server/src/engine/planner';
import { SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { describeAdapter } from '../../server/src/engine/lora/describe';
import { mergeAdapters, readComposite } from '../../server/src/engine/lora/merge';
import { diffPaths, formatDrift, lockDrift, type LockFile } from '../../server/src/engine/lock';
import { cli, ensureBuilt, sameSnapshot, snapshot } from './workspace';
import { REAL_LORAS } from '../sharedData';

const REAL = REAL_LORAS;
const TIGRINYA = `${REAL}/peft-gpt2/tigrinya-causal-lm`; // 3.2 MB, base "gpt2"
const DIALOGPT = `${REAL}/peft-gpt2/dialogpt-small-synthetic-gradience`; // base microsoft/DialoGPT-small, gpt2 shapes
const DIM = 4;

let ws: string;

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** sha256sum's digest where the tool exists (an implementation that is not node's), else node's. */
function sha256sum(file: string): string {
  const r = spawnSync('sha256sum', [file], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/)[0] : sha256Of(file);
}

function npy(file: string, values: number[]): string {
  fs.writeFileSync(file, encodeNpy(Float32Array.from(values), [values.length]));
  return file;
}

function run(args: string[]) {
  return cli(args, { cwd: ws, timeoutMs: 120_000 });
}

function ok(args: string[]) {
  const r = run(args);
  assert.equal(r.status, 0, `${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

/** A workspace: library (LanceDB, dim 4), copies of the real adapters (so they can be edited), recipes. */
function realWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lock-integrity-'));
  fs.mkdirSync(path.join(dir, 'adapters'));
  fs.mkdirSync(path.join(dir, 'recipes'));
  fs.cpSync(TIGRINYA, path.join(dir, 'adapters', 'tigrinya'), { recursive: true });
  fs.cpSync(DIALOGPT, path.join(dir, 'adapters', 'dialogpt'), { recursive: true });
  for (const f of fs.readdirSync(path.join(dir, 'adapters'), { recursive: true }) as string[]) fs.chmodSync(path.join(dir, 'adapters', f), 0o755);
  npy(path.join(dir, 'p1.npy'), [1, 0, 0, 0]);
  npy(path.join(dir, 'p2.npy'), [0, 1, 0, 0]);
  npy(path.join(dir, 'target.npy'), [0.6, 0.4, 0, 0]);
  return dir;
}

/** A real adapter copied into the workspace (a library row naming the shared copy would be outside it). */
function inWorkspace(source: string): string {
  const rel = path.join('adapters', path.basename(path.dirname(source)), path.basename(source));
  if (!fs.existsSync(path.join(ws, rel))) fs.cpSync(source, path.join(ws, rel), { recursive: true });
  return rel;
}

function recipe(name: string, body: string): string {
  const file = path.join(ws, 'recipes', `${name}.compose.yaml`);
  fs.writeFileSync(file, `compose: 1\nname: ${name}\nbase: gpt2\nlibrary: ../library\ntarget:\n  prototype: ../target.npy\n${body}output: ../out/${name}\n`);
  return file;
}

const PINNED = 'retrieve:\n  adapters:\n    - tigrinya\n    - dialogpt\nweights:\n  strategy: avg\nmerge:\n  method: cat\n';

/** Flips the lowest byte of one float (a mantissa bit: stays finite) at or beyond `from` in the data section. */
function rewriteInPlace(file: string, from: number, keepMtime: boolean): void {
  const st = fs.statSync(file);
  const bytes = fs.readFileSync(file);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  let at = Math.max(from, dataStart);
  at += (4 - ((at - dataStart) % 4)) % 4;
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.from([bytes[at] ^ 1]), 0, 1, at); // same inode, same size
  } finally {
    fs.closeSync(fd);
  }
  if (keepMtime) fs.utimesSync(file, st.atimeMs / 1000, st.mtimeMs / 1000); // seconds as a float keep the sub-ms part
}

function outputAndLock(name: string) {
  return { out: snapshot(path.join(ws, 'out', name)), lock: fs.readFileSync(path.join(ws, 'recipes', `${name}.compose.lock`)) };
}

function assertUnchanged(name: string, before: ReturnType<typeof outputAndLock>) {
  const now = outputAndLock(name);
  assert.ok(sameSnapshot(before.out, now.out), 'the composite is byte-identical');
  assert.ok(before.lock.equals(now.lock), 'the lock is byte-identical');
}

function lockOf(name: string): { candidates: { name: string; sha256: string }[] } {
  return JSON.parse(fs.readFileSync(path.join(ws, 'recipes', `${name}.compose.lock`), 'utf8'));
}

function restore(name: 'tigrinya' | 'dialogpt') {
  const src = name === 'tigrinya' ? TIGRINYA : DIALOGPT;
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(ws, 'adapters', name, f));
  ok(['library', 'verify', 'library', '--fix']);
}

before(() => {
  ensureBuilt();
  ws = realWorkspace();
  ok(['library', 'init', 'library', '--dim', String(DIM)]);
  ok(['library', 'add', 'library', 'adapters/tigrinya', '--name', 'tigrinya', '--prototype', 'p1.npy']);
  ok(['library', 'add', 'library', 'adapters/dialogpt', '--name', 'dialogpt', '--base', 'openai-community/gpt2', '--override-base', '--prototype', 'p2.npy']);
});

test('hashes: the row and the lock hold the sha256 of the whole files (> 1 MiB), as sha256sum computes it', () => {
  const weights = path.join(TIGRINYA, 'adapter_model.safetensors');
  assert.ok(fs.statSync(weights).size > 3 * (1 << 20), 'the file spans several MiB');
  const expected = sha256sum(weights);
  assert.equal(expected, sha256Of(weights));
  assert.equal(SafetensorsFile.openPinned(weights).pinned!.sha256, expected);
  assert.equal(describeAdapter(TIGRINYA).sha256, expected);
  for (const f of [`${REAL}/cloneofsimo-sd15/analog_svd_rank4/analog_svd_rank4.safetensors`, `${REAL}/diffusers-sd-unet/sd15-weapons-catundchat/pytorch_lora_weights.safetensors`]) {
    const file = SafetensorsFile.openPinned(f);
    try {
      assert.equal(file.pinned!.sha256, sha256sum(f), path.basename(f));
    } finally {
      file.close();
    }
  }
  const show = JSON.parse(ok(['library', 'show', 'library', 'tigrinya', '--json']).stdout);
  assert.equal(show.sha256, expected);
  const file = recipe('hashes', PINNED);
  ok(['compose', file]);
  const lock = lockOf('hashes');
  assert.equal(lock.candidates.find((c) => c.name === 'tigrinya')!.sha256, expected);
  assert.equal(lock.candidates.find((c) => c.name === 'dialogpt')!.sha256, sha256sum(path.join(DIALOGPT, 'adapter_model.safetensors')));
});

test('an adapter rewritten in place past its first MiB: check, the editor and compose refuse it, with the fix', async () => {
  const file = recipe('inplace', PINNED);
  ok(['compose', file]);
  const before = outputAndLock('inplace');
  const weights = path.join(ws, 'adapters', 'tigrinya', 'adapter_model.safetensors');
  rewriteInPlace(weights, (1 << 20) + 12345, false);
  const changed = sha256Of(weights);
  try {
    const check = run(['check', file]);
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /recipes\/inplace\.compose\.yaml:9:\d+: error: adapter `tigrinya` changed since it was added to the library \(sha256: [0-9a-f]{12}… in the library, [0-9a-f]{12}… on disk\)/);
    assert.ok(check.stdout.includes(changed.slice(0, 12)), 'the new digest is named');
    assert.match(check.stdout, /hint: .*library verify .* --fix/);
    // the editor: the same verdict as a diagnostic on the adapter's line (line 9: `    - tigrinya`)
    const planner = createPlanner();
    try {
      const outcome = await planner.plan(fs.readFileSync(file, 'utf8'), file, { workspaceRoot: ws });
      const p = outcome.problems.find((x) => x.code === 'adapter-changed');
      assert.ok(p, JSON.stringify(outcome.problems));
      assert.equal(p.severity, 'error');
      assert.equal(p.range.start.line, fs.readFileSync(file, 'utf8').split('\n').indexOf('    - tigrinya'));
      assert.match(String(p.data?.hint), /library verify/);
    } finally {
      await planner.dispose();
    }
    const compose = run(['compose', file]);
    assert.equal(compose.status, 1);
    assert.match(compose.stderr, /adapter `tigrinya` changed since it was added/);
    assertUnchanged('inplace', before);
    const verify = run(['library', 'verify', 'library']);
    assert.equal(verify.status, 1);
    assert.match(verify.stdout, /changed +tigrinya: sha256/);
    assert.match(verify.stdout, /ok +dialogpt/);
  } finally {
    restore('tigrinya');
  }
});

test('an in-place rewrite that keeps size and mtime is still caught: compose hashes the bytes it merges', () => {
  const file = recipe('samemtime', PINNED);
  ok(['compose', file]);
  const before = outputAndLock('samemtime');
  const weights = path.join(ws, 'adapters', 'tigrinya', 'adapter_model.safetensors');
  const st = fs.statSync(weights);
  rewriteInPlace(weights, 2 * (1 << 20), true);
  try {
    assert.ok(Math.abs(fs.statSync(weights).mtimeMs - st.mtimeMs) < 1, 'the mtime was put back (to the file system\'s precision)');
    assert.equal(fs.statSync(weights).size, st.size);
    for (const args of [['compose', file], ['compose', file, '--locked']]) {
      const r = run(args);
      assert.equal(r.status, 1, `${args.join(' ')} must fail:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /adapter `tigrinya` changed since it was added to the library \(sha256: /);
      assert.ok(r.stderr.includes(sha256Of(weights).slice(0, 12)), 'the digest of the merged bytes is named');
      assertUnchanged('samemtime', before);
    }
  } finally {
    restore('tigrinya');
  }
});

test('the merge itself refuses bytes that do not hash to the row (no planner involved), and writes nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-merge-verify-'));
  const copy = path.join(dir, 'tigrinya');
  fs.cpSync(TIGRINYA, copy, { recursive: true });
  fs.chmodSync(path.join(copy, 'adapter_model.safetensors'), 0o644);
  const expect = { name: 'tigrinya', path: copy, sha256: sha256Of(path.join(TIGRINYA, 'adapter_model.safetensors')) };
  const out = path.join(dir, 'out');
  const merged = await mergeAdapters([{ name: 'tigrinya', path: copy, weight: 1, expect }], { method: 'cat', products: 'js' }, out);
  assert.equal(merged.inputs[0].sha256, expect.sha256, 'the digest of the merged bytes is returned');
  rewriteInPlace(path.join(copy, 'adapter_model.safetensors'), (1 << 20) + 4096, true);
  const out2 = path.join(dir, 'out2');
  await assert.rejects(
    mergeAdapters([{ name: 'tigrinya', path: copy, weight: 1, expect }], { method: 'cat', products: 'js', libraryUri: 'lib' }, out2),
    (e: Error & { hint?: string }) => /changed since it was added/.test(e.message) && e.message.includes(sha256Of(path.join(copy, 'adapter_model.safetensors')).slice(0, 12)) && /library verify lib --fix/.test(e.hint ?? ''),
  );
  assert.ok(!fs.existsSync(out2), 'nothing was written');
});

test('adapter_config.json edited alone (lora_alpha, use_rslora) is caught the same way', () => {
  const file = recipe('config', PINNED);
  ok(['compose', file]);
  const before = outputAndLock('config');
  const configFile = path.join(ws, 'adapters', 'tigrinya', 'adapter_config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  try {
    for (const [edit, pattern] of [[{ lora_alpha: config.lora_alpha * 2 }, /alpha of \d+ modules .*: 32 in the library, 64 on disk/], [{ use_rslora: true }, /use_rslora: false in the library, true on disk/]] as const) {
      fs.writeFileSync(configFile, JSON.stringify({ ...config, ...edit }, null, 2));
      const check = run(['check', file]);
      assert.equal(check.status, 1);
      assert.match(check.stdout, pattern);
      const compose = run(['compose', file]);
      assert.equal(compose.status, 1);
      assert.match(compose.stderr, pattern);
      assertUnchanged('config', before);
    }
    // the fix the message names: re-record, then compose works again
    ok(['library', 'verify', 'library', '--fix']);
    const row = JSON.parse(ok(['library', 'show', 'library', 'tigrinya', '--json']).stdout);
    assert.equal(row.details.rslora, true);
    ok(['check', file]);
  } finally {
    fs.writeFileSync(configFile, fs.readFileSync(path.join(TIGRINYA, 'adapter_config.json')));
    ok(['library', 'verify', 'library', '--fix']);
  }
});

test('compose --locked refuses a row re-added with another sha, an edited recipe, an adapter changed past 1 MiB', () => {
  const file = recipe('locked', PINNED);
  ok(['compose', file]);
  const lockedSha = lockOf('locked').candidates.map((c) => c.sha256);
  const before = outputAndLock('locked');
  const index = lockOf('locked').candidates.findIndex((c) => c.name === 'tigrinya');

  // 1. the row re-added (library add --replace) from another file
  const other = path.join(ws, 'adapters', 'tigrinya-v2');
  fs.cpSync(path.join(ws, 'adapters', 'tigrinya'), other, { recursive: true });
  rewriteInPlace(path.join(other, 'adapter_model.safetensors'), 3 * (1 << 20), false);
  const newSha = sha256Of(path.join(other, 'adapter_model.safetensors'));
  ok(['library', 'add', 'library', 'adapters/tigrinya-v2', '--name', 'tigrinya', '--prototype', 'p1.npy', '--replace']);
  let r = run(['compose', file, '--locked']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`candidates[${index}].sha256: ${lockedSha[index].slice(0, 6)}`), r.stderr);
  assert.match(r.stderr, new RegExp(`candidates\\[${index}\\]\\.sha256: ${lockedSha[index].slice(0, 6)}[0-9a-f]*… → ${newSha.slice(0, 6)}[0-9a-f]*…`));
  assertUnchanged('locked', before);
  ok(['library', 'add', 'library', 'adapters/tigrinya', '--name', 'tigrinya', '--prototype', 'p1.npy', '--replace']);
  ok(['compose', file, '--locked']);
  assertUnchanged('locked', before);

  // 2. the recipe edited: every differing field, with both values
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  method: cat\n', '  method: svd\n  rank: 4\n'));
  r = run(['compose', file, '--locked']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /recipe\.sha256: [0-9a-f]+… → [0-9a-f]+…/);
  assert.match(r.stderr, /merge\.method: cat → svd/);
  assert.match(r.stderr, /merge\.rank: 16 → 4/);
  assertUnchanged('locked', before);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  method: svd\n  rank: 4\n', '  method: cat\n'));
  // 2b. the recipe's bytes alone (a comment): the plan is the same, the recipe the lock names is not
  const reviewed = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, `# edited after the review\n${reviewed}`);
  r = run(['compose', file, '--locked']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /drifted from .*\(1 field, locked → now\):\n {2}recipe\.sha256: [0-9a-f]+… → [0-9a-f]+…/);
  assertUnchanged('locked', before);
  fs.writeFileSync(file, reviewed);
  ok(['compose', file, '--locked']);
  assertUnchanged('locked', before);

  // 3. the adapter changed past its first MiB (size and mtime kept)
  const weights = path.join(ws, 'adapters', 'tigrinya', 'adapter_model.safetensors');
  rewriteInPlace(weights, (1 << 20) + 777, true);
  try {
    r = run(['compose', file, '--locked']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /adapter `tigrinya` changed .*sha256: /);
    assertUnchanged('locked', before);
  } finally {
    restore('tigrinya');
  }
});

test('check gives compose\'s verdicts: a library outside the workspace, adapters with no module in common', () => {
  // outside: the same library, reached by an absolute path outside the workspace
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lock-integrity-outside-'));
  fs.cpSync(path.join(ws, 'library'), path.join(outside, 'library'), { recursive: true });
  const file = recipe('outside', PINNED);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('library: ../library', `library: ${path.join(outside, 'library')}`));
  const check = run(['check', file]);
  const compose = run(['compose', file]);
  assert.equal(compose.status, 1);
  assert.equal(check.status, 1, check.stdout);
  for (const out of [check.stdout, compose.stderr]) assert.match(out, /outside\.compose\.yaml:4:10: .*library `[^`]+` resolves to .* outside the workspace/);

  // cloneofsimo + diffusers (real files): no module in common
  const sd = fs.mkdtempSync(path.join(ws, 'sd-'));
  const rel = path.relative(ws, sd);
  const lib = `${rel}/library`;
  ok(['library', 'init', lib, '--dim', String(DIM)]);
  ok(['library', 'add', lib, inWorkspace(`${REAL}/cloneofsimo-sd15/lora_disney`), '--name', 'disney', '--base', 'runwayml/stable-diffusion-v1-5', '--prototype', 'p1.npy']);
  ok(['library', 'add', lib, inWorkspace(`${REAL}/diffusers-sd-unet/sd15-weapons-catundchat`), '--name', 'weapons', '--base', 'runwayml/stable-diffusion-v1-5', '--prototype', 'p2.npy']);
  const sdRecipe = path.join(ws, 'recipes', 'sd.compose.yaml');
  fs.writeFileSync(sdRecipe, `compose: 1\nname: sd\nbase: runwayml/stable-diffusion-v1-5\nlibrary: ../${lib}\ntarget:\n  prototype: ../target.npy\nretrieve:\n  adapters: [disney, weapons]\nweights:\n  strategy: avg\nmerge:\n  method: cat\noutput: ../out/sd\n`);
  const c2 = run(['check', sdRecipe]);
  const k2 = run(['compose', sdRecipe]);
  assert.equal(k2.status, 1);
  assert.match(k2.stderr, /adapt no module in common/);
  assert.equal(c2.status, 1, c2.stdout);
  assert.match(c2.stdout, /sd\.compose\.yaml:8:\d+: error: `\w+` \(\w+\) and `\w+` \(\w+\) adapt no module in common/);
  assert.match(c2.stdout, /hint: they were trained for different base models/);
  assert.ok(!fs.existsSync(path.join(ws, 'out', 'sd')));

  // an output that is not a local folder; an adapter whose files are gone
  const uri = recipe('uri', PINNED);
  fs.writeFileSync(uri, fs.readFileSync(uri, 'utf8').replace('output: ../out/uri', 'output: s3://bucket/composite'));
  const [cu, ku] = [run(['check', uri]), run(['compose', uri])];
  assert.equal(ku.status, 1);
  assert.equal(cu.status, 1, cu.stdout);
  for (const out of [cu.stdout, ku.stderr]) assert.match(out, /uri\.compose\.yaml:15:9: .*output must be a local folder, got 's3:\/\/bucket\/composite'/);
  const gone = path.join(ws, 'adapters', 'gone');
  fs.cpSync(DIALOGPT, gone, { recursive: true });
  const goneLib = 'gone-library';
  ok(['library', 'init', goneLib, '--dim', String(DIM)]);
  ok(['library', 'add', goneLib, 'adapters/gone', '--name', 'gone', '--base', 'openai-community/gpt2', '--override-base', '--prototype', 'p1.npy']);
  ok(['library', 'add', goneLib, 'adapters/tigrinya', '--name', 'tigrinya', '--prototype', 'p2.npy']);
  fs.rmSync(gone, { recursive: true, force: true });
  const goneRecipe = recipe('gone', 'retrieve:\n  adapters: [tigrinya, gone]\nweights:\n  strategy: avg\nmerge:\n  method: cat\n');
  fs.writeFileSync(goneRecipe, fs.readFileSync(goneRecipe, 'utf8').replace('library: ../library', `library: ../${goneLib}`));
  const [cg, kg] = [run(['check', goneRecipe]), run(['compose', goneRecipe])];
  assert.equal(kg.status, 1);
  assert.equal(cg.status, 1, cg.stdout);
  assert.match(cg.stdout, /gone\.compose\.yaml:8:\d+: error: adapter `gone` cannot be read/);
});

test('check gives compose\'s verdict on module shapes that disagree (an adapter for another model under the same base)', () => {
  const dir = path.join(ws, 'adapters', 'wrong-shape');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', base_model_name_or_path: 'gpt2', r: 2, lora_alpha: 2, target_modules: ['c_attn'], fan_in_fan_out: true }));
  const key = 'base_model.model.transformer.h.0.attn.c_attn';
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), [
    { name: `${key}.lora_A.weight`, dtype: 'F32', shape: [2, 100], data: new Float64Array(200).fill(0.01) },
    { name: `${key}.lora_B.weight`, dtype: 'F32', shape: [300, 2], data: new Float64Array(600).fill(0.02) },
  ]);
  const lib = 'shape-library';
  ok(['library', 'init', lib, '--dim', String(DIM)]);
  ok(['library', 'add', lib, 'adapters/tigrinya', '--name', 'tigrinya', '--prototype', 'p1.npy']);
  ok(['library', 'add', lib, 'adapters/wrong-shape', '--name', 'wrong', '--prototype', 'p2.npy']);
  const file = recipe('shapes', 'retrieve:\n  adapters: [tigrinya, wrong]\nweights:\n  strategy: avg\nmerge:\n  method: cat\n');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('library: ../library', `library: ../${lib}`));
  const [check, compose] = [run(['check', file]), run(['compose', file])];
  assert.equal(compose.status, 1);
  assert.match(compose.stderr, /module "transformer\.h\.0\.attn\.c_attn" is \[300, 100\] in/);
  assert.equal(check.status, 1, check.stdout);
  assert.match(check.stdout, /shapes\.compose\.yaml:8:\d+: error: module "transformer\.h\.0\.attn\.c_attn" is \[300, 100\] in `wrong` but \[\d+, \d+\] in `tigrinya`/);
  assert.match(check.stdout, /hint: the adapters were trained on different base models/);
});

test('an unknown name in weights.manual: one located error with the did-you-mean, in check and compose', () => {
  const file = recipe('manual', 'retrieve:\n  k: 2\nweights:\n  strategy: manual\n  manual:\n    tigrinya: 0.5\n    dialogtp: 0.5\nmerge:\n  method: cat\n');
  const line = fs.readFileSync(file, 'utf8').split('\n').indexOf('    dialogtp: 0.5') + 1;
  const check = run(['check', file]);
  assert.equal(check.status, 1);
  const errors = check.stdout.split('\n').filter((l) => / error: /.test(l));
  assert.deepEqual(errors, [`recipes/manual.compose.yaml:${line}:5: error: no adapter \`dialogtp\` in the library — did you mean \`dialogpt\`?`]);
  assert.doesNotMatch(check.stdout, /candidates/);
  const compose = run(['compose', file]);
  assert.equal(compose.status, 1);
  assert.match(compose.stderr, new RegExp(`manual\\.compose\\.yaml:${line}:5: no adapter \`dialogtp\` in the library — did you mean \`dialogpt\`\\?`));
  assert.doesNotMatch(compose.stderr, /:1:1:|candidates/);
});

test('every hint reaches text, JSON and the compose error (modules_to_save)', () => {
  const lib = 'roberta-library';
  ok(['library', 'init', lib, '--dim', String(DIM)]);
  ok(['library', 'add', lib, inWorkspace(`${REAL}/peft-roberta-mrpc/checkpoint-230`), '--name', 'epoch1', '--prototype', 'p1.npy']);
  ok(['library', 'add', lib, inWorkspace(`${REAL}/peft-roberta-mrpc/checkpoint-460`), '--name', 'epoch2', '--prototype', 'p2.npy']);
  const file = path.join(ws, 'recipes', 'heads.compose.yaml');
  fs.writeFileSync(file, `compose: 1\nname: heads\nbase: roberta-base\nlibrary: ../${lib}\ntarget:\n  prototype: ../target.npy\nretrieve:\n  k: 2\nweights:\n  strategy: avg\nmerge:\n  method: cat\noutput: ../out/heads\n`);
  const hint = 'set `merge.modules_to_save: drop`';
  const text = run(['check', file]);
  assert.equal(text.status, 1);
  assert.match(text.stdout, /error: .*full replacement weights/);
  assert.ok(text.stdout.includes(`  hint: ${hint}`), text.stdout);
  const json = JSON.parse(run(['check', file, '--json']).stdout);
  const problem = json.files[0].problems.find((p: { code: string }) => p.code === 'modules-to-save');
  assert.ok(String(problem.data.hint).startsWith(hint));
  const compose = run(['compose', file]);
  assert.equal(compose.status, 1);
  assert.ok(compose.stderr.includes(`hint: ${hint}`), compose.stderr);
});

test('bases: Hub aliases are normalised; --override-base is recorded and shown; an MLX local-path base takes --base', () => {
  // tigrinya's config says "gpt2": stored as openai-community/gpt2, and a recipe may say either
  const rows = JSON.parse(ok(['library', 'ls', 'library', '--json']).stdout) as { name: string; base: string; details: string }[];
  assert.equal(rows.find((r) => r.name === 'tigrinya')!.base, 'openai-community/gpt2');
  const ls = ok(['library', 'ls', 'library']).stdout;
  assert.match(ls, /dialogpt +openai-community\/gpt2 \(overridden; the adapter names microsoft\/DialoGPT-small\)/);
  assert.match(ok(['library', 'show', 'library', 'dialogpt']).stdout, /base +openai-community\/gpt2 \(overridden; the adapter names microsoft\/DialoGPT-small\)/);
  const basesRecipe = recipe('bases', PINNED);
  const plan = run(['check', basesRecipe]);
  assert.equal(plan.status, 0, plan.stdout);
  assert.match(plan.stdout, /warning: adapter `dialogpt`: base `openai-community\/gpt2` was set by `library add --override-base`; the adapter itself names `microsoft\/DialoGPT-small`/);
  const planned = run(['plan', basesRecipe, '--json']);
  assert.equal(planned.status, 0, planned.stderr);
  assert.ok(JSON.parse(planned.stdout).warnings.some((w: string) => /`dialogpt`: base `openai-community\/gpt2` was set by `library add --override-base`/.test(w)));
  assert.match(planned.stderr, /warning: adapter `dialogpt`: base/);

  const lib = 'bases-library';
  ok(['library', 'init', lib, '--dim', String(DIM)]);
  const refused = run(['library', 'add', lib, DIALOGPT, '--name', 'd', '--base', 'gpt2', '--prototype', 'p1.npy']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--base gpt2 differs from the adapter's own base model microsoft\/DialoGPT-small/);
  assert.match(refused.stderr, /--override-base/);
  ok(['library', 'add', lib, TIGRINYA, '--name', 't', '--base', 'openai-community/gpt2', '--prototype', 'p1.npy']); // "gpt2" = the same model
  const mlx = `${REAL}/mlx-minicpm/minicpm-2b-q-v-r8`;
  const noBase = run(['library', 'add', lib, mlx, '--name', 'm', '--prototype', 'p1.npy']);
  assert.equal(noBase.status, 2);
  assert.match(noBase.stderr, /local path .*\/Users\/.*MiniCPM/);
  ok(['library', 'add', lib, mlx, '--name', 'm', '--base', 'openbmb/MiniCPM-2B-sft-bf16', '--prototype', 'p1.npy']);
  const m = JSON.parse(ok(['library', 'show', lib, 'm', '--json']).stdout);
  assert.equal(m.base, 'openbmb/MiniCPM-2B-sft-bf16');
  assert.equal(m.details.base_override, true);
  assert.match(m.details.base_declared, /^\/Users\//);
  assert.equal(JSON.parse(ok(['library', 'show', lib, 't', '--json']).stdout).details.base_override, undefined);
});

test('kohya target_modules are all short names; kohya/diffusers/cloneofsimo composites record their base in __metadata__', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-kohya-'));
  const layers = ['to_q', 'to_k', 'to_v', 'to_out_0'];
  const make = (name: string, seed: number) => {
    const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float64Array }[] = [];
    let x = seed;
    const rnd = (n: number) => Float64Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
    for (const block of [0, 1]) {
      for (const layer of layers) {
        const key = `lora_unet_down_blocks_${block}_attentions_0_transformer_blocks_0_attn1_${layer}`;
        tensors.push({ name: `${key}.lora_down.weight`, dtype: 'F32', shape: [2, 8], data: rnd(16) });
        tensors.push({ name: `${key}.lora_up.weight`, dtype: 'F32', shape: [8, 2], data: rnd(16) });
        tensors.push({ name: `${key}.alpha`, dtype: 'F32', shape: [], data: Float64Array.of(2) });
      }
    }
    const file = path.join(dir, `${name}.safetensors`);
    writeFloatTensors(file, tensors);
    return file;
  };
  const a = make('a', 1);
  const b = make('b', 2);
  const facts = describeAdapter(a);
  assert.equal(facts.format, 'kohya');
  assert.deepEqual(facts.target_modules, ['attn1_to_k', 'attn1_to_out_0', 'attn1_to_q', 'attn1_to_v']);
  const base = 'runwayml/stable-diffusion-v1-5';
  const out = path.join(dir, 'out');
  await mergeAdapters([{ name: 'a', path: a, weight: 0.5 }, { name: 'b', path: b, weight: 0.5 }], { method: 'cat', products: 'js', baseModel: base, title: 'ab' }, out);
  const composite = readComposite(out);
  assert.equal(composite.format, 'kohya');
  assert.equal(composite.base, base, 'a kohya reader finds the base (ss_sd_model_name)');
  assert.equal(composite.metadata.ss_base_model_version, 'sd_v1');
  assert.equal(composite.metadata['modelspec.architecture'], 'stable-diffusion-v1/lora');
  assert.equal(composite.metadata['modelspec.sai_model_spec'], '1.0.0');
  assert.equal(composite.metadata['modelspec.title'], 'ab');
  for (const [name, input] of [['diffusers', `${REAL}/diffusers-sd-unet/sd15-weapons-catundchat`], ['cloneofsimo', `${REAL}/cloneofsimo-sd15/lora_disney`]]) {
    const o = path.join(dir, name);
    await mergeAdapters([{ name, path: input, weight: 1 }], { method: 'cat', products: 'js', baseModel: base }, o);
    const c = readComposite(o);
    assert.equal(c.format, name);
    assert.equal(c.metadata.ss_sd_model_name, base, name);
    assert.equal(c.metadata['modelspec.merged_from'], name);
  }
});

test('compose on a pipe prints a few progress lines, not one per module', () => {
  const file = recipe('progress', PINNED);
  const r = ok(['compose', file]);
  const progress = r.stderr.split('\n').filter((l) => /^\d+% /.test(l));
  assert.ok(progress.length >= 2 && progress.length <= 5, `progress lines: ${JSON.stringify(progress)}`);
  assert.match(progress[0], /^0% /);
  assert.equal(progress[progress.length - 1], '100% done');
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\x1b['), 'no terminal control codes on a pipe');
});

test('drift lines name the JSON path, show both values cut where they differ, and every field', () => {
  const a = 'ab'.repeat(20) + '0123';
  const b = 'ab'.repeat(20) + '0999';
  const line = formatDrift({ what: 'candidates[1].sha256', locked: a, now: b });
  const [, left, right] = /^candidates\[1\]\.sha256: (\S+) → (\S+)$/.exec(line)!;
  assert.notEqual(left, right, 'a shared prefix never makes the two sides print alike');
  assert.ok(a.startsWith(left.replace('…', '')) && b.startsWith(right.replace('…', '')));
  const base = { format: 1, tool_version: 't', recipe: { path: 'r', sha256: a }, library: { uri: 'l', version: 1, size: 2 }, encoder: { sha256: null, dim: 4 }, target: { source: 'prototype', sha256: 's', count: 1, dim: 4 }, provider: null, candidates: [{ name: 'x', distance: 0, sha256: a, path: 'p' }, { name: 'y', distance: 0, sha256: a, path: 'q' }], strategy: 'avg', parameters: { k: 2 }, weights: { x: 0.5, y: 0.5 }, merge: { method: 'cat', rank: 16, dtype: 'auto', modules_to_save: 'refuse' }, output: { path: 'o', files: [] } } as LockFile;
  const fresh = structuredClone(base);
  fresh.candidates[1].sha256 = b;
  fresh.weights = { x: 0.25, z: 0.75 };
  fresh.merge.rank = 8;
  fresh.library.version = 9; // not part of the composition: never drift
  const drift = lockDrift(base, fresh).map(formatDrift);
  assert.deepEqual(drift.map((d) => d.split(':')[0]), ['candidates[1].sha256', 'weights.x', 'weights.y', 'weights.z', 'merge.rank']);
  assert.ok(drift.includes('weights.x: 0.5 → 0.25'));
  assert.ok(drift.includes('weights.y: 0.5 → (absent)'));
  assert.ok(drift.includes('merge.rank: 16 → 8'));
  assert.deepEqual(diffPaths('output.files', [{ path: 'a', sha256: a }], [{ path: 'a', sha256: b }], []).map((d) => d.what), ['output.files[0].sha256']);
});

test('compose after an edit does not warn that the lock it is rewriting is stale (check and plan do)', () => {
  // new-user walkthrough: every compose after a recipe change printed "the lock file … is stale …;
  // compose again to update it" — while it was updating it
  const file = recipe('recomposed', PINNED);
  ok(['compose', file]);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  strategy: avg\n', '  strategy: convex\n'));
  const c = ok(['check', file]);
  assert.match(c.stdout + c.stderr, /stale/, 'check still reports it');
  const r = ok(['compose', file]);
  assert.ok(!/stale/.test(r.stderr + r.stdout), r.stderr);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  strategy: convex\n', '  strategy: avg\n'));
  const json = JSON.parse(ok(['compose', file, '--json']).stdout) as { warnings: string[] };
  assert.ok(!json.warnings.some((w) => /stale/.test(w)), json.warnings.join('\n'));
});
