import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecipe, formatProblem, hasErrors, problemToError, type Problem } from '../../server/src/engine/recipe';
import { VALID_RECIPE, edit, rangeOfText } from './fixtures';
import { DEFAULT_RHO } from '../../server/src/engine/weights';

const FILE = '/ws/recipes/prostate-e.compose.yaml';

function only(problems: Problem[], code: string): Problem {
  const found = problems.filter((p) => p.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

test('the valid recipe has no problems and its spec carries the values and defaults', () => {
  const r = checkRecipe(VALID_RECIPE, FILE, { workspaceRoot: '/' });
  assert.deepEqual(r.problems, []);
  assert.ok(r.recipe);
  const spec = r.recipe.spec;
  assert.equal(spec.name, 'prostate-e');
  assert.deepEqual(spec.target, { samples: ['data/prostate-e/*.npy'] });
  assert.deepEqual(spec.retrieve, { k: 5, exclude: ['prostate-e'], where: "array_has(tags, 'prostate')" });
  assert.deepEqual(spec.weights, { strategy: 'sparse', lambda: 0.05, form: 'constrained' });
  assert.deepEqual(spec.merge, { method: 'svd', rank: 16, dtype: 'bf16', modules_to_save: 'refuse' });
  assert.deepEqual(spec.evaluate, { command: ['python', 'score.py', '{output}'], timeout: 600 });
});

test('a minimal recipe gets the documented defaults', () => {
  const text = 'compose: 1\nbase: b\nlibrary: lib\ntarget: { prototype: p.npy }\noutput: out\n';
  const r = checkRecipe(text, '/ws/site-a.compose.yaml');
  assert.deepEqual(r.problems, []);
  const spec = r.recipe!.spec;
  assert.equal(spec.name, 'site-a');
  assert.equal(spec.retrieve.k, 5);
  assert.equal(spec.weights.strategy, 'sparse');
  assert.equal(spec.weights.lambda, undefined, 'λ is absolute: no default');
  assert.equal(spec.weights.rho, DEFAULT_RHO, 'the scale-free default, the same as `--strategy sparse`');
  assert.equal(spec.weights.form, 'constrained');
  assert.equal(spec.merge.method, 'cat', 'the default merge is exact');
  assert.equal(spec.merge.rank, 16);
  assert.equal(spec.merge.dtype, 'auto');
  assert.equal(spec.merge.modules_to_save, 'refuse');
  assert.equal(spec.evaluate, undefined);
});

test('YAML syntax error: an unclosed flow sequence is reported where the next block item starts', () => {
  const text = edit(VALID_RECIPE, 'output: ../out/prostate-e', 'output: [../out/prostate-e');
  const r = checkRecipe(text, FILE);
  assert.equal(r.recipe, undefined);
  assert.equal(r.problems.length, 1);
  const p = r.problems[0];
  assert.equal(p.code, 'yaml-syntax');
  assert.equal(p.severity, 'error');
  const next = rangeOfText(text, 'evaluate').start;
  assert.deepEqual(p.range, { start: next, end: { line: next.line, character: 1 } });
  assert.match(p.message, /Flow sequence/);
  assert.doesNotMatch(p.message, /\n/);
});

test('YAML syntax error: a nested mapping in a compact value points at the value', () => {
  const text = edit(VALID_RECIPE, 'name: prostate-e', 'name: prostate-e: x');
  const r = checkRecipe(text, FILE);
  assert.equal(r.problems.length, 1);
  const start = rangeOfText(text, 'prostate-e: x').start;
  assert.deepEqual(r.problems[0].range, { start, end: { line: start.line, character: start.character + 1 } });
});

test('YAML syntax error: an unclosed quote spans to the end of its line', () => {
  const text = edit(VALID_RECIPE, 'name: prostate-e', 'name: "prostate-e');
  const r = checkRecipe(text, FILE);
  assert.equal(r.problems.length, 1);
  const line = rangeOfText(text, 'name: "').start.line;
  assert.deepEqual(r.problems[0].range, { start: { line, character: 'name: "prostate-e'.length }, end: { line: line + 1, character: 0 } });
});

test('YAML syntax error: a bad indentation is reported on its line', () => {
  const text = edit(VALID_RECIPE, '  lambda: 0.05', ' lambda: 0.05');
  const r = checkRecipe(text, FILE);
  assert.equal(r.recipe, undefined);
  const line = rangeOfText(text, ' lambda: 0.05').start.line;
  assert.ok(r.problems.some((p) => p.code === 'yaml-syntax' && p.range.start.line === line), JSON.stringify(r.problems));
});

test('wrong type: points at the value', () => {
  const text = edit(VALID_RECIPE, '{ k: 5,', '{ k: five,');
  const p = only(checkRecipe(text, FILE).problems, 'wrong-type');
  assert.equal(p.severity, 'error');
  assert.deepEqual(p.range, rangeOfText(text, 'five'));
  assert.deepEqual(p.path, ['retrieve', 'k']);
  assert.match(p.message, /`retrieve\.k` must be a whole number/);
  assert.match(p.message, /"five"/);
});

test('a key without a value is reported on the key', () => {
  const text = edit(VALID_RECIPE, '  lambda: 0.05', '  lambda:');
  const p = only(checkRecipe(text, FILE).problems, 'wrong-type');
  assert.deepEqual(p.range, rangeOfText(text, 'lambda'));
  assert.match(p.message, /has no value/);
});

test('unknown key: points at the key with did-you-mean and a suggestion for the quick fix', () => {
  const text = edit(VALID_RECIPE, '  strategy: sparse', '  stratgy: sparse');
  const p = only(checkRecipe(text, FILE).problems, 'unknown-key');
  assert.equal(p.message, 'unknown key `stratgy` — did you mean `strategy`?');
  assert.deepEqual(p.range, rangeOfText(text, 'stratgy'));
  assert.equal(p.data?.suggestion, 'strategy');
  assert.deepEqual(p.path, ['weights', 'stratgy']);
});

test('unknown key far from any allowed key lists the allowed keys, or where it belongs', () => {
  const text = edit(VALID_RECIPE, 'output: ../out/prostate-e', 'output: ../out/prostate-e\ntemperature: 3\nzzzzzz: 1');
  const problems = checkRecipe(text, FILE).problems.filter((p) => p.code === 'unknown-key');
  assert.equal(problems.length, 2);
  assert.match(problems[0].message, /`temperature` — it belongs under `weights:`/);
  assert.match(problems[1].message, /allowed: compose, name/);
  assert.equal(problems[1].data?.suggestion, undefined);
});

test('missing required key: reported at the parent key, naming the missing key', () => {
  const text = edit(VALID_RECIPE, 'evaluate: { command: [python, score.py, "{output}"], timeout: 600 }', 'evaluate: { timeout: 600 }');
  const p = only(checkRecipe(text, FILE).problems, 'missing-key');
  assert.deepEqual(p.range, rangeOfText(text, 'evaluate'));
  assert.match(p.message, /missing required key `command`/);
  assert.deepEqual(p.path, ['evaluate', 'command']);
});

test('missing required top-level key: reported at the document start (the compose key)', () => {
  const text = edit(VALID_RECIPE, 'base: facebook/sam-vit-base\n', '');
  const p = only(checkRecipe(text, FILE).problems, 'missing-key');
  assert.deepEqual(p.range, rangeOfText(text, 'compose'));
  assert.match(p.message, /missing required key `base`/);
});

test('enum: points at the value, lists the allowed values, suggests the closest', () => {
  const text = edit(VALID_RECIPE, 'strategy: sparse', 'strategy: spars');
  const problems = checkRecipe(text, FILE).problems;
  const p = only(problems, 'invalid-value');
  assert.deepEqual(p.range, rangeOfText(text, 'spars'));
  assert.match(p.message, /did you mean `sparse`\?/);
  assert.match(p.message, /avg, sim, lin, sparse, convex, nearest, manual/);
  assert.equal(p.data?.suggestion, 'sparse');
  // No "lambda unused" noise for an invalid strategy.
  assert.equal(problems.filter((x) => x.code === 'unused-parameter').length, 0);
});

test('two target sources: error on the second source key', () => {
  const text = edit(VALID_RECIPE, '  samples: data/prostate-e/*.npy', '  samples: data/prostate-e/*.npy\n  features: data/e.features.npy');
  const p = only(checkRecipe(text, FILE).problems, 'target-sources');
  assert.deepEqual(p.range, rangeOfText(text, 'features'));
  assert.match(p.message, /both `samples` and `features`/);
});

test('empty target: error on the target key', () => {
  const text = edit(VALID_RECIPE, 'target:\n  samples: data/prostate-e/*.npy   # encoded, then mean-pooled', 'target: {}');
  const p = only(checkRecipe(text, FILE).problems, 'target-sources');
  assert.deepEqual(p.range, rangeOfText(text, 'target'));
});

test('λ < 0: out-of-range error on the value', () => {
  const text = edit(VALID_RECIPE, 'lambda: 0.05', 'lambda: -0.5');
  const p = only(checkRecipe(text, FILE).problems, 'out-of-range');
  assert.deepEqual(p.range, rangeOfText(text, '-0.5'));
  assert.match(p.message, /λ \(`weights\.lambda`\) must be ≥ 0 \(got -0\.5\)/);
});

test('λ = .nan and τ = .inf are not finite', () => {
  const text = edit(VALID_RECIPE, 'lambda: 0.05', 'lambda: .nan');
  const p = only(checkRecipe(text, FILE).problems, 'non-finite');
  assert.deepEqual(p.range, rangeOfText(text, '.nan'));
  const text2 = edit(VALID_RECIPE, '  strategy: sparse\n  lambda: 0.05', '  strategy: sim\n  temperature: .inf');
  assert.deepEqual(only(checkRecipe(text2, FILE).problems, 'non-finite').range, rangeOfText(text2, '.inf'));
});

test('λ "auto" is accepted, a typo of it is suggested', () => {
  assert.deepEqual(checkRecipe(edit(VALID_RECIPE, 'lambda: 0.05', 'lambda: auto'), FILE).problems, []);
  const text = edit(VALID_RECIPE, 'lambda: 0.05', 'lambda: aut');
  const p = only(checkRecipe(text, FILE).problems, 'wrong-type');
  assert.equal(p.data?.suggestion, 'auto');
  assert.deepEqual(p.range, rangeOfText(text, 'aut'));
});

test('τ ≤ 0 and k < 1 are errors', () => {
  const text = edit(edit(VALID_RECIPE, '  strategy: sparse\n  lambda: 0.05', '  strategy: sim\n  temperature: 0'), 'k: 5', 'k: 0');
  const problems = checkRecipe(text, FILE).problems.filter((p) => p.code === 'out-of-range');
  assert.equal(problems.length, 2);
  assert.match(problems[0].message, /`retrieve\.k` must be ≥ 1/);
  assert.match(problems[1].message, /τ \(`weights\.temperature`\) must be > 0/);
  assert.deepEqual(problems[1].range, rangeOfText(text, '0', text.slice(0, text.indexOf('temperature: 0')).split('0').length - 1));
});

test('manual strategy without weights is an error on the strategy value', () => {
  const text = edit(VALID_RECIPE, '  strategy: sparse\n  lambda: 0.05', '  strategy: manual');
  const p = only(checkRecipe(text, FILE).problems, 'manual-missing');
  assert.deepEqual(p.range, rangeOfText(text, 'manual'));
});

test('manual weights that do not sum to 1: a warning showing the sum', () => {
  const text = edit(VALID_RECIPE, '  strategy: sparse\n  lambda: 0.05', '  strategy: manual\n  manual: { prostate-b: 0.5, prostate-f: 0.4 }');
  const r = checkRecipe(text, FILE);
  const p = only(r.problems, 'manual-sum');
  assert.equal(p.severity, 'warning');
  assert.match(p.message, /sum to 0\.9/);
  assert.deepEqual(p.range, rangeOfText(text, 'manual', 1));
  const normalized = p.data?.normalized as Record<string, number>;
  assert.ok(Math.abs(normalized['prostate-b'] + normalized['prostate-f'] - 1) < 1e-12);
  assert.equal(hasErrors(r.problems), false);
  // Summing to 1 draws no warning.
  const ok = edit(text, 'prostate-f: 0.4', 'prostate-f: 0.5');
  assert.deepEqual(checkRecipe(ok, FILE).problems, []);
});

test('unused parameters are warnings on the key, marked unnecessary', () => {
  const text = edit(VALID_RECIPE, '  strategy: sparse', '  strategy: avg');
  const p = only(checkRecipe(text, FILE).problems, 'unused-parameter');
  assert.equal(p.severity, 'warning');
  assert.deepEqual(p.range, rangeOfText(text, 'lambda'));
  assert.equal(p.data?.unnecessary, true);
  assert.match(p.message, /`lambda` is unused: strategy is `avg`/);
});

test('weights.rho and weights.form: λ and ρ together are an error; unused with another strategy', () => {
  const both = edit(VALID_RECIPE, '  lambda: 0.05', '  lambda: 0.05\n  rho: 0.5');
  const p = only(checkRecipe(both, FILE).problems, 'lambda-and-rho');
  assert.equal(p.severity, 'error');
  assert.deepEqual(p.range, rangeOfText(both, 'rho'));
  const relative = edit(VALID_RECIPE, '  lambda: 0.05', '  rho: 0.25\n  form: lasso');
  const r = checkRecipe(relative, FILE);
  assert.deepEqual(r.problems, []);
  assert.equal(r.recipe!.spec.weights.rho, 0.25);
  assert.equal(r.recipe!.spec.weights.form, 'lasso');
  assert.equal(r.recipe!.spec.weights.lambda, undefined);
  const unused = checkRecipe(edit(relative, '  strategy: sparse', '  strategy: lin'), FILE).problems.filter((x) => x.code === 'unused-parameter');
  assert.deepEqual(unused.map((x) => x.message.split(':')[0]), ['`rho` is unused', '`form` is unused']);
  assert.ok(hasErrors(checkRecipe(edit(VALID_RECIPE, '  lambda: 0.05', '  form: lassso'), FILE).problems));
  assert.ok(hasErrors(checkRecipe(edit(VALID_RECIPE, '  lambda: 0.05', '  rho: -1'), FILE).problems));
});

test('compose: 2 is an unsupported format, and nothing else is reported', () => {
  const text = edit(edit(VALID_RECIPE, 'compose: 1', 'compose: 2'), 'name:', 'newfield: 1\nname:');
  const r = checkRecipe(text, FILE);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].message, 'unsupported recipe format 2; this tool reads format 1');
  assert.deepEqual(r.problems[0].range, rangeOfText(text, '2'));
});

test('output outside the workspace root is a warning; inside the library an error', () => {
  const outside = checkRecipe(VALID_RECIPE, FILE, { workspaceRoot: '/ws/recipes' }).problems;
  const p = only(outside, 'output-outside-workspace');
  assert.equal(p.severity, 'warning');
  assert.deepEqual(p.range, rangeOfText(VALID_RECIPE, '../out/prostate-e'));
  assert.deepEqual(checkRecipe(VALID_RECIPE, FILE, { workspaceRoot: '/ws' }).problems, []);
  const inLibrary = edit(VALID_RECIPE, 'output: ../out/prostate-e', 'output: ../library/composed');
  assert.equal(only(checkRecipe(inLibrary, FILE).problems, 'output-in-library').severity, 'error');
});

test('evaluate.command as a shell string is a type error with an argv suggestion', () => {
  const text = edit(VALID_RECIPE, 'command: [python, score.py, "{output}"]', 'command: "python score.py {output}"');
  const p = only(checkRecipe(text, FILE).problems, 'wrong-type');
  assert.match(p.message, /argv list, never a shell string/);
  assert.equal(p.data?.suggestion, '[python, score.py, "{output}"]');
});

test('unknown evaluate placeholders are warned about with did-you-mean', () => {
  const text = edit(VALID_RECIPE, '"{output}"', '"{outptu}"');
  const p = only(checkRecipe(text, FILE).problems, 'unknown-placeholder');
  assert.match(p.message, /did you mean `\{output\}`/);
  assert.deepEqual(p.range, rangeOfText(text, '"{outptu}"'));
});

test('duplicate keys are errors on the second key, and the rest is still checked', () => {
  const text = edit(VALID_RECIPE, 'name: prostate-e', 'name: prostate-e\nname: again\nbogus: 1');
  const problems = checkRecipe(text, FILE).problems;
  const dup = only(problems, 'duplicate-key');
  assert.equal(dup.range.start.line, rangeOfText(text, 'name: again').start.line);
  only(problems, 'unknown-key');
});

test('problems are sorted by position and format as file:line:col (1-based)', () => {
  const text = edit(edit(VALID_RECIPE, 'k: 5', 'k: 0'), '  strategy: sparse', '  stratgy: sparse');
  const r = checkRecipe(text, FILE);
  const lines = r.problems.map((p) => p.range.start.line);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  const unknown = only(r.problems, 'unknown-key');
  const at = rangeOfText(text, 'stratgy').start;
  assert.equal(formatProblem(unknown, 'r.compose.yaml'), `r.compose.yaml:${at.line + 1}:${at.character + 1}: error: unknown key \`stratgy\` — did you mean \`strategy\`?`);
  const err = problemToError(unknown, 'r.compose.yaml');
  assert.equal(err.location?.line, at.line + 1);
  // the message already carries the did-you-mean: no second copy as the hint
  assert.match(err.message, /did you mean `strategy`\?/);
  assert.equal(err.hint, undefined);
});

test('keys named like Object.prototype members are plain unknown keys', () => {
  const text = edit(VALID_RECIPE, 'name: prostate-e', 'name: prostate-e\n__proto__: { base: x }\nconstructor: 1');
  const problems = checkRecipe(text, FILE).problems.filter((p) => p.code === 'unknown-key');
  assert.equal(problems.length, 2);
  for (const p of problems) assert.match(p.message, /\(allowed: compose, name/);
  assert.equal(({} as Record<string, unknown>).base, undefined);
});
