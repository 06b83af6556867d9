// `npm run fuzz`: the hardening tests at 10× their CI size (FUZZ_SCALE=10; override with
// FUZZ_SCALE=N), with a per-parser tally on stderr. Seeds are fixed, so a failure reproduces.
//   node scripts/fuzz.mjs [parsers|faults|lspStorm|hostile|teamLibrary ...]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const files = readdirSync('test/hardening')
  .filter((f) => f.endsWith('.test.ts') && (wanted.length === 0 || wanted.some((w) => f.includes(w))))
  .map((f) => `test/hardening/${f}`);
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const env = { ...process.env, FUZZ_SCALE: process.env.FUZZ_SCALE ?? '10', FUZZ_REPORT: '1', HARDENING_SKIP_BUILD: '1' };
const started = Date.now();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=3600000', ...files], { stdio: 'inherit', env });
console.error(`fuzz: ${files.length} files at FUZZ_SCALE=${env.FUZZ_SCALE} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(r.status ?? 1);
