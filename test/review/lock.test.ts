/**
 * The lock file's own functions, without a library or the CLI (issue 14): stable bytes, the shape
 * check of a damaged lock, the drift between a lock and a fresh plan field by field (a candidate's
 * sha256 and the recipe's sha256 included), the drift line format, and the editor's stale-lock
 * warning. Locks here are written out by hand, so the expected values do not come from the code
 * under test. Fast: the mutation run uses it for engine/lock*.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLock, diffPaths, formatDrift, lockDrift, parseLockText, readLock, relativeToLock, stableJson, staleLockProblems, writeLock, type Drift, type LockFile } from '../../server/src/engine/lock';
import { parseRecipe } from '../../server/src/engine/recipe/parse';
import { resolveRecipePaths } from '../../server/src/engine/recipe/paths';
import { isComposerError } from '../../server/src/engine/errors';
import { readTextSafe } from '../../server/src/engine/safeRead';
import type { AdapterRecord, PlanJson } from '../../server/src/engine/types';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lock-unit-')));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const SHA_A = 'a'.repeat(60) + '0001';
const SHA_B = 'b'.repeat(64);

function sampleLock(): LockFile {
  return {
    format: 1,
    tool_version: '1.2.3',
    recipe: { path: 'r.compose.yaml', sha256: 'c'.repeat(64) },
    library: { uri: '../library', version: 7, size: 12 },
    encoder: { sha256: 'e'.repeat(64), dim: 4 },
    target: { source: 'prototype', sha256: 'f'.repeat(64), count: 1, dim: 4 },
    provider: null,
    candidates: [
      { name: 'alpha', distance: 0.5, sha256: SHA_A, path: '../adapters/alpha' },
      { name: 'beta', distance: 0.75, sha256: SHA_B, path: '../adapters/beta' },
    ],
    strategy: 'sparse',
    parameters: { k: 2, lambda: 0.1 },
    weights: { alpha: 0.25, beta: 0.75 },
    merge: { method: 'cat', rank: 16, dtype: 'auto', modules_to_save: 'refuse' },
    output: { path: '../out/r', files: [{ path: 'adapter_model.safetensors', sha256: 'd'.repeat(64) }] },
  };
}

/** A lock being damaged on purpose: any field may be given any value. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the point is to write values of the wrong type
type Damaged = Record<string, any>;

const copy = (l: LockFile): LockFile => JSON.parse(JSON.stringify(l));
const drifted = (change: (l: LockFile) => void) => {
  const fresh = copy(sampleLock());
  change(fresh);
  return lockDrift(sampleLock(), fresh);
};

test('stableJson: keys sorted at every level, arrays kept in order, 2 spaces, one final newline', () => {
  const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, 'é': 'x' };
  assert.equal(stableJson(value), '{\n  "a": {\n    "c": null,\n    "d": [\n      3,\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1,\n  "é": "x"\n}\n');
  // a key named __proto__ is kept as data, not as the prototype
  const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}');
  assert.equal(stableJson(hostile), '{\n  "__proto__": {\n    "polluted": 1\n  },\n  "a": 1\n}\n');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(stableJson([2, 1]), '[\n  2,\n  1\n]\n');
  assert.equal(stableJson('s'), '"s"\n');
});

test('relativeToLock: forward slashes relative to the lock\'s folder; URIs as they are; the folder itself is "."', () => {
  const lock = path.join(dir, 'recipes', 'r.compose.lock');
  assert.equal(relativeToLock(lock, path.join(dir, 'library')), '../library');
  assert.equal(relativeToLock(lock, path.join(dir, 'recipes', 'sub', 'x')), 'sub/x');
  assert.equal(relativeToLock(lock, path.join(dir, 'recipes')), '.');
  assert.equal(relativeToLock(lock, 's3://bucket/lib'), 's3://bucket/lib');
});

test('parseLockText accepts a lock and names what a damaged one lacks', () => {
  const good = stableJson(sampleLock());
  assert.deepEqual(parseLockText(good, 'x.lock'), sampleLock());
  const damaged = (mutate: (l: Damaged) => unknown, message: RegExp) => {
    const l = copy(sampleLock()) as unknown as Damaged;
    const replaced = mutate(l);
    const text = typeof replaced === 'string' ? replaced : JSON.stringify(replaced ?? l);
    assert.throws(() => parseLockText(text, '/w/x.lock'), (e: unknown) => {
      assert.ok(isComposerError(e), String(e));
      assert.equal(e.code, 'lock');
      assert.equal(e.location?.file, '/w/x.lock');
      assert.match(e.message, /^cannot read the lock file: /);
      assert.match(e.message, message);
      assert.match(e.hint ?? '', /compose again/);
      return true;
    }, String(message));
  };
  damaged(() => '{ not json', /cannot read the lock file/);
  damaged(() => '[1]', /not a JSON object/);
  damaged(() => 'null', /not a JSON object/);
  damaged(() => '"text"', /not a JSON object/);
  damaged((l) => { l.format = 2; }, /unsupported lock format 2$/);
  damaged((l) => { delete l.format; }, /unsupported lock format null/);
  damaged((l) => { delete l.tool_version; }, /"tool_version" is missing/);
  damaged((l) => { l.tool_version = 1; }, /"tool_version" must be a string$/);
  damaged((l) => { l.provider = 3; }, /"provider" must be a string or null$/);
  damaged((l) => { l.weights = []; }, /"weights" must be an object$/);
  damaged((l) => { l.parameters = null; }, /"parameters" must be an object$/);
  damaged((l) => { l.recipe = 'r'; }, /"recipe" must be an object$/);
  damaged((l) => { delete l.recipe.sha256; }, /"recipe\.sha256" is missing/);
  damaged((l) => { l.library.version = '7'; }, /"library\.version" must be a number$/);
  damaged((l) => { l.encoder.sha256 = 5; }, /"encoder\.sha256" must be a string or null$/);
  damaged((l) => { l.weights.alpha = '0.5'; }, /the weight of "alpha" must be a number/);
  damaged((l) => { l.candidates = {}; }, /"candidates" must be a list/);
  damaged((l) => { l.candidates[1] = 'beta'; }, /"candidates\[1\]" must be an object/);
  damaged((l) => { l.candidates[1].sha256 = null; }, /"candidates\[1\]\.sha256" must be a string/);
  damaged((l) => { l.candidates[0].distance = '0'; }, /"candidates\[0\]\.distance" must be a number/);
  damaged((l) => { l.output.files = [{ path: 'a' }]; }, /"output\.files\[0\]\.sha256" must be a string/);
  damaged((l) => { l.output.files = 'a'; }, /"output\.files" must be a list/);
  damaged((l) => { let deep: unknown = 1; for (let i = 0; i < 40; i++) deep = [deep]; l.parameters.where = deep; }, /nested deeper than 32 levels/);
  // null where null is allowed; just under the nesting limit
  const ok = copy(sampleLock()) as unknown as Damaged;
  ok.encoder.sha256 = null;
  // parameters.where is at depth 2: 30 nested lists reach depth 31 (accepted), 31 reach depth 32 (refused)
  const nested = (n: number) => { let v: unknown = 1; for (let i = 0; i < n; i++) v = [v]; return v; };
  ok.parameters.where = nested(30);
  assert.deepEqual(parseLockText(JSON.stringify(ok), 'x.lock').encoder.sha256, null);
  damaged((l) => { l.parameters.where = nested(31); }, /nested deeper than 32 levels/);
  damaged((l) => { delete l.target.count; }, /"target\.count" is missing/);
  damaged((l) => { l.merge.rank = '16'; }, /"merge\.rank" must be a number/);
  damaged((l) => { delete l.output.path; }, /"output\.path" is missing/);
  damaged((l) => { l.format = 'x'.repeat(100); }, new RegExp(`unsupported lock format "${'x'.repeat(39)}$`));
});

test('writeLock / readLock: the stable bytes, atomically; no lock is undefined; a damaged one a located error', () => {
  const file = path.join(dir, 'w.compose.lock');
  assert.equal(readLock(file), undefined);
  writeLock(file, sampleLock());
  assert.equal(fs.readFileSync(file, 'utf8'), stableJson(sampleLock()));
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('w.compose.lock')), ['w.compose.lock'], 'no temporary file left');
  assert.deepEqual(readLock(file), sampleLock());
  fs.writeFileSync(file, '{"format": 1}');
  assert.throws(() => readLock(file), (e: unknown) => isComposerError(e) && e.code === 'lock' && e.location?.file === file && /"tool_version" is missing/.test(e.message));
  // a lock that is not a regular file: a lock error naming it, with a hint
  const folderLock = path.join(dir, 'folder.compose.lock');
  fs.mkdirSync(folderLock);
  let readHint: string | undefined;
  try {
    readTextSafe(folderLock, 'lock', 'the lock file');
  } catch (e) {
    readHint = isComposerError(e) ? e.hint : undefined;
  }
  assert.ok(readHint, 'the read error has a hint of its own');
  assert.throws(() => readLock(folderLock), (e: unknown) => isComposerError(e) && e.code === 'lock' && e.location?.file === folderLock && /the lock file/.test(e.message) && e.hint === readHint, 'the read error\'s hint is kept');
  // a folder where the lock should go: a clear failure (before anything is written: compose prepares
  // the lock before it publishes the output), and no temporary file left behind
  const blocked = path.join(dir, 'blocked.compose.lock');
  fs.mkdirSync(blocked);
  assert.throws(() => writeLock(blocked, sampleLock()), /a folder is in its place; nothing was replaced/);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('blocked')), ['blocked.compose.lock']);
});

test('diffPaths: every differing leaf by JSON path, absent sides undefined, numbers within a relative tolerance', () => {
  const out: Drift[] = [];
  diffPaths('x', { a: 1, b: [1, 2], c: { d: 's' }, e: 'same' }, { a: 2, b: [1, 2, 3], c: { d: 't', f: true }, e: 'same' }, out);
  assert.deepEqual(out, [
    { what: 'x.a', locked: 1, now: 2 },
    { what: 'x.b[2]', locked: undefined, now: 3 },
    { what: 'x.c.d', locked: 's', now: 't' },
    { what: 'x.c.f', locked: undefined, now: true },
  ]);
  assert.deepEqual(diffPaths('', { k: 1 }, { k: 1 }, []), []);
  assert.deepEqual(diffPaths('', { k: 1 }, { k: 2 }, []), [{ what: 'k', locked: 1, now: 2 }], 'no leading dot at the top');
  assert.deepEqual(diffPaths('n', 100, 100 + 1e-6, [], 1e-9), [{ what: 'n', locked: 100, now: 100 + 1e-6 }]);
  assert.deepEqual(diffPaths('n', 100, 100 + 1e-8, [], 1e-9), [], 'within 1e-9 of |a| (|a| > 1)');
  assert.deepEqual(diffPaths('n', 0, 5e-10, [], 1e-9), [], 'within 1e-9 absolute below 1');
  assert.deepEqual(diffPaths('n', 0, 2e-9, [], 1e-9), [{ what: 'n', locked: 0, now: 2e-9 }]);
  assert.deepEqual(diffPaths('n', 0, 1e-9, [], 1e-9), [], 'exactly at the tolerance is equal');
  assert.deepEqual(diffPaths('n', 1, 1 + 1e-12, []), [{ what: 'n', locked: 1, now: 1 + 1e-12 }], 'no tolerance by default');
  // a list against an object, a number against a string: one drift at that path
  assert.deepEqual(diffPaths('p', [1], { 0: 1 }, []), [{ what: 'p', locked: [1], now: { 0: 1 } }]);
  assert.deepEqual(diffPaths('p', 1, '1', []), [{ what: 'p', locked: 1, now: '1' }]);
  assert.deepEqual(diffPaths('p', null, {}, []), [{ what: 'p', locked: null, now: {} }]);
  // key order does not matter
  assert.deepEqual(diffPaths('p', { a: 1, b: 2 }, { b: 2, a: 1 }, []), []);
});

test('lockDrift names each field that decides the composite, a candidate\'s sha256 and the recipe\'s included', () => {
  assert.deepEqual(lockDrift(sampleLock(), sampleLock()), []);
  const whats = (change: (l: LockFile) => void) => drifted(change).map((d) => d.what);
  // the same candidate name with other bytes
  assert.deepEqual(drifted((l) => { l.candidates[1].sha256 = 'b'.repeat(63) + 'c'; }), [{ what: 'candidates[1].sha256', locked: SHA_B, now: 'b'.repeat(63) + 'c' }]);
  assert.deepEqual(drifted((l) => { l.recipe.sha256 = '0'.repeat(64); }), [{ what: 'recipe.sha256', locked: 'c'.repeat(64), now: '0'.repeat(64) }]);
  assert.deepEqual(whats((l) => { l.candidates[0].name = 'gamma'; }), ['candidates[0].name']);
  assert.deepEqual(whats((l) => { l.candidates.push({ name: 'gamma', distance: 1, sha256: SHA_A, path: 'g' }); }), ['candidates[2]']);
  assert.deepEqual(whats((l) => { l.candidates.reverse(); }), ['candidates[0].name', 'candidates[0].sha256', 'candidates[1].name', 'candidates[1].sha256']);
  assert.deepEqual(whats((l) => { l.encoder.sha256 = null; }), ['encoder.sha256']);
  assert.deepEqual(whats((l) => { l.encoder.dim = 5; }), ['encoder.dim']);
  assert.deepEqual(whats((l) => { l.target.sha256 = '1'.repeat(64); l.target.count = 3; }), ['target.count', 'target.sha256']);
  assert.deepEqual(whats((l) => { l.strategy = 'convex'; }), ['strategy']);
  assert.deepEqual(whats((l) => { l.parameters.k = 3; }), ['parameters.k']);
  assert.deepEqual(whats((l) => { l.parameters.where = 'rank > 4'; }), ['parameters.where']);
  assert.deepEqual(whats((l) => { l.merge.method = 'svd'; l.merge.rank = 4; }), ['merge.method', 'merge.rank']);
  assert.deepEqual(whats((l) => { l.merge.seed = 3; }), ['merge.seed']);
  // weights: beyond 1e-9 relative is drift, an absent weight is 0
  assert.deepEqual(drifted((l) => { l.weights.beta = 0.7500001; }), [{ what: 'weights.beta', locked: 0.75, now: 0.7500001 }]);
  assert.deepEqual(drifted((l) => { l.weights.beta = 0.75 + 1e-12; }), []);
  assert.deepEqual(drifted((l) => { l.weights.gamma = 0; }), [], 'an added zero weight is no change');
  assert.deepEqual(drifted((l) => { l.weights.gamma = 1e-9; }), [], 'exactly 1e-9 from 0 is no change');
  // the tolerance is relative above 1: 2e-9 on a weight of 4 is within 1e-9·4
  const heavy = sampleLock();
  heavy.weights = { alpha: 4, beta: -3 };
  assert.deepEqual(lockDrift(heavy, { ...copy(heavy), weights: { alpha: 4 + 2e-9, beta: -3 } }), []);
  assert.deepEqual(lockDrift(heavy, { ...copy(heavy), weights: { alpha: 4 + 8e-9, beta: -3 } }).map((d) => d.what), ['weights.alpha']);
  assert.deepEqual(drifted((l) => { l.weights.gamma = 0.001; }), [{ what: 'weights.gamma', locked: undefined, now: 0.001 }]);
  assert.deepEqual(drifted((l) => { delete (l.weights).alpha; }), [{ what: 'weights.alpha', locked: 0.25, now: undefined }]);
  assert.deepEqual(drifted((l) => { l.weights.alpha = -0.25; }), [{ what: 'weights.alpha', locked: 0.25, now: -0.25 }]);
  assert.deepEqual(drifted((l) => { l.weights.alpha = 2e-9; l.weights.beta = 0.75; }), [{ what: 'weights.alpha', locked: 0.25, now: 2e-9 }]);
  // parameters within 1e-9 (a λ recomputed) are no drift; beyond, they are
  assert.deepEqual(whats((l) => { l.parameters.lambda = 0.1 + 1e-12; }), []);
  assert.deepEqual(whats((l) => { l.parameters.lambda = 0.1 + 1e-6; }), ['parameters.lambda']);
  // not decisions: the tool version, the library's version and size, the provider, distances, paths, output files
  assert.deepEqual(whats((l) => {
    l.tool_version = '9.9.9';
    l.library = { uri: 'elsewhere', version: 99, size: 100 };
    l.provider = 'cuda';
    l.candidates[0].distance = 0.6;
    l.candidates[0].path = 'moved';
    l.recipe.path = 'moved.compose.yaml';
    l.output = { path: 'o', files: [] };
  }), []);
  // a name that is an Object.prototype member is an ordinary adapter name
  const proto = sampleLock();
  proto.weights = JSON.parse('{"__proto__": 0.5, "constructor": 0.5}');
  const protoFresh = copy(proto);
  assert.deepEqual(lockDrift(proto, protoFresh), []);
  Object.defineProperty(protoFresh.weights, 'constructor', { value: 0.4, enumerable: true });
  assert.deepEqual(lockDrift(proto, protoFresh).map((d) => d.what), ['weights.constructor']);
  assert.deepEqual(lockDrift(proto, { ...protoFresh, weights: {} }).map((d) => d.what).sort(), ['weights.__proto__', 'weights.constructor']);
});

test('formatDrift: the path, both values cut one past where they differ, absent sides, long values shortened', () => {
  const a = '13823d' + '0'.repeat(58);
  const b = '13823e' + '0'.repeat(58);
  assert.equal(formatDrift({ what: 'candidates[1].sha256', locked: a, now: b }), 'candidates[1].sha256: 13823d… → 13823e…');
  const c = '1382' + '5'.repeat(60);
  const d = '1382' + '5'.repeat(20) + '6' + '5'.repeat(39);
  assert.equal(formatDrift({ what: 'x', locked: c, now: d }), `x: ${c.slice(0, 25)}… → ${d.slice(0, 25)}…`);
  assert.equal(formatDrift({ what: 'x', locked: 'ab', now: 'abc' }), 'x: ab → abc', 'short strings whole');
  assert.equal(formatDrift({ what: 'x', locked: 'abcdefgh', now: 'abcdefghi' }), 'x: abcdefgh → abcdefghi', 'cut + 2 or shorter: whole');
  assert.equal(formatDrift({ what: 'x', locked: 'abcdefgh', now: 'abcdeXghi' }), 'x: abcdefgh → abcdeX…', 'exactly cut + 2 (8 for a cut at 6) stays whole, one more is cut');
  assert.equal(formatDrift({ what: 'merge.method', locked: 'cat', now: 'svd' }), 'merge.method: cat → svd');
  assert.equal(formatDrift({ what: 'merge.rank', locked: 16, now: 4 }), 'merge.rank: 16 → 4');
  assert.equal(formatDrift({ what: 'weights.g', locked: undefined, now: 0.5 }), 'weights.g: (absent) → 0.5');
  assert.equal(formatDrift({ what: 'weights.g', locked: 0.5, now: undefined }), 'weights.g: 0.5 → (absent)');
  assert.equal(formatDrift({ what: 'p', locked: null, now: true }), 'p: null → true');
  const long = { list: Array.from({ length: 30 }, (_, i) => i) };
  const json = JSON.stringify(long);
  assert.equal(formatDrift({ what: 'p', locked: long, now: 1 }), `p: ${json.slice(0, 57)}… → 1`);
  assert.equal(formatDrift({ what: 'p', locked: ['x'.repeat(57)], now: 1 }), `p: ${JSON.stringify(['x'.repeat(57)]).slice(0, 57)}… → 1`, '61 characters are cut');
  const sixty = 'x'.repeat(56);
  assert.equal(formatDrift({ what: 'p', locked: [sixty], now: 1 }), `p: ${JSON.stringify([sixty])} → 1`, '60 characters stay whole');
  // a number against a string, either way round: no cut
  assert.equal(formatDrift({ what: 'p', locked: 1, now: 'abcdefghijklmnop' }), 'p: 1 → abcdefghijklmnop');
  assert.equal(formatDrift({ what: 'p', locked: 'abcdefghijklmnop', now: 1 }), 'p: abcdefghijklmnop → 1');
  // different from the first character, the longer one first: cut at 6
  assert.equal(formatDrift({ what: 'p', locked: `x${'a'.repeat(20)}`, now: `y${'a'.repeat(10)}` }), 'p: xaaaaa… → yaaaaa…');
});

/** A recipe, its paths and a plan written out here (the fields buildLock reads), for buildLock and the stale check. */
function planFixture(overrides: { lambda?: number; candidates?: [string, number][]; rho?: number } = {}) {
  const file = path.join(dir, 'recipes', 'r.compose.yaml');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = 'compose: 1\nname: r\nbase: b\nlibrary: ../library\ntarget:\n  prototype: ../t.npy\nretrieve: { k: 2, exclude: [x], where: "rank > 1" }\nweights:\n  strategy: sparse\n  lambda: 0.1\nmerge: { method: svd, rank: 8 }\noutput: ../out/r\n';
  fs.writeFileSync(file, text);
  const { recipe } = parseRecipe(text, file);
  assert.ok(recipe);
  const paths = resolveRecipePaths(recipe, file);
  const names = overrides.candidates ?? [['alpha', 0.5], ['beta', 0.75]];
  const weights = Object.fromEntries(names.map(([n], i) => [n, i === 0 ? 0.25 : 0.75]));
  const plan = {
    strategy: 'sparse',
    strategies: { sparse: { weights, lambda: overrides.lambda ?? 0.1, ...(overrides.rho !== undefined ? { rho: overrides.rho } : {}) } },
    library: { version: 7, size: 12, encoder: { sha256: 'e'.repeat(64) } },
    target: { source: 'prototype', sha256: 'f'.repeat(64), count: 1, dim: 4 },
    provider: 'cpu',
    candidates: names.map(([name, distance]) => ({ name, distance })),
  } as unknown as PlanJson;
  const candidates = [
    { name: 'alpha', sha256: SHA_A, path: path.join(dir, 'adapters', 'alpha') },
    { name: 'beta', sha256: SHA_B, path: path.join(dir, 'adapters', 'beta') },
  ] as AdapterRecord[];
  return { recipe, paths, plan, candidates, text, file };
}

test('buildLock records the recipe\'s bytes, the decisions and the candidates\' bytes, with paths relative to the lock', () => {
  const { recipe, paths, plan, candidates, text } = planFixture();
  const lock = buildLock({ toolVersion: '1.2.3', recipe, paths, plan, candidates, outputFiles: [{ path: 'f', sha256: 'd'.repeat(64) }] });
  assert.deepEqual(lock, {
    format: 1,
    tool_version: '1.2.3',
    recipe: { path: 'r.compose.yaml', sha256: createHash('sha256').update(text).digest('hex') },
    library: { uri: '../library', version: 7, size: 12 },
    encoder: { sha256: 'e'.repeat(64), dim: 4 },
    target: { source: 'prototype', sha256: 'f'.repeat(64), count: 1, dim: 4 },
    provider: 'cpu',
    candidates: [
      { name: 'alpha', distance: 0.5, sha256: SHA_A, path: '../adapters/alpha' },
      { name: 'beta', distance: 0.75, sha256: SHA_B, path: '../adapters/beta' },
    ],
    strategy: 'sparse',
    parameters: { k: 2, where: 'rank > 1', exclude: ['x'], lambda: 0.1 },
    weights: { alpha: 0.25, beta: 0.75 },
    merge: { method: 'svd', rank: 8, dtype: 'auto', modules_to_save: 'refuse' },
    output: { path: '../out/r', files: [{ path: 'f', sha256: 'd'.repeat(64) }] },
  });
  // the bytes compose merged win over the library's record
  const merged = buildLock({ toolVersion: '1', recipe, paths, plan, candidates, outputFiles: [], mergedSha256: { beta: '9'.repeat(64) } });
  assert.deepEqual(merged.candidates.map((c) => c.sha256), [SHA_A, '9'.repeat(64)]);
  const withRho = buildLock({ toolVersion: '1', recipe, paths, plan: planFixture({ rho: 0.5 }).plan, candidates, outputFiles: [] });
  assert.equal(withRho.parameters.rho, 0.5);
  assert.throws(() => buildLock({ toolVersion: '1', recipe, paths, plan: { ...plan, strategy: 'convex' }, candidates, outputFiles: [] }),
    (e: unknown) => isComposerError(e) && e.code === 'internal' && /no result for strategy convex/.test(e.message));
  // a candidate the library rows do not hold: empty sha256 and path (never invented)
  const stranger = buildLock({ toolVersion: '1', recipe, paths, plan: planFixture({ candidates: [['alpha', 0.5], ['gamma', 0.9]] }).plan, candidates, outputFiles: [] });
  assert.deepEqual(stranger.candidates[1], { name: 'gamma', distance: 0.9, sha256: '', path: relativeToLock(paths.lock, '') });
});

test('buildLock records only the parameters and merge options that apply', () => {
  const file = path.join(dir, 'recipes', 'plain.compose.yaml');
  const text = 'compose: 1\nname: plain\nbase: b\nlibrary: ../library\ntarget:\n  prototype: ../t.npy\nretrieve:\n  adapters: [alpha, beta]\nweights:\n  strategy: avg\nmerge: { method: dare_ties, density: 0.5, seed: 7, normalize: false }\noutput: ../out/plain\n';
  const { recipe } = parseRecipe(text, file);
  assert.ok(recipe);
  const paths = resolveRecipePaths(recipe, file);
  const plan = {
    strategy: 'avg',
    strategies: { avg: { weights: { alpha: 0.5, beta: 0.5 } }, sim: { weights: {}, temperature: 2 }, sparse: { weights: {}, form: 'penalized', lambda: 1 } },
    target: { source: 'prototype', count: 1, dim: 4 },
    candidates: [{ name: 'alpha', distance: 0.5 }, { name: 'beta', distance: 0.75 }],
  } as unknown as PlanJson;
  const lock = buildLock({ toolVersion: '1', recipe, paths, plan, candidates: [], outputFiles: [] });
  assert.deepEqual(lock.parameters, { k: recipe.spec.retrieve.k, adapters: ['alpha', 'beta'] }, 'no where, exclude, lambda, rho, form or temperature');
  assert.deepEqual(lock.merge, { method: 'dare_ties', rank: recipe.spec.merge.rank, dtype: 'auto', modules_to_save: 'refuse', density: 0.5, seed: 7, normalize: false });
  // no library in the plan (a features target planned without one): zeros and null, not a crash
  assert.deepEqual(lock.library, { uri: '../library', version: 0, size: 0 });
  assert.deepEqual(lock.encoder, { sha256: null, dim: 4 });
  assert.equal(lock.target.sha256, '');
  assert.equal(lock.provider, null);
  // the selected strategy's form and temperature are recorded when it has them
  const sim = buildLock({ toolVersion: '1', recipe, paths, plan: { ...plan, strategy: 'sim' }, candidates: [], outputFiles: [] });
  assert.equal(sim.parameters.temperature, 2);
  const sparse = buildLock({ toolVersion: '1', recipe, paths, plan: { ...plan, strategy: 'sparse' }, candidates: [], outputFiles: [] });
  assert.equal(sparse.parameters.form, 'penalized');
  assert.equal(sparse.parameters.lambda, 1);
});

test('staleLockProblems: nothing for a matching lock; a warning naming what changed; a damaged lock is a warning too', () => {
  const { recipe, paths, plan, candidates } = planFixture();
  assert.deepEqual(staleLockProblems(recipe, paths, plan, candidates), [], 'no lock yet');
  writeLock(paths.lock, buildLock({ toolVersion: '1.2.3', recipe, paths, plan, candidates, outputFiles: [] }));
  assert.deepEqual(staleLockProblems(recipe, paths, plan, candidates), []);
  const changed = planFixture({ lambda: 0.2, candidates: [['alpha', 0.5], ['gamma', 0.9]] });
  const problems = staleLockProblems(changed.recipe, changed.paths, changed.plan, candidates);
  assert.deepEqual(problems, [{
    severity: 'warning',
    code: 'stale-lock',
    message: 'the lock file r.compose.lock is stale (candidates, parameters, weights changed since the last compose); compose again to update it',
    path: ['compose'],
  }]);
  fs.writeFileSync(paths.lock, '{');
  const damaged = staleLockProblems(recipe, paths, plan, candidates);
  assert.equal(damaged.length, 1);
  assert.equal(damaged[0].code, 'lock-unreadable');
  assert.equal(damaged[0].severity, 'warning');
  assert.deepEqual(damaged[0].path, ['compose']);
  assert.match(damaged[0].message, /cannot read the lock file/);
  fs.rmSync(paths.lock);
});
