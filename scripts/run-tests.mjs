// Runs every test/**/*.test.ts with node's built-in runner (Node 20 has no glob for --test).
// Usage: node scripts/run-tests.mjs [path-fragment ...]   (only files whose path contains a fragment)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(p).isDirectory() ? find(p) : /\.test\.(ts|mjs|js)$/.test(name) ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test').sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Tests get their own prototype cache, not the user's ~/.cache/adapter-composer.
process.env.ADAPTER_COMPOSER_CACHE ??= mkdtempSync(join(tmpdir(), 'ac-test-cache-'));
// dist/ is built once here, before any test file starts: files that spawn dist/cli.js never see another
// file rewrite it (test/hardening/workspace.ts ensureBuilt() trusts this flag).
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
process.env.ADAPTER_COMPOSER_TEST_BUILT = '1';
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
