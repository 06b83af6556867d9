// Mutation testing (StrykerJS 9, tap runner) of the modules whose tests must be able to fail (issue 14):
// each module is mutated alone and checked only by its own test files, run with node's test runner
// through tsx (one node process per test file; Stryker reads the TAP it prints).
//   npm run mutate                      every module (slow: hours on 2 cores; not in CI)
//   npm run mutate -- lock confinement  only these modules
//   npm run mutate -- weights --mutate server/src/engine/weights/convex.ts:20-80
//                                       a targeted run: only these files/line ranges of the module
//   npm run mutate -- lock --mutate server/src/engine/lock.ts --tests test/review/lock.test.ts
//                                       ... checked by only these test files
// Results: .test-artifacts/mutation/<module>.json (mutation-testing-report-schema) and a table on stdout;
// the figures in docs/testing.md#mutation-testing come from here. Concurrency 1 unless
// MUTATE_CONCURRENCY says otherwise: the machine is shared.
import { Stryker } from '@stryker-mutator/core';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODULES = {
  weights: { mutate: ['server/src/engine/weights/**/*.ts'], tests: ['test/weights/*.test.ts'] },
  merge: { mutate: ['server/src/engine/lora/merge*.ts'], tests: ['test/lora/merge.test.ts', 'test/lora/mergeVerdicts.test.ts', 'test/lora/mergeProvider.test.ts'] },
  lock: { mutate: ['server/src/engine/lock*.ts'], tests: ['test/review/lock.test.ts', 'test/review/lockDiff.test.ts'] },
  confinement: { mutate: ['server/src/engine/recipe/workspaceConfinement*.ts'], tests: ['test/recipe/workspaceConfinement.test.ts'] },
  search: { mutate: ['server/src/engine/library/search.ts'], tests: ['test/library/library.test.ts'] },
};

const args = process.argv.slice(2);
const valuesOf = (flag) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const only = valuesOf('--mutate');
const onlyTests = valuesOf('--tests');
const names = args.filter((a, i) => !a.startsWith('--') && !['--mutate', '--tests'].includes(args[i - 1]));
for (const n of names) if (!(n in MODULES)) throw new Error(`unknown module ${n} (${Object.keys(MODULES).join(', ')})`);

const summary = [];
for (const name of names.length ? names : Object.keys(MODULES)) {
  const module = MODULES[name];
  const mutate = only.length ? only : typeof module.mutate === 'function' ? module.mutate() : module.mutate;
  const reportFile = path.join('.test-artifacts', 'mutation', `${name}.json`);
  const stryker = new Stryker({
    testRunner: 'tap',
    plugins: ['@stryker-mutator/tap-runner'],
    tap: { testFiles: onlyTests.length ? onlyTests : module.tests, nodeArgs: ['--import', 'tsx'], forceBail: true },
    mutate,
    // the sandbox holds what the tests read: sources, tests, schemas (no dist/, demo data, editors)
    ignorePatterns: ['/*', '!/server', '!/test', '!/schemas', '!/package.json', '!/tsconfig.json', '/server/src/engine/demo/real/data', '/test/vscode', '/test/nvim'],
    concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
    coverageAnalysis: 'perTest',
    timeoutMS: 60_000,
    timeoutFactor: 3,
    reporters: ['json', 'clear-text', 'progress-append-only'],
    jsonReporter: { fileName: reportFile },
    clearTextReporter: { allowEmojis: false, logTests: false, reportMutants: true, reportScoreTable: true },
    thresholds: { high: 80, low: 60, break: null },
    cleanTempDir: 'always',
    tempDirName: `.stryker-tmp/${name}`,
    incremental: false,
    logLevel: 'info',
  });
  const results = await stryker.runMutationTest();
  const count = (s) => results.filter((r) => r.status === s).length;
  const killed = count('Killed') + count('Timeout');
  const survived = count('Survived') + count('NoCoverage');
  const score = killed + survived === 0 ? NaN : (100 * killed) / (killed + survived);
  summary.push({ module: name, mutate: mutate.join(' '), mutants: results.length, killed: count('Killed'), timeout: count('Timeout'), survived: count('Survived'), noCoverage: count('NoCoverage'), errors: count('RuntimeError') + count('CompileError'), score: Number(score.toFixed(1)) });
}
console.log('\nmodule       mutants  killed  timeout  survived  no-cov  score');
for (const s of summary) console.log(`${s.module.padEnd(12)} ${String(s.mutants).padStart(7)} ${String(s.killed).padStart(7)} ${String(s.timeout).padStart(8)} ${String(s.survived).padStart(9)} ${String(s.noCoverage).padStart(7)}  ${s.score}%`);
fs.mkdirSync(path.join('.test-artifacts', 'mutation'), { recursive: true });
fs.writeFileSync(path.join('.test-artifacts', 'mutation', `summary-${Date.now()}.json`), JSON.stringify(summary, null, 2) + '\n');

