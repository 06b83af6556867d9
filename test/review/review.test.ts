/**
 * docs/review.md end to end, in a temporary git repository: two commits of a recipe (sparse, k 4 →
 * convex, k 5), each composed by the real CLI; `diff --against HEAD~1` as Markdown and JSON, checked
 * against rows computed here from the two committed locks; the steps of
 * docs/examples/compose-review.yml run as written; the lock textconv through a real `git diff`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildFixture, removeFixture, type Fixture } from '../lsp/fixture';
import { cli, CLI, ensureBuilt, REPO } from '../hardening/workspace';

const RECIPE = 'recipes/prostate-e.compose.yaml';
const LOCK = 'recipes/prostate-e.compose.lock';
const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function ok(args: string[], cwd: string): string {
  const r = cli(args, { cwd });
  assert.equal(r.status, 0, `adapter-composer ${args.join(' ')}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

type Lock = { weights: Record<string, number>; candidates: { name: string; sha256: string }[]; strategy: string; parameters: Record<string, unknown> };

/** Independent of the CLI's formatter: 4 decimals, trailing zeros dropped, U+2212 for minus. */
function fmt(w: number): string {
  const s = Math.abs(w) < 5e-5 ? '0' : Math.abs(w).toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  return w < 0 && s !== '0' ? `−${s}` : s;
}

/** The weight rows a reviewer should see, from the two locks: sorted by |Δ| then name. */
function expectedRows(old: Lock, now: Lock): string[] {
  const names = (l: Lock) => new Set([...l.candidates.map((c) => c.name), ...Object.keys(l.weights)]);
  const a = names(old);
  const b = names(now);
  const rows = [...new Set([...a, ...b])].map((n) => {
    const o = a.has(n) ? old.weights[n] ?? 0 : null;
    const w = b.has(n) ? now.weights[n] ?? 0 : null;
    return { n, o, w, d: (w ?? 0) - (o ?? 0) };
  });
  rows.sort((x, y) => Math.abs(y.d) - Math.abs(x.d) || (x.n < y.n ? -1 : 1));
  return rows.map((r) => {
    const d = fmt(r.d);
    return `| ${r.n}${r.o === null ? ' (added)' : r.w === null ? ' (removed)' : ''} | ${r.o === null ? '–' : fmt(r.o)} | ${r.w === null ? '–' : fmt(r.w)} | ${d === '0' || d.startsWith('−') ? d : `+${d}`} |`;
  });
}

/** The table rows (lines starting with `| `) of a Markdown text whose header starts with `first`. */
function table(markdown: string, first: string): string[] {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  assert.ok(at >= 0, `no table "${first}" in:\n${markdown}`);
  const rows = [];
  for (let i = at + 2; i < lines.length && lines[i].startsWith('| '); i++) rows.push(lines[i]);
  return rows;
}

/** The `adapter-composer …` command lines of the workflow, as argv (the test's base for the PR's). */
function workflowCommands(): string[][] {
  const workflow = parseYaml(fs.readFileSync(path.join(REPO, 'docs/examples/compose-review.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
  const lines = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ?? '').split('\n')));
  return lines
    .map((l) => l.trim())
    .filter((l) => l.startsWith('adapter-composer '))
    .map((l) => l.replace(/\s*>>?\s*\S+$/, '').replace(/"origin\/\$\{\{ github\.base_ref \}\}"/, 'HEAD~1').split(/\s+/).slice(1));
}

describe('review: diff against a git revision, CI formats, lock textconv (docs/review.md)', () => {
  let fixture: Fixture | undefined;
  let root = '';
  let oldLock: Lock;
  let newLock: Lock;

  before(async () => {
    ensureBuilt();
    fixture = await buildFixture('ac-review-');
    root = fixture.root;
    git(root, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(root, '.gitattributes'), '*.compose.lock diff=compose-lock\n');
    git(root, 'config', 'diff.compose-lock.textconv', `"${process.execPath}" "${CLI}" lock show`);
    ok(['compose', RECIPE], root);
    git(root, 'add', '.gitattributes', 'recipes');
    git(root, 'commit', '-q', '-m', 'prostate-e: sparse');
    const recipe = path.join(root, RECIPE);
    const text = fs.readFileSync(recipe, 'utf8');
    const edited = text.replace('  k: 4\n', '  k: 5\n').replace('  strategy: sparse\n  lambda: 0.05\n', '  strategy: convex\n');
    assert.notEqual(edited, text);
    fs.writeFileSync(recipe, edited);
    ok(['compose', RECIPE], root);
    git(root, 'add', 'recipes');
    git(root, 'commit', '-q', '-m', 'prostate-e: convex, k 5');
    oldLock = JSON.parse(git(root, 'show', `HEAD~1:${LOCK}`)) as Lock;
    newLock = JSON.parse(fs.readFileSync(path.join(root, LOCK), 'utf8')) as Lock;
  });
  after(() => removeFixture(fixture));

  it('diff --against HEAD~1 --format markdown: the weight rows and changed fields computed from the two locks', () => {
    assert.equal(oldLock.strategy, 'sparse');
    assert.equal(newLock.strategy, 'convex');
    const md = ok(['diff', RECIPE, '--against', 'HEAD~1', '--format', 'markdown'], root);
    assert.deepEqual(table(md, 'adapter'), expectedRows(oldLock, newLock));
    const fields = table(md, 'field');
    assert.ok(fields.includes('| strategy | sparse | convex |'), md);
    assert.ok(fields.includes(`| parameters.k | ${String(oldLock.parameters.k)} | ${String(newLock.parameters.k)} |`), md);
    assert.ok(fields.includes(`| parameters.lambda | ${String(oldLock.parameters.lambda)} | – |`), md);
    const added = [...new Set(newLock.candidates.map((c) => c.name))].filter((n) => !oldLock.candidates.some((c) => c.name === n));
    assert.ok(added.length > 0);
    assert.ok(md.includes(`**added** ${added.map((n) => `\`${n}\``).join(', ')}`), md);
    // --exit-code: 1 when the locks differ, 0 against the commit that holds this very lock.
    assert.equal(cli(['diff', RECIPE, '--against', 'HEAD~1', '--exit-code'], { cwd: root }).status, 1);
    const same = cli(['diff', RECIPE, '--against', 'HEAD', '--exit-code'], { cwd: root });
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /no changes/);
    // Deterministic: the same bytes twice.
    assert.equal(ok(['diff', RECIPE, '--against', 'HEAD~1', '--format', 'markdown'], root), md);
  });

  it('diff --against from another folder labels the old side with its path in the repository (git\'s REV:path)', () => {
    const recipes = path.join(root, path.dirname(RECIPE));
    const fromRecipes = ok(['diff', path.basename(RECIPE), '--against', 'HEAD~1', '--json'], recipes);
    const fromParent = ok(['diff', path.join(path.basename(root), RECIPE), '--against', 'HEAD~1', '--json'], path.dirname(root));
    for (const out of [fromRecipes, fromParent]) {
      const label = (JSON.parse(out) as { old: string }).old;
      assert.equal(label, `HEAD~1:${LOCK}`, out);
      // The label is what `git show` takes: it names the same bytes.
      assert.equal(git(root, 'show', label), git(root, 'show', `HEAD~1:${LOCK}`));
    }
  });

  it('the worked example in docs/review.md shows the same weight table and fields', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs/review.md'), 'utf8');
    const block = doc.slice(doc.indexOf('<!-- review-example:begin -->'), doc.indexOf('<!-- review-example:end -->'));
    const md = ok(['diff', RECIPE, '--against', 'HEAD~1', '--format', 'markdown'], root);
    assert.deepEqual(table(block, 'adapter'), table(md, 'adapter'));
    // Fields and their non-hash values (hashes of the output depend on the checkout's paths).
    const strip = (rows: string[]) => rows.map((r) => r.replace(/[0-9a-f]{12}…/g, '<hash>'));
    assert.deepEqual(strip(table(block, 'field')), strip(table(md, 'field')));
  });

  it('diff --json: weights, added, removed and changed with nulls for an absent side', () => {
    const json = JSON.parse(ok(['diff', RECIPE, '--against', 'HEAD~1', '--json'], root)) as {
      weights: { adapter: string; old: number | null; new: number | null }[];
      added: string[];
      removed: string[];
      changed: { field: string; old: unknown; new: unknown }[];
    };
    for (const w of json.weights) {
      assert.equal(w.old, w.adapter in oldLock.weights ? oldLock.weights[w.adapter] : null);
      assert.equal(w.new, w.adapter in newLock.weights ? newLock.weights[w.adapter] : null);
    }
    assert.deepEqual(json.weights.map((w) => w.adapter).sort(), [...new Set([...Object.keys(oldLock.weights), ...Object.keys(newLock.weights)])].sort());
    assert.deepEqual(json.removed, Object.keys(oldLock.weights).filter((n) => !(n in newLock.weights)).sort());
    assert.deepEqual(json.changed.find((c) => c.field === 'parameters.lambda'), { field: 'parameters.lambda', old: oldLock.parameters.lambda, new: null });
    // Two lock files give the same diff as the revision.
    const oldFile = path.join(root, 'old.compose.lock');
    fs.writeFileSync(oldFile, git(root, 'show', `HEAD~1:${LOCK}`));
    const files = JSON.parse(ok(['diff', oldFile, LOCK, '--json'], root)) as typeof json;
    assert.deepEqual(files.weights, json.weights);
    assert.deepEqual(files.changed, json.changed);
    fs.rmSync(oldFile);
  });

  it('the workflow steps in docs/examples/compose-review.yml run as written', () => {
    const commands = workflowCommands();
    assert.deepEqual(commands.map((c) => c[0]), ['check', 'compose', 'plan', 'diff']);
    for (const argv of commands) {
      const out = ok(argv, root);
      if (argv[0] === 'check') assert.doesNotMatch(out, /^::error/m);
      if (argv[0] === 'diff') assert.deepEqual(table(out, 'adapter'), expectedRows(oldLock, newLock));
    }
  });

  it('git diff and git log -p of a lock show the textconv summary', () => {
    const diff = git(root, 'diff', 'HEAD~1', 'HEAD', '--', LOCK);
    assert.match(diff, /^-strategy {2}sparse .*lambda=0\.05$/m);
    assert.match(diff, /^\+strategy {2}convex .*k=5$/m);
    // Each adapter's weight line, with the weight the lock records.
    for (const [name, w] of Object.entries(newLock.weights)) {
      assert.match(diff, new RegExp(`^[+ ] {2}${name} +${fmt(w).replace('.', '\\.')} `, 'm'));
    }
    assert.doesNotMatch(diff, /"weights"/, 'the raw JSON should not be shown');
    assert.match(git(root, 'log', '-p', '-1', '--', LOCK), /^\+weights {3}\d+ adapters$/m);
  });

  it('clear errors: not a git repository, no lock at that revision, unknown revision', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-review-nogit-'));
    try {
      fs.copyFileSync(path.join(root, LOCK), path.join(outside, 'x.compose.lock'));
      const r = cli(['diff', 'x.compose.lock', '--against', 'HEAD'], { cwd: outside, env: { GIT_CEILING_DIRECTORIES: path.dirname(outside) } });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /not in a git repository/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    fs.copyFileSync(path.join(root, RECIPE), path.join(root, 'recipes/copy.compose.yaml'));
    ok(['compose', 'recipes/copy.compose.yaml'], root);
    const missing = cli(['diff', 'recipes/copy.compose.yaml', '--against', 'HEAD'], { cwd: root });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /recipes\/copy\.compose\.lock does not exist at HEAD/);
    const unknown = cli(['diff', RECIPE, '--against', 'no-such-branch'], { cwd: root });
    assert.match(unknown.stderr, /unknown git revision 'no-such-branch'/);
    const option = cli(['diff', RECIPE, '--against=--output=/tmp/x'], { cwd: root });
    assert.equal(option.status, 2);
    assert.match(option.stderr, /not a git revision/);
  });
});
