/**
 * Untrusted recipes and adapters: path escapes (.., absolute, symlinks), SQL in `where`, NaN/Inf and
 * enormous numbers, external commands, and adapters built to mislead (huge declared shapes,
 * overlapping offsets, pickles renamed .safetensors, inconsistent configs, NaN prototypes). Each
 * must fail safely with a located message and leave the workspace and library as they were.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compose } from '../../server/src/engine/compose';
import { createPlanner } from '../../server/src/engine/planner';
import { openLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { isComposerError, type ComposerError } from '../../server/src/engine/errors';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { cli, demoWorkspace, ensureBuilt } from './workspace';

let ws: string;
let outside: string;
const BASE = fs.readFileSync.bind(fs);

before(() => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-hostile-');
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hardening-outside-'));
});

function recipeText(changes: Record<string, string>): string {
  const text = BASE(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8');
  let out = text;
  for (const [key, value] of Object.entries(changes)) {
    const re = new RegExp(`^${key}:.*(?:\\n[ \\t]+.*)*`, 'm'); // the key and its indented block
    out = re.test(out) ? out.replace(re, `${key}: ${value}`) : `${out}\n${key}: ${value}\n`;
  }
  return out;
}

function writeRecipe(name: string, text: string): string {
  const file = path.join(ws, 'recipes', `${name}.compose.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

async function refused(file: string, pattern: RegExp, options: Parameters<typeof compose>[1] = {}): Promise<ComposerError> {
  try {
    await compose(file, { workspaceRoot: ws, ...options });
  } catch (e) {
    assert.ok(isComposerError(e), `not a ComposerError: ${(e as Error)?.stack}`);
    assert.match(e.message, pattern);
    assert.equal(e.location?.file, file, 'located in the recipe');
    assert.ok(typeof e.location?.line === 'number', 'with a line');
    return e;
  }
  assert.fail(`compose of ${path.basename(file)} should have been refused`);
}

test('output, library, target and sample paths cannot leave the workspace (.., absolute, symlinks)', async () => {
  const escapeTo = path.join(outside, 'escaped');
  const cases: [string, Record<string, string>, RegExp][] = [
    ['dotdot', { output: '../../../escaped-out' }, /output .* outside the workspace/],
    ['absolute', { output: escapeTo }, /output .* outside the workspace/],
  ];
  // a symlink inside the workspace pointing outside: as output parent, as library, as samples folder
  fs.symlinkSync(outside, path.join(ws, 'out-link'));
  cases.push(['symlinked-output', { output: '../out-link/x' }, /output .* resolves to .*ac-hardening-outside-.* outside the workspace/]);
  fs.cpSync(path.join(ws, 'library'), path.join(outside, 'library'), { recursive: true });
  fs.symlinkSync(path.join(outside, 'library'), path.join(ws, 'library-link'));
  cases.push(['symlinked-library', { library: '../library-link' }, /library .* outside the workspace/]);
  cases.push(['outside-library', { library: path.join(outside, 'library') }, /library .* outside the workspace/]);
  fs.cpSync(path.join(ws, 'data', 'grammar-01'), path.join(outside, 'samples'), { recursive: true });
  fs.symlinkSync(path.join(outside, 'samples'), path.join(ws, 'data', 'samples-link'));
  cases.push(['symlinked-samples', { target: '\n  samples: ../data/samples-link/*.npy' }, /sample file .* outside the workspace/]);
  fs.writeFileSync(path.join(outside, 'p.npy'), encodeNpy(new Float32Array(16).fill(0.1), [16]));
  cases.push(['outside-prototype', { target: `\n  prototype: ${path.join(outside, 'p.npy')}` }, /target prototype file .* outside the workspace/]);
  for (const [name, changes, pattern] of cases) {
    const file = writeRecipe(`escape-${name}`, recipeText(changes));
    await refused(file, pattern);
  }
  assert.ok(!fs.existsSync(escapeTo) && !fs.existsSync(path.join(outside, 'x')) && !fs.existsSync(path.resolve(ws, '..', '..', 'escaped-out')), 'nothing was written outside');
  // The user can allow it explicitly.
  const allowed = writeRecipe('escape-allowed', recipeText({ output: escapeTo }));
  const result = await compose(allowed, { workspaceRoot: ws, allowOutsideWorkspace: true });
  assert.equal(result.output, escapeTo);
  // And the CLI refuses by default, with the file:line and a hint.
  const r = cli(['compose', path.join(ws, 'recipes', 'escape-absolute.compose.yaml'), '--workspace', ws], { cwd: ws });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /escape-absolute\.compose\.yaml:\d+:\d+: output .* outside the workspace[\s\S]*--allow-outside-workspace/);
});

test('`where` cannot modify the library: SQL injection attempts are errors or read-only filters', async () => {
  const library = await openLibrary(path.join(ws, 'library'));
  const version = await library.version();
  const size = await library.size();
  library.close();
  const planner = createPlanner();
  try {
    for (const where of ['1=1; DROP TABLE adapters', "name = 'x'); DELETE FROM adapters; --", "name = 'x' OR 1=1", "1=1 UNION SELECT * FROM library_meta", "tags = 'a'; UPDATE adapters SET rank = 0"]) {
      const text = recipeText({ retrieve: `{ k: 5, where: ${JSON.stringify(where)} }` });
      const file = writeRecipe('where', text);
      const outcome = await planner.plan(text, file, { workspaceRoot: ws });
      const errors = outcome.problems.filter((p) => p.severity === 'error');
      if (errors.length) {
        assert.ok(errors.every((p) => p.code !== 'internal'), JSON.stringify(errors));
        assert.ok(errors.some((p) => p.path?.[0] === 'retrieve'), `located at retrieve: ${JSON.stringify(errors)}`);
      } else assert.ok(outcome.plan, `${where}: planned as a plain filter`);
    }
  } finally {
    await planner.dispose();
  }
  const after = await openLibrary(path.join(ws, 'library'));
  assert.equal(await after.version(), version, 'no commit happened');
  assert.equal(await after.size(), size);
  after.close();
});

test('NaN, Inf, enormous numbers and huge k in a recipe: located errors or bounded work', async () => {
  const planner = createPlanner();
  try {
    const cases: [Record<string, string>, string][] = [
      [{ retrieve: '{ k: .nan }' }, 'retrieve'], [{ retrieve: '{ k: .inf }' }, 'retrieve'], [{ retrieve: '{ k: 1e300 }' }, 'retrieve'],
      [{ weights: '{ strategy: sparse, lambda: .nan }' }, 'weights'], [{ weights: '{ strategy: sim, temperature: -.inf }' }, 'weights'],
      [{ merge: '{ method: svd, rank: 99999999999999999999 }' }, 'merge'], [{ retrieve: '{ k: 1000000000 }' }, 'retrieve'],
    ];
    for (const [changes, key] of cases) {
      const text = recipeText(changes);
      const t0 = performance.now();
      const outcome = await planner.plan(text, writeRecipe('numbers', text), { workspaceRoot: ws });
      assert.ok(performance.now() - t0 < 5000, `${JSON.stringify(changes)} took ${performance.now() - t0} ms`);
      const flagged = outcome.problems; // an error, or a warning / note saying what the number means
      assert.ok(flagged.some((p) => p.path?.[0] === key), `${JSON.stringify(changes)}: ${JSON.stringify(outcome.problems)}`);
      assert.ok(outcome.problems.every((p) => p.code !== 'internal'));
    }
  } finally {
    await planner.dispose();
  }
});

test('external evaluator commands: refused without --allow-exec, and never run through a shell', () => {
  const marker = path.join(ws, 'pwned');
  const text = recipeText({ evaluate: `{ command: [echo, "$(touch ${marker})", "; touch ${marker}2", "\`touch ${marker}3\`"], timeout: 10 }` });
  const file = writeRecipe('exec', text);
  const refusedRun = cli(['compose', file], { cwd: ws });
  assert.equal(refusedRun.status, 1);
  assert.match(refusedRun.stderr, /exec\.compose\.yaml:\d+:\d+: this recipe runs an external command[\s\S]*--allow-exec/);
  const allowed = cli(['compose', file, '--allow-exec'], { cwd: ws });
  assert.ok(allowed.status === 0 || allowed.status === 1, allowed.stderr);
  for (const suffix of ['', '2', '3']) assert.ok(!fs.existsSync(marker + suffix), 'no shell interpreted the arguments');
});

test('hostile adapters are refused by `library add` with located messages; the library is unchanged', async () => {
  const library = await openLibrary(path.join(ws, 'library'));
  const version = await library.version();
  const dir = fs.mkdtempSync(path.join(ws, 'hostile-adapters-'));
  const config = (extra: Record<string, unknown>) => JSON.stringify({ base_model_name_or_path: 'demo/tiny-transformer', peft_type: 'LORA', r: 4, lora_alpha: 4, target_modules: ['q_proj'], ...extra });
  const A = 'base_model.model.layers.0.q_proj.lora_A.weight';
  const B = 'base_model.model.layers.0.q_proj.lora_B.weight';
  const make = (name: string, files: Record<string, Buffer | string>) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(d, f), content);
    return d;
  };
  const rawSafetensors = (header: object, dataLength: number) => {
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([prefix, json, Buffer.alloc(dataLength)]);
  };
  const good = path.join(dir, 'good.safetensors');
  writeFloatTensors(good, [{ name: A, dtype: 'F32', shape: [4, 16], data: new Array(64).fill(0.01) }, { name: B, dtype: 'F32', shape: [16, 4], data: new Array(64).fill(0.01) }]);
  const cases: [string, string, RegExp, string?][] = [
    ['huge-shape', make('huge-shape', { 'adapter_config.json': config({}), 'adapter_model.safetensors': rawSafetensors({ [A]: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] } }, 16) }), /needs .* bytes but data_offsets span/],
    ['overlap', make('overlap', { 'adapter_config.json': config({}), 'adapter_model.safetensors': rawSafetensors({ [A]: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, [B]: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 24] } }, 24) }), /overlaps/],
    ['pickle', make('pickle', { 'adapter_config.json': config({}), 'adapter_model.safetensors': Buffer.concat([Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00]), Buffer.alloc(64)]) }), /pickle|safetensors/i],
    ['rank-zero', make('rank-zero', { 'adapter_config.json': config({ r: 0 }), 'adapter_model.safetensors': fs.readFileSync(good) }), /"r" must be a positive number/],
    ['rank-mismatch', make('rank-mismatch', { 'adapter_config.json': config({ r: 8 }), 'adapter_model.safetensors': fs.readFileSync(good) }), /rank|r =|shape/i],
    ['nan-alpha', make('nan-alpha', { 'adapter_config.json': config({}).replace('"lora_alpha":4', '"lora_alpha":"NaN"'), 'adapter_model.safetensors': fs.readFileSync(good) }), /lora_alpha/],
    ['backreference-pattern', make('backreference-pattern', { 'adapter_config.json': config({ rank_pattern: { '(q)_\\1': 2 } }), 'adapter_model.safetensors': fs.readFileSync(good) }), /regular expression that uses a backreference/],
  ];
  for (const [name, adapterPath, pattern] of cases) {
    try {
      const record = await adapterRecord(library, { adapterPath, name, source: { vector: new Float64Array(16).fill(0.1) } });
      await library.add(record);
      assert.fail(`${name} was accepted`);
    } catch (e) {
      assert.ok(isComposerError(e), `${name}: ${(e as Error)?.stack}`);
      assert.match(e.message, pattern, `${name}: ${e.message}`);
      assert.ok(e.location?.file?.startsWith(adapterPath), `${name}: located in the adapter (${JSON.stringify(e.location)})`);
    }
  }
  // A prototype with NaN: refused before any write.
  const nanProto = path.join(dir, 'nan.npy');
  fs.writeFileSync(nanProto, encodeNpy(Float32Array.from({ length: 16 }, (_, i) => (i === 3 ? NaN : 0.1)), [16]));
  const sane = make('sane', { 'adapter_config.json': config({}), 'adapter_model.safetensors': fs.readFileSync(good) });
  await assert.rejects(async () => library.add(await adapterRecord(library, { adapterPath: sane, name: 'nan-proto', source: { prototype: nanProto } })), (e: unknown) => isComposerError(e) && /NaN|finite/i.test(e.message));
  // Negative alpha is a sign flip PEFT allows: accepted with a finite scale (not refused).
  const negative = make('negative-alpha', { 'adapter_config.json': config({ lora_alpha: -4 }), 'adapter_model.safetensors': fs.readFileSync(good) });
  const record = await adapterRecord(library, { adapterPath: negative, name: 'negative-alpha', source: { vector: new Float64Array(16).fill(0.1) } });
  assert.equal(record.alpha, -4);
  assert.equal(await library.version(), version, 'nothing was written');
  library.close();
});
