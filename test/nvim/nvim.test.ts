/**
 * Neovim (0.7.2+, headless, no user config) as a second real LSP client: it must read the server's
 * diagnostics and its code lenses with the weights. Skipped, with a note, where `nvim` is absent.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, it } from 'node:test';
import { GOOD_RECIPE, buildFixture, removeFixture } from '../lsp/fixture';
import type { Fixture } from '../lsp/fixture';
import { toolSkip } from '../toolSkip';

const REPO_ROOT = path.resolve(__dirname, '../..');
const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const skip = toolSkip(nvim.status === 0, 'nvim is not installed (apt-get install neovim): Neovim client test skipped');

let fixture: Fixture | undefined;
before(async () => {
  if (!skip) fixture = await buildFixture('ac-nvim-');
});
after(() => removeFixture(fixture));

it('Neovim shows the diagnostics and the weight lenses', { skip, timeout: 90_000 }, () => {
  const f = fixture!;
  const recipe = path.join(f.recipes, 'nvim.compose.yaml');
  fs.writeFileSync(recipe, GOOD_RECIPE.replace('exclude: [prostate-e]', 'exclude: [prostate-e, prostate-z]'));
  const tsx = require.resolve('tsx');
  const cmd = [process.execPath, '--import', tsx, path.join(REPO_ROOT, 'server/src/cli/main.ts'), 'lsp', '--stdio'];
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-nvim-home-'));
  try {
    const run = spawnSync('nvim', ['--headless', '--clean', '-n', '-i', 'NONE', '-c', `luafile ${path.join(__dirname, 'probe.lua')}`], {
      encoding: 'utf8',
      timeout: 80_000,
      env: { ...process.env, PROBE_FILE: recipe, PROBE_CMD: JSON.stringify(cmd), PROBE_CWD: REPO_ROOT, XDG_STATE_HOME: home, XDG_CACHE_HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
    });
    const line = run.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    assert.ok(line, `no JSON from nvim (status ${run.status}): ${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(line) as { error?: string; server_initialized: boolean; diagnostics: { lnum: number; severity: number; source: string; code?: string; message: string }[]; codelenses: { line: number; title: string; command: string }[] };
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.server_initialized, true);
    const unknown = result.diagnostics.find((d) => d.code === 'unknown-adapter');
    assert.ok(unknown, JSON.stringify(result.diagnostics));
    assert.equal(unknown.lnum, 8);
    assert.equal(unknown.severity, 2, 'a warning');
    assert.equal(unknown.source, 'adapter-composer');
    assert.match(unknown.message, /prostate-z/);
    // the actions and the selected strategy on `weights:`, the other strategies on `strategy:`, a
    // truncating svd merge's warning on `merge:` (one line each: a client draws a line's lenses unwrapped)
    const titles = result.codelenses.filter((l) => l.line === 9).map((l) => l.title);
    const others = result.codelenses.filter((l) => l.line === 10).map((l) => l.title);
    assert.ok(result.codelenses.every((l) => l.line === 9 || l.line === 10 || (l.line === 12 && l.title.startsWith('⚠ svd rank'))), JSON.stringify(result.codelenses));
    assert.equal(others.length, 1, 'the other strategies on the `strategy:` line');
    assert.match(others[0], /^avg r=/);
    assert.equal(titles[0], '▶ Compose', 'the actions first');
    assert.match(titles[3], /^sparse λ=0\.05 · prostate-\w [\u2212]?\d\.\d\d · .* · residual /);
    assert.ok(titles.includes('▶ Compose') && titles.includes('Pin weights'));
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

/** The Lua block docs/editors.md marks as tested, exactly as written there. */
function documentedConfig(): string {
  const markdown = fs.readFileSync(path.join(REPO_ROOT, 'docs/editors.md'), 'utf8');
  const match = /<!-- nvim-config: [^>]*-->\s*```lua\n([\s\S]*?)\n```/.exec(markdown);
  assert.ok(match, 'docs/editors.md has a Lua block marked <!-- nvim-config: … -->');
  return match[1];
}

it('the configuration in docs/editors.md, as written, shows code lenses and reuses its server on :e!', { skip, timeout: 150_000 }, () => {
  const f = fixture!;
  const recipe = path.join(f.recipes, 'docs.compose.yaml');
  fs.writeFileSync(recipe, GOOD_RECIPE);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-nvim-docs-'));
  try {
    // `adapter-composer` on PATH, as the docs assume: this checkout's CLI.
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin);
    const tsx = require.resolve('tsx');
    fs.writeFileSync(path.join(bin, 'adapter-composer'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsx)} ${JSON.stringify(path.join(REPO_ROOT, 'server/src/cli/main.ts'))} "$@"\n`, { mode: 0o755 });
    const init = path.join(home, 'init.lua');
    fs.writeFileSync(init, documentedConfig());
    const run = spawnSync('nvim', ['--headless', '-n', '-i', 'NONE', '-u', init, recipe, '-c', `luafile ${path.join(__dirname, 'docsProbe.lua')}`], {
      encoding: 'utf8', timeout: 140_000, cwd: f.recipes,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, XDG_STATE_HOME: home, XDG_CACHE_HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
    });
    const line = run.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    assert.ok(line, `no JSON from nvim (status ${run.status}): ${run.stdout}\n${run.stderr}`);
    const result = JSON.parse(line) as { error?: string; filetype: string; clients: number; codelenses: { line: number; title: string }[]; after_reload: { line: number; title: string }[] };
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.filetype, 'yaml');
    for (const lenses of [result.codelenses, result.after_reload]) {
      const titles = lenses.map((l) => l.title);
      assert.ok(titles.includes('▶ Compose') && titles.includes('Pin weights'), JSON.stringify(titles));
      assert.ok(titles.some((t) => /^sparse λ=0\.05 · /.test(t)), JSON.stringify(titles));
    }
    assert.equal(result.clients, 1, 'one server for the project, reused on :e!');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
