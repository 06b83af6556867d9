/**
 * Hostile inputs, sixth round (docs/reliability.md, "sixth round"): what the earlier rounds did not
 * attack — the Markdown `plan` and `eval` write for a pull-request comment, recipes whose size is
 * allowed but whose shape made the YAML reading quadratic, and the other attacks listed there. Real CLI
 * and language server on a demo workspace (real LanceDB, real safetensors); each test failed before
 * its fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import fsModule from 'node:fs';
import * as path from 'node:path';
import { cli, cliAsync, demoRound } from './workspace';
import { ServerClient, type Diagnostic } from '../lsp/lspClient';
import { checkRecipe } from '../../server/src/engine/recipe/check';

const { workspaceCopy } = demoRound('sixth');

/**
 * A name as a pull request could commit it in a library row (`library add` takes it: it holds no
 * control character): an HTML comment that would hide the rest of the comment, an image that loads a
 * tracking pixel, a link, a cell break and an emphasis.
 */
const HOSTILE_NAME = 'grammar-02 <!-- | ![p](https://evil.example/p.png) [ok](https://evil.example) <img src=x> **x**';

/** The line with its backslash escapes removed: what is left is Markdown syntax. */
const unescaped = (line: string) => line.replace(/\\./g, '');

/** No raw HTML, image or inline link anywhere, and every table row has its header's cell count. */
function assertInert(md: string, what: string): void {
  let cells: number | undefined;
  for (const line of md.split('\n')) {
    const bare = unescaped(line);
    assert.doesNotMatch(bare, /[<>]/, `${what}: raw HTML in ${JSON.stringify(line)}`);
    assert.doesNotMatch(bare, /\]\(/, `${what}: a link or an image in ${JSON.stringify(line)}`);
    if (!line.startsWith('|')) {
      cells = undefined;
      continue;
    }
    const n = bare.split('|').length;
    cells ??= n;
    assert.equal(n, cells, `${what}: ${JSON.stringify(line)} has another number of cells than its header`);
  }
}

test('a library row named with HTML, an image, a link and a `|`: plan and eval --format markdown (the pull-request comment) keep it inert text', () => {
  const ws = workspaceCopy();
  fs.cpSync(path.join(ws, 'adapters', 'grammar-02'), path.join(ws, 'adapters', 'pr-row'), { recursive: true });
  // the target's own samples: the row is the nearest candidate, so the plan weights it
  const add = cli(['library', 'add', 'library', 'adapters/pr-row', '--name', HOSTILE_NAME, '--samples', 'data/grammar-01/*.npy'], { cwd: ws });
  assert.equal(add.status, 0, add.stderr);

  const plan = cli(['plan', 'recipes/grammar-01.compose.yaml', '--format', 'markdown'], { cwd: ws });
  assert.equal(plan.status, 0, plan.stderr);
  assert.ok(plan.stdout.includes('grammar-02 \\<!--'), plan.stdout);
  assertInert(plan.stdout, 'plan --format markdown');

  const evaluation = cli(['eval', 'library', '--leave-one-out', '--distances', '--format', 'markdown'], { cwd: ws });
  assert.equal(evaluation.status, 0, evaluation.stderr);
  assert.ok(evaluation.stdout.includes('grammar-02 \\<!--'), evaluation.stdout);
  assertInert(evaluation.stdout, 'eval --leave-one-out --format markdown');
});

/** The first diagnostics the server publishes for `uri` at `version`, or an error after `ms`. */
async function diagnosticsWithin(client: ServerClient, uri: string, version: number, since: number, ms: number): Promise<Diagnostic[]> {
  const published = await client.diagnosticsFor(uri, version, ms, since);
  return published.diagnostics;
}

test('recipes of 99,000 keys, 150,000 repeated keys or 20,000 aliases (1 MB or less): the language server answers within a minute, with at most 1,001 diagnostics', async () => {
  const ws = workspaceCopy();
  const client = new ServerClient({ workspace: ws, bundled: true });
  try {
    await client.initialize();
    const file = path.join(ws, 'recipes', 'many.compose.yaml');
    const uri = client.open(file, fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8'));
    const documents: [string, string, RegExp][] = [
      // every key unknown: the yaml package compared each key with all before it, and each problem's
      // location searched the mapping again (quadratic: no diagnostics after 4 minutes)
      ['99,000 keys', `compose: 1\n${Array.from({ length: 99_000 }, (_, i) => `k${i}: 1`).join('\n')}\n`, /^unknown key `k0`/],
      ['150,000 repeated keys', `compose: 1\n${'a: 1\n'.repeat(150_000)}`, /duplicate key/],
      // the yaml package resolves each alias by scanning every anchor and alias before it
      ['20,000 aliases', `compose: 1\nx:\n${Array.from({ length: 20_000 }, (_, i) => `  k${i}: &n${i} v${i}`).join('\n')}\ny:\n${Array.from({ length: 20_000 }, (_, i) => `  - *n${i}`).join('\n')}\n`, /more than 1000 aliases/],
    ];
    for (const [what, text, expected] of documents) {
      assert.ok(Buffer.byteLength(text) <= 1024 * 1024, `${what}: ${Buffer.byteLength(text)} bytes, over the recipe size cap`);
      const since = client.notifications.length;
      const t0 = Date.now();
      const version = client.change(uri, text);
      const diagnostics = await diagnosticsWithin(client, uri, version, since, 60_000);
      const lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
      assert.ok(Array.isArray(lenses), `${what}: code lenses answered`);
      assert.ok(diagnostics.length <= 1001, `${what}: ${diagnostics.length} diagnostics`);
      assert.ok(diagnostics.some((d) => expected.test(d.message)), `${what}: ${JSON.stringify(diagnostics.slice(0, 3))}`);
      // figures for docs/reliability.md (printed, not asserted)
      console.log(`# ${what} (${(text.length / 1e6).toFixed(2)} MB): diagnostics and code lenses after ${Date.now() - t0} ms`);
    }
    assert.equal(client.child.exitCode, null, 'the server is alive');
  } finally {
    await client.stop();
  }
});

test('repeated keys are still found once the yaml package no longer looks for them: nested, in flow mappings, at the second key', () => {
  const text = 'compose: 1\nweights:\n  strategy: avg\n  strategy: sparse\nmerge: {method: cat, method: svd}\nname: a\n';
  const dups = checkRecipe(text, '/w/r.compose.yaml').problems.filter((p) => p.code === 'duplicate-key');
  const at = (needle: string, from = 0) => {
    const offset = text.indexOf(needle, from);
    const line = text.slice(0, offset).split('\n').length - 1;
    return { line, character: offset - text.lastIndexOf('\n', offset - 1) - 1 };
  };
  assert.deepEqual(
    dups.map((p) => p.range.start),
    [at('strategy: sparse'), at('method: svd')],
  );
});

test('a recipe may hold 1,000 aliases; the 1,001st is refused where it stands', () => {
  // one anchor per alias (yaml's own cap allows 100 uses of one anchor)
  const aliases = (n: number) => `compose: 1\nx:\n${Array.from({ length: n }, (_, i) => `  - &a${i} v`).join('\n')}\ny:\n${Array.from({ length: n }, (_, i) => `  - *a${i}`).join('\n')}\n`;
  assert.ok(!checkRecipe(aliases(1000), '/w/r.compose.yaml').problems.some((p) => p.code === 'alias-limit'));
  const refused = checkRecipe(aliases(1001), '/w/r.compose.yaml').problems.filter((p) => p.code === 'alias-limit');
  assert.equal(refused.length, 1);
  // lines: compose, x, 1,001 anchors, y, then the aliases: the 1,001st is the last
  assert.equal(refused[0].range.start.line, 2 + 1001 + 1 + 1000);
});

/** Whether the lock's record of the output (every file and its sha256) is what the output folder holds. */
function lockMatchesOutput(ws: string): boolean {
  const lock = JSON.parse(fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.lock'), 'utf8')) as { output: { files: { path: string; sha256: string }[] } };
  const dir = path.join(ws, 'out', 'grammar-01');
  if (!fs.existsSync(dir)) return false;
  const held = fs.readdirSync(dir).sort();
  return (
    JSON.stringify(held) === JSON.stringify(lock.output.files.map((f) => f.path).sort()) &&
    lock.output.files.every((f) => createHash('sha256').update(fs.readFileSync(path.join(dir, f.path))).digest('hex') === f.sha256)
  );
}

test('SIGTERM, SIGINT and a double Ctrl-C at points of compose: it cancels or finishes, the lock always describes the output, nothing is left behind', async () => {
  const ws = workspaceCopy();
  const first = cli(['compose', 'recipes/grammar-01.compose.yaml', '--strategy', 'avg'], { cwd: ws });
  assert.equal(first.status, 0, first.stderr);
  const leftovers = () => [
    ...fs.readdirSync(path.join(ws, 'out')).filter((e) => e !== 'grammar-01'),
    ...fs.readdirSync(path.join(ws, 'recipes')).filter((e) => !e.endsWith('.compose.yaml') && e !== 'grammar-01.compose.lock'),
  ];
  const outcomes: string[] = [];
  // after the first `merging modules` progress line (on a pipe: the first quarter; the demo's merge
  // takes ~100 ms), and after the last one (`95%`: the publish and the lock write follow within ~15 ms;
  // SIGTERM there, before the fix, killed the process between the two)
  const cases: [NodeJS.Signals, string, number, boolean][] = [];
  for (const delay of [0, 10, 20]) cases.push(['SIGTERM', 'merging modules', delay, false]);
  for (let delay = 0; delay <= 16; delay += 2) cases.push(['SIGTERM', '95%', delay, false]);
  for (const delay of [0, 10, 20, 40]) cases.push(['SIGINT', 'merging modules', delay, true], ['SIGHUP', 'merging modules', delay, false]);
  for (const [i, [signal, anchor, delay, twice]] of cases.entries()) {
    const run = cliAsync(['compose', 'recipes/grammar-01.compose.yaml', '--strategy', i % 2 ? 'avg' : 'sparse'], { cwd: ws });
    let fired = false;
    let seen = '';
    run.child.stderr!.on('data', (d: Buffer) => {
      seen += String(d);
      if (fired || !seen.includes(anchor)) return;
      fired = true;
      setTimeout(() => {
        run.child.kill(signal);
        if (twice) setTimeout(() => run.child.kill(signal), 3);
      }, delay);
    });
    const result = await run.done;
    const what = `${signal}${twice ? ' twice' : ''} ${delay} ms after progress \`${anchor}\``;
    assert.equal(result.signal, null, `${what}: the process was killed by the signal (${result.stderr})`);
    assert.ok(result.status === 0 || (result.status === 1 && /cancelled/.test(result.stderr)), `${what}: exit ${result.status}: ${result.stderr}`);
    assert.ok(lockMatchesOutput(ws), `${what}: the lock does not describe the output (${result.stderr})`);
    assert.deepEqual(leftovers(), [], `${what}: left behind`);
    outcomes.push(result.status === 0 ? 'finished' : 'cancelled');
  }
  console.log(`# signals during compose: ${outcomes.filter((o) => o === 'cancelled').length} cancelled, ${outcomes.filter((o) => o === 'finished').length} finished of ${outcomes.length}`);
  assert.ok(outcomes.includes('cancelled'), 'some signals landed before the end');
});

test('a recipe whose lock name leaves no room for the temporary file beside it (a 240-character name): compose writes output and lock, or neither', () => {
  const ws = workspaceCopy();
  const base = 'g'.repeat(240); // <base>.compose.lock is 253 bytes; <lock>.tmp-<pid>-<ms> is over the 255 a name may have
  const recipe = path.join(ws, 'recipes', `${base}.compose.yaml`);
  fs.writeFileSync(recipe, fs.readFileSync(path.join(ws, 'recipes', 'grammar-01.compose.yaml'), 'utf8').replace('output: ../out/grammar-01', 'output: ../out/long'));
  const composed = cli(['compose', recipe], { cwd: ws });
  // before: the composite was published, then `internal error: ENAMETOOLONG` writing the lock — an output
  // without its lock, on every run
  assert.doesNotMatch(composed.stderr, /internal error/);
  assert.equal(composed.status, 0, composed.stderr);
  const lock = JSON.parse(fs.readFileSync(path.join(ws, 'recipes', `${base}.compose.lock`), 'utf8')) as { output: { files: { path: string; sha256: string }[] } };
  for (const f of lock.output.files) {
    assert.equal(createHash('sha256').update(fs.readFileSync(path.join(ws, 'out', 'long', f.path))).digest('hex'), f.sha256, f.path);
  }
  assert.deepEqual(fs.readdirSync(path.join(ws, 'recipes')).filter((e) => e.includes('.tmp-')), [], 'no temporary lock left');
});

test('the lock cannot be written (its folder is a file system that refuses the write): nothing is replaced, and the message says so truthfully', async (t) => {
  // the lock's temporary file is written before the output is published; a refusal there discards
  // the staging folder. Simulated at the one call that creates it (the real refusals — EROFS, ENOSPC,
  // EACCES — were reproduced with a read-only bind mount: the output was replaced, the message said
  // `nothing was replaced`, and the previous lock stayed beside the new composite)
  const { compose } = await import('../../server/src/engine/compose');
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  assert.equal(cli(['compose', recipe, '--strategy', 'avg'], { cwd: ws }).status, 0);
  const lockFile = path.join(ws, 'recipes', 'grammar-01.compose.lock');
  const before = { output: snapshotOf(path.join(ws, 'out', 'grammar-01')), lock: fs.readFileSync(lockFile) };
  const open = fs.openSync;
  // the module object itself (the engine's `import * as fs` reads through to it)
  t.mock.method(fsModule, 'openSync', (file: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
    if (String(file).startsWith(`${lockFile}.tmp-`)) throw Object.assign(new Error(`EROFS: read-only file system, open '${String(file)}'`), { code: 'EROFS' });
    return open(file, flags, mode);
  });
  await assert.rejects(compose(recipe, { strategy: 'sparse', workspaceRoot: ws }), (e: Error) => {
    assert.match(e.message, /cannot write .*grammar-01\.compose\.lock: the file system is read-only \(EROFS\); nothing was replaced/);
    return true;
  });
  t.mock.restoreAll();
  assert.deepEqual(snapshotOf(path.join(ws, 'out', 'grammar-01')), before.output, 'the previous composite is untouched');
  assert.ok(fs.readFileSync(lockFile).equals(before.lock), 'the previous lock is untouched');
  assert.deepEqual(fs.readdirSync(path.join(ws, 'out')), ['grammar-01'], 'no staging folder left');
  assert.deepEqual(fs.readdirSync(path.join(ws, 'recipes')).filter((e) => e.includes('.tmp-')), []);
});

/** Every file of a folder and its sha256. */
function snapshotOf(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
}

test('a temporary lock a killed compose left (its pid gone) is removed by the next compose of the recipe; a link or a live process\'s file of that name is not', () => {
  const ws = workspaceCopy();
  const recipe = path.join(ws, 'recipes', 'grammar-01.compose.yaml');
  const lockFile = path.join(ws, 'recipes', 'grammar-01.compose.lock');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const stale = `${lockFile}.tmp-${dead}-1796439685232`;
  fs.writeFileSync(stale, '{"format": 1}');
  const link = `${lockFile}.tmp-${dead}-1796439685233`;
  const victim = path.join(ws, 'victim.txt');
  fs.writeFileSync(victim, 'the user\'s\n');
  fs.symlinkSync(victim, link);
  const live = `${lockFile}.tmp-${process.pid}-1796439685234`;
  fs.writeFileSync(live, '{}');
  const composed = cli(['compose', recipe], { cwd: ws });
  assert.equal(composed.status, 0, composed.stderr);
  assert.ok(!fs.existsSync(stale), 'the dead process\'s temporary lock is removed');
  assert.ok(fs.lstatSync(link).isSymbolicLink() && fs.readFileSync(victim, 'utf8') === 'the user\'s\n', 'a link of that name is left, and what it points to');
  assert.ok(fs.existsSync(live), 'a live process\'s file is left');
});

test('an adapter row whose name and description hold an image, a link, a reference definition and HTML: the editor\'s cards (hover, completion, the library view) show them as text', async () => {
  const { adapterCard } = await import('../../server/src/service/adapterCard');
  const { libraryCard } = await import('../../server/src/service/libraryView');
  const record = {
    name: 'grammar-02 <img src=x> ![p](https://evil.example/p.png)',
    description: 'Fine-tuned on grammar.\n![pixel][t]\n[t]: https://evil.example/track.png\n<img src="https://evil.example/2.png">\n[open](command:workbench.action.terminal.new)',
    base: 'demo/tiny-transformer', rank: 8, alpha: 8, format: 'peft', target_modules: ['q_proj'], tags: ['x](https://evil.example)'],
    path: 'adapters/x', sha256: 'a'.repeat(64), created_at: '2026-01-01T00:00:00Z', prototype: new Float32Array(4),
  } as unknown as Parameters<typeof libraryCard>[0];
  for (const [what, md] of [['hover card', adapterCard({ outcome: undefined } as unknown as Parameters<typeof adapterCard>[0], record)], ['library card', libraryCard(record)]]) {
    for (const line of md.split('\n')) {
      const bare = unescaped(line);
      assert.doesNotMatch(bare, /[<>]/, `${what}: raw HTML in ${JSON.stringify(line)}`);
      assert.doesNotMatch(bare, /\]\(|\]\[|^\[[^\]]*\]:/, `${what}: a link, an image or a reference definition in ${JSON.stringify(line)}`);
    }
    assert.match(md, /Fine-tuned on grammar\.\n/, `${what}: the description keeps its lines`);
  }
});
