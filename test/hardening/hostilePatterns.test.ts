/**
 * PEFT rank_pattern / alpha_pattern keys (issue 10, item 8): 10–12 copies of `.{0,40}` then `!`
 * bypassed the old guard (bounded quantifiers were not counted) and took 43 s in a backtracking
 * engine. Keys are now compiled to an NFA (safeRegex.ts) and matched in linear time. The work is
 * asserted by counting steps, never by a clock; semantics are compared with JS RegExp on patterns
 * where backtracking is harmless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compilePeftPattern, PatternError } from '../../server/src/engine/lora/safeRegex';
import { parsePeftConfig, patternValue } from '../../server/src/engine/lora/peftFormat';
import { isComposerError } from '../../server/src/engine/errors';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { cli, ensureBuilt } from './workspace';

const MODULE = 'base_model.model.model.layers.31.self_attn.q_proj';

test('the ReDoS keys (n × `.{0,40}` then `!`) compile and match in at most size × (length + 1) steps', () => {
  for (const n of [10, 11, 12, 20]) {
    const key = `${'.{0,40}'.repeat(n)}!`;
    const re = compilePeftPattern(key);
    for (const text of [MODULE, 'a'.repeat(500), `${'a'.repeat(400)}!`]) {
      const counter = { steps: 0 };
      const matched = re.fullMatch(text, counter);
      assert.ok(counter.steps <= re.size * (text.length + 1), `${n}: ${counter.steps} steps for size ${re.size}, length ${text.length}`);
      // Independent answer: the key matches iff the text is `prefix.` + up to 40n characters + `!`, or ≤ 40n characters + `!`.
      const expected = text.endsWith('!') && (text.length - 1 <= 40 * n || (text.lastIndexOf('.', text.length - 2) >= 0 && text.length - 2 - text.lastIndexOf('.', text.length - 2) <= 40 * n));
      assert.equal(matched, expected, `${n} × .{0,40}! on ${text.slice(0, 40)}… (${text.length})`);
    }
  }
  // The classic exponential shapes are linear too.
  for (const key of ['(a+)+$', '(a|aa)*b', '(a*)*b', '(.*){1,30}x']) {
    const re = compilePeftPattern(key);
    const counter = { steps: 0 };
    const text = `${'a'.repeat(2000)}!`;
    assert.equal(re.fullMatch(text, counter), false);
    assert.ok(counter.steps <= re.size * (text.length + 1), key);
  }
});

test('matching agrees with PEFT\'s re.match(rf"(.*\\.)?({key})$") (JS RegExp as the reference on safe keys)', () => {
  const keys = ['q_proj', 'v_proj', 'layers.0.self_attn.q_proj', 'layers\\.\\d+\\.self_attn\\.q_proj', 'layers\\.(0|1|31)\\..*', '.*attn.*', 'q_proj|v_proj',
    '[qkv]_proj', '[^q]_proj', 'layers\\.[0-9]{1,2}\\.mlp\\.(up|down)_proj', 'proj', 'self_attn\\.[a-z]+_proj', '(?:q|k)_proj', '(?P<m>q)_proj', 'q_proj$', '^layers.*', 'a{0}q_proj', 'x?q_proj'];
  const modules = [MODULE, 'base_model.model.model.layers.0.self_attn.v_proj', 'layers.1.mlp.up_proj', 'layers.12.mlp.down_proj', 'model.layers.31.self_attn.k_proj', 'q_proj', 'xq_proj', 'o_proj', 'qq_proj'];
  for (const key of keys) {
    const ours = compilePeftPattern(key);
    const reference = new RegExp(`^(?:.*\\.)?(?:${key.replace('(?P<', '(?<')})$`);
    for (const m of modules) assert.equal(ours.fullMatch(m), reference.test(m), `${key} on ${m}`);
  }
  assert.equal(patternValue({ 'layers\\.31\\..*': 7, q_proj: 3 }, MODULE), 7, 'the first matching key wins');
});

test('unsupported constructs are refused with a reason; the ReDoS config goes through `library add`', () => {
  const refused: [string, RegExp][] = [['(q)_\\1', /backreference/], ['q(?=_proj)', /lookaround/], ['(?<=a)q', /lookaround/], ['(?i)Q_PROJ', /inline flag/], ['\\bq', /escape \\b/],
    ['(.{0,1000}){0,1000}', /expands to more than/], ['q_proj)', /unbalanced/], ['a**', /multiple repeat/], ['[a-', /unterminated/]];
  for (const [key, pattern] of refused) assert.throws(() => compilePeftPattern(key), (e: unknown) => e instanceof PatternError && pattern.test(e.message), key);
  assert.throws(() => parsePeftConfig({ r: 4, lora_alpha: 4, rank_pattern: { 'q(?!x)': 2 } }, '/x/adapter_config.json'), (e: unknown) => isComposerError(e) && /"rank_pattern" key .* regular expression that uses lookaround/.test(e.message));

  // The attack config itself goes through `library add` (real CLI) and comes back, patterns honoured.
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hardening-patterns-'));
  const lib = path.join(dir, 'lib');
  assert.equal(cli(['library', 'init', lib, '--dim', '4'], { cwd: dir }).status, 0);
  const adapter = path.join(dir, 'adapter');
  fs.mkdirSync(adapter);
  const A = 'base_model.model.layers.0.q_proj.lora_A.weight';
  const B = 'base_model.model.layers.0.q_proj.lora_B.weight';
  writeFloatTensors(path.join(adapter, 'adapter_model.safetensors'), [{ name: A, dtype: 'F32', shape: [4, 16], data: new Array(64).fill(0.01) }, { name: B, dtype: 'F32', shape: [16, 4], data: new Array(64).fill(0.01) }]);
  fs.writeFileSync(path.join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 4, target_modules: ['q_proj'], base_model_name_or_path: 'toy', rank_pattern: { [`${'.{0,40}'.repeat(12)}!`]: 2 }, alpha_pattern: { 'layers\\.0\\.q_proj': 8 } }));
  const proto = path.join(dir, 'p.npy');
  fs.writeFileSync(proto, encodeNpy(new Float32Array([0.1, 0.2, 0.3, 0.4]), [4]));
  const r = cli(['library', 'add', lib, adapter, '--name', 'redos', '--prototype', proto], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.signal, null, 'library add was killed (hang)');
  assert.equal(r.status, 0, r.stderr);
  const shown = cli(['library', 'show', lib, 'redos', '--json'], { cwd: dir });
  assert.match(shown.stdout, /"alpha": 8|"alpha":8/, 'the alpha_pattern key applied');
});
