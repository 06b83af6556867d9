// Every lock `compose` writes validates against schemas/lock.schema.json — the schema the editor uses for
// *.compose.lock and reviewers read. The schema drifted once (modules_to_save, dtype auto and the
// entry-wise merge fields were written but not described); this test composes one recipe per option
// that changes the lock's shape, through the real CLI, real safetensors and real LanceDB, and validates
// each lock with the schema in strict mode (additionalProperties: false wherever the schema says so).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import lockSchema from '../../schemas/lock.schema.json';
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { writePeft } from '../lsp/fixture';
import { cli, ensureBuilt } from '../hardening/workspace';
import { REAL_LORAS } from '../sharedData';

let ws = '';

function ok(args: string[]) {
  const r = cli(args, { cwd: ws, timeoutMs: 120_000 });
  assert.equal(r.status, 0, `${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

function validator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addKeyword('markdownDescription');
  ajv.addKeyword('markdownEnumDescriptions');
  return ajv.compile(lockSchema);
}

before(() => {
  ensureBuilt();
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lock-conformance-'));
  writePeft(path.join(ws, 'adapters', 'a'), 'toy', 2, 1);
  writePeft(path.join(ws, 'adapters', 'b'), 'toy', 2, 2);
  writePeft(path.join(ws, 'adapters', 'c'), 'toy', 2, 3);
  const npy = (name: string, v: number[]) => fs.writeFileSync(path.join(ws, name), encodeNpy(Float32Array.from(v), [v.length]));
  npy('p1.npy', [1, 0, 0]);
  npy('p2.npy', [0, 1, 0]);
  npy('p3.npy', [0, 0, 1]);
  npy('target.npy', [0.6, 0.3, 0.1]);
  ok(['library', 'init', 'library', '--dim', '3']);
  ok(['library', 'add', 'library', 'adapters/a', '--name', 'a', '--prototype', 'p1.npy']);
  ok(['library', 'add', 'library', 'adapters/b', '--name', 'b', '--prototype', 'p2.npy']);
  ok(['library', 'add', 'library', 'adapters/c', '--name', 'c', '--prototype', 'p3.npy']);
  // Two real PEFT checkpoints with modules_to_save (classifier heads), copied so the test owns them.
  for (const ck of ['checkpoint-230', 'checkpoint-460']) {
    fs.cpSync(path.join(REAL_LORAS, 'peft-roberta-mrpc', ck), path.join(ws, 'adapters', ck), { recursive: true });
  }
  ok(['library', 'init', 'rlib', '--dim', '3']);
  ok(['library', 'add', 'rlib', 'adapters/checkpoint-230', '--name', 'epoch1', '--prototype', 'p1.npy']);
  ok(['library', 'add', 'rlib', 'adapters/checkpoint-460', '--name', 'epoch2', '--prototype', 'p2.npy']);
  fs.mkdirSync(path.join(ws, 'recipes'));
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

const VARIANTS: Record<string, string> = {
  default: 'weights:\n  strategy: sparse\n',
  'exclude-where': 'retrieve:\n  k: 2\n  exclude: [c]\n  where: "array_has(tags, \'x\') OR name = \'a\' OR name = \'b\'"\n',
  'sparse-lasso': 'weights: { strategy: sparse, form: lasso, rho: 0.3 }\n',
  'sparse-lambda': 'weights: { strategy: sparse, lambda: 0.01 }\n',
  sim: 'weights: { strategy: sim, temperature: 0.5 }\n',
  manual: 'retrieve:\n  adapters: [a, b]\nweights: { strategy: manual, manual: { a: 0.7, b: 0.3 } }\n',
  svd: 'weights: { strategy: lin }\nmerge: { method: svd, rank: 2, dtype: bf16 }\n',
  'cat-f16': 'weights: { strategy: convex }\nmerge: { method: cat, dtype: f16 }\n',
  ties: 'weights: { strategy: avg }\nmerge: { method: ties, density: 0.4, rank: 3, normalize: true }\n',
  dare: 'weights: { strategy: avg }\nmerge: { method: dare_linear, density: 0.5, rank: 3, seed: 4 }\n',
  prune: 'weights: { strategy: nearest }\nmerge: { method: magnitude_prune, density: 0.3, rank: 2, dtype: auto }\n',
};

for (const [name, body] of Object.entries(VARIANTS)) {
  test(`lock of a '${name}' composition validates against lock.schema.json`, () => {
    const retrieve = body.includes('retrieve:') ? '' : 'retrieve:\n  k: 3\n';
    fs.writeFileSync(path.join(ws, 'recipes', `${name}.compose.yaml`),
      `compose: 1\nname: ${name}\nbase: toy\nlibrary: ../library\ntarget:\n  prototype: ../target.npy\n${retrieve}${body}output: ../out/${name}\n`);
    ok(['compose', `recipes/${name}.compose.yaml`]);
    const lock = JSON.parse(fs.readFileSync(path.join(ws, 'recipes', `${name}.compose.lock`), 'utf8'));
    const validate = validator();
    assert.ok(validate(lock), `${name}: ${JSON.stringify(validate.errors, null, 1)}\nlock: ${JSON.stringify(lock)}`);
  });
}

test('lock of a real roberta composition with modules_to_save: average validates against lock.schema.json', () => {
  fs.writeFileSync(path.join(ws, 'recipes', 'roberta.compose.yaml'),
    'compose: 1\nname: roberta\nbase: roberta-base\nlibrary: ../rlib\ntarget:\n  prototype: ../target.npy\nretrieve:\n  k: 2\nweights: { strategy: lin }\nmerge: { method: svd, rank: 8, modules_to_save: average }\noutput: ../out/roberta\n');
  ok(['compose', 'recipes/roberta.compose.yaml']);
  const lock: { merge: { modules_to_save: string } } = JSON.parse(fs.readFileSync(path.join(ws, 'recipes', 'roberta.compose.lock'), 'utf8'));
  const validate = validator();
  assert.ok(validate(lock), JSON.stringify(validate.errors, null, 1));
  assert.equal(lock.merge.modules_to_save, 'average');
});
