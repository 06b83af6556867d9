// Mutation testing (StrykerJS 9, tap runner) of the modules whose tests must be able to fail (issue 14):
// each module is mutated alone and checked only by its own test files, one node process per test file
// (scripts/tsRequire.cjs compiles the TypeScript; Stryker reads the TAP node's test runner prints).
//   npm run mutate                      every module (slow: hours on 2 cores; not in CI)
//   npm run mutate -- lock confinement  only these modules
//   npm run mutate -- weights --part lambdaPath --part convex
//                                       only these parts of a module (see MODULES)
//   npm run mutate -- weights --mutate server/src/engine/weights/convex.ts:20-80
//                                       a targeted run: only these files/line ranges of the module
//   npm run mutate -- lock --mutate server/src/engine/lock.ts --tests test/review/lock.test.ts
//                                       ... checked by only these test files
//   --force                             re-test every mutant (default: incremental, see below)
// Results: .test-artifacts/mutation/<module>/<part>.json (mutation-testing-report-schema),
// <part>.summary.json (counts, score, minutes, the mutants left alive) and a table on stdout; the
// figures in docs/testing.md#mutation-testing come from here. Concurrency 1 unless MUTATE_CONCURRENCY
// says otherwise: the machine is shared.
import { Stryker } from '@stryker-mutator/core';
import * as fs from 'node:fs';
import * as path from 'node:path';

const WEIGHTS = (f) => `server/src/engine/weights/${f}.ts`;
const LORA = (f) => `server/src/engine/lora/${f}.ts`;

// Each module is mutated in parts (a file, or a few small files together), one Stryker run per part
// with its own incremental file: a run stopped half-way keeps every finished part, and a rerun after
// adding tests re-tests only that part's changed mutants. Parts are listed most important first.
// Tests are listed cheapest first: a mutant runs the files that reach it in this order and stops at
// the first that fails, so a mutant a fast unit test kills never waits for the CLI-level ones.
export const MODULES = {
  weights: {
    parts: {
      convex: [WEIGHTS('convex')],
      lambdaPath: [WEIGHTS('lambdaPath')],
      sparse: [WEIGHTS('sparse')],
      affineHull: [WEIGHTS('affineHull')],
      minimumNorm: [WEIGHTS('minimumNorm')],
      pathDirection: [WEIGHTS('pathDirection')],
      incrementalCholesky: [WEIGHTS('incrementalCholesky')],
      similarity: [WEIGHTS('similarity')],
      solve: [WEIGHTS('solve')],
      small: ['result', 'problem', 'manual', 'nearest', 'linear', 'average', 'forms'].map(WEIGHTS),
      lassoPath: [WEIGHTS('lassoPath')],
      costMatrix: [WEIGHTS('costMatrix')],
    },
    // every file of the folder but the re-exporting index.ts must be in a part (checked below)
    files: () => fs.readdirSync('server/src/engine/weights').filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => `server/src/engine/weights/${f}`),
    tests: ['costMatrix', 'pathDirection', 'minimumNorm', 'lassoDetails', 'lassoTies', 'sparseTies', 'resultDetails', 'incrementalCholesky', 'errors', 'strategies', 'optimality', 'sparseScale', 'linConvex', 'lambdaPathDetails', 'sharedMatrices', 'sparsePath', 'encoderSizePaths', 'sparseMinimumNorm', 'lassoPath', 'geometry'].map((f) => `test/weights/${f}.test.ts`),
  },
  merge: {
    parts: {
      mergePlanning: [LORA('mergePlanning')],
      merge: [LORA('merge')],
      entrywiseMerge: [LORA('entrywiseMerge')],
      mergeVerdicts: [LORA('mergeVerdicts'), LORA('mergeTypes')],
      mergeThreads: [LORA('mergeThreads')],
    },
    files: () => fs.readdirSync('server/src/engine/lora').filter((f) => /^(merge.*|entrywiseMerge)\.ts$/.test(f)).map((f) => `server/src/engine/lora/${f}`),
    // mergeUnit: tiny adapters against the dense Σ wᵢ·sᵢ·Bᵢ·Aᵢ, the plan, metadata and refusals (~1.5 s).
    // Not entrywiseMergeReal (the real gpt2 pair against the same reference as entrywiseMerge): 40-90 s
    // here, paid by every survivor (`--tests` adds it to a run)
    // entrywiseBlocks (~4 s) reaches entrywiseMerge.ts alone
    tests: ['mergeThreads', 'mergeUnit', 'mergeVerdicts', 'mergeProvider', 'entrywiseMerge', 'entrywiseBlocks', 'merge'].map((f) => `test/lora/${f}.test.ts`),
  },
  // not review/lockDiff (diff and lock show through dist/cli.js: no mutant of the sandbox reaches it,
  // and the sandbox has no dist/)
  lock: { parts: { lock: ['server/src/engine/lock*.ts'] }, tests: ['test/review/lockDiffUnit.test.ts', 'test/review/lock.test.ts'] },
  confinement: { parts: { confinement: ['server/src/engine/recipe/workspaceConfinement*.ts'] }, tests: ['test/recipe/workspaceConfinement.test.ts'] },
  search: { parts: { search: ['server/src/engine/library/search.ts'] }, tests: ['test/library/searchDefence.test.ts', 'test/library/library.test.ts'] },
  // never destroy: what an output may replace, the atomic publish, the bounded reads, the writer locks.
  // Unit-level files only: the CLI-level hardening tests (outputSafety, hostileFiles, fifthRound...)
  // run dist/cli.js, which no mutant reaches (and the sandbox has no dist/). The four hardening/*Unit
  // files (0.4-1.3 s each) were written for this; lsp/parseOnce plans a recipe (the planner's output
  // check), library/library (3 s) opens, writes and locks a real library
  guard: {
    parts: {
      outputGuard: ['server/src/engine/outputGuard.ts'],
      atomicFolder: [LORA('atomicFolder')],
      safeRead: ['server/src/engine/safeRead.ts'],
      writerLocks: ['server/src/engine/singleWriter.ts', 'server/src/engine/library/libraryFolder.ts'],
    },
    tests: [
      ...['safeReadUnit', 'atomicFolderUnit', 'outputGuardUnit', 'writerLocksUnit'].map((f) => `test/hardening/${f}.test.ts`),
      'test/review/lock.test.ts', 'test/lora/mergeUnit.test.ts', 'test/lsp/parseOnce.test.ts', 'test/library/library.test.ts',
    ],
  },
};

const args = process.argv.slice(2);
const FLAGS_WITH_VALUE = ['--mutate', '--tests', '--part'];
const valuesOf = (flag) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const only = valuesOf('--mutate');
const onlyTests = valuesOf('--tests');
const onlyParts = valuesOf('--part');
const names = args.filter((a, i) => !a.startsWith('--') && !FLAGS_WITH_VALUE.includes(args[i - 1]));
for (const n of names) if (!(n in MODULES)) throw new Error(`unknown module ${n} (${Object.keys(MODULES).join(', ')})`);
const root = path.join('.test-artifacts', 'mutation');

async function runPart(name, module, part, mutate) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  const events = path.join(dir, `${part}-events`);
  fs.rmSync(events, { recursive: true, force: true });
  const stryker = new Stryker({
    testRunner: 'tap',
    plugins: ['@stryker-mutator/tap-runner'],
    // scripts/tsRequire.cjs instead of `--import tsx`: the same esbuild transpile, cached, without
    // tsx's loader thread (0.3-0.5 s of CPU saved per test process, one process per file per mutant)
    tap: { testFiles: onlyTests.length ? onlyTests : module.tests, nodeArgs: ['-r', path.resolve('scripts/tsRequire.cjs')], forceBail: true },
    mutate,
    // the sandbox holds what the tests read: sources, tests, schemas (no dist/, demo data, editors)
    ignorePatterns: ['/*', '!/server', '!/test', '!/schemas', '!/package.json', '!/tsconfig.json', '/server/src/engine/demo/real/data', '/test/vscode', '/test/nvim'],
    concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
    // the tap runner reports each test file as one test, so perTest coverage is per test file: the
    // dry run records which files reach which mutants, and a mutant then runs only those files (one
    // that no file reaches is NoCoverage without a run)
    coverageAnalysis: 'perTest',
    // a mutant that loops is stopped by the hit limit (perTest coverage counts hits); the rest get
    // 3x their files' dry-run time plus 15 s
    timeoutMS: 15_000,
    timeoutFactor: 3,
    // event-recorder: one file per tested mutant under <part>-events/, readable while the run goes on
    reporters: ['json', 'clear-text', 'progress-append-only', 'event-recorder'],
    jsonReporter: { fileName: path.join(dir, `${part}.json`) },
    eventReporter: { baseDir: events },
    clearTextReporter: { allowEmojis: false, logTests: false, reportMutants: true, reportScoreTable: true },
    thresholds: { high: 80, low: 60, break: null },
    // incremental: a rerun (after adding tests, or editing the part) re-tests only the mutants whose
    // code or covering test files changed; `--force` re-tests everything
    incremental: true,
    incrementalFile: path.join(dir, `${part}.incremental.json`),
    force: args.includes('--force'),
    cleanTempDir: 'always',
    tempDirName: `.stryker-tmp/${name}-${part}`,
    logLevel: 'info',
  });
  const started = Date.now();
  const results = await stryker.runMutationTest();
  const minutes = (Date.now() - started) / 60_000;
  // mutants given a result by this run (not reused from the incremental file): one event file each
  const fresh = fs.existsSync(events) ? fs.readdirSync(events).filter((f) => f.endsWith('onMutantTested.json')).length : 0;
  const count = (s) => results.filter((r) => r.status === s).length;
  const killed = count('Killed') + count('Timeout');
  const survived = count('Survived') + count('NoCoverage');
  const score = killed + survived === 0 ? NaN : (100 * killed) / (killed + survived);
  const row = {
    module: name, part, mutate, tests: onlyTests.length ? onlyTests : module.tests, mutants: results.length,
    killed: count('Killed'), timeout: count('Timeout'), survived: count('Survived'), noCoverage: count('NoCoverage'),
    errors: count('RuntimeError') + count('CompileError'), score: Number(score.toFixed(1)), minutes: Number(minutes.toFixed(1)), eventsThisRun: fresh,
    at: new Date().toISOString(),
    left: results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
      .map((r) => `${r.status} ${path.relative('.', r.fileName)}:${r.location.start.line} ${r.mutatorName} → ${String(r.replacement ?? '').split('\n')[0].slice(0, 80)}`),
  };
  fs.writeFileSync(path.join(dir, `${part}.summary.json`), JSON.stringify(row, null, 2) + '\n');
  return row;
}

const ran = [];
for (const name of names.length ? names : Object.keys(MODULES)) {
  const module = MODULES[name];
  // a file added to the module later must not go unmutated because no part names it
  const named = new Set(Object.values(module.parts).flat());
  const unnamed = (module.files?.() ?? []).filter((f) => !named.has(f));
  if (unnamed.length) throw new Error(`${name}: ${unnamed.join(', ')} in no part of MODULES.${name}.parts`);
  if (only.length) {
    // a targeted run: its own part, named after what it mutates
    const part = `targeted-${only.join('+').replace(/[^A-Za-z0-9.+-]+/g, '_').slice(-80)}`;
    ran.push(await runPart(name, module, part, only));
    continue;
  }
  for (const part of onlyParts.length ? onlyParts : Object.keys(module.parts)) {
    if (!(part in module.parts)) throw new Error(`unknown part ${part} of ${name} (${Object.keys(module.parts).join(', ')})`);
    const spec = module.parts[part];
    ran.push(await runPart(name, module, part, spec));
  }
}

// The table: every part of the modules run that has a recorded summary (this run's or an earlier one's).
const pad = (v, n) => String(v).padStart(n);
console.log('\nmodule       part                  mutants  killed  timeout  survived  no-cov   score  minutes');
for (const name of [...new Set(ran.map((r) => r.module))]) {
  const rows = Object.keys(MODULES[name].parts).flatMap((part) => {
    const file = path.join(root, name, `${part}.summary.json`);
    return fs.existsSync(file) ? [JSON.parse(fs.readFileSync(file, 'utf8'))] : [];
  });
  for (const r of ran.filter((x) => x.module === name && x.part.startsWith('targeted-'))) rows.push(r);
  const total = { part: '(all recorded parts)', mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, minutes: 0 };
  for (const r of rows) {
    console.log(`${name.padEnd(12)} ${r.part.slice(0, 20).padEnd(20)} ${pad(r.mutants, 8)} ${pad(r.killed, 7)} ${pad(r.timeout, 8)} ${pad(r.survived, 9)} ${pad(r.noCoverage, 7)} ${pad(r.score + '%', 7)} ${pad(r.minutes, 8)}`);
    if (r.part.startsWith('targeted-')) continue;
    for (const key of ['mutants', 'killed', 'timeout', 'survived', 'noCoverage', 'minutes']) total[key] += r[key];
  }
  const k = total.killed + total.timeout;
  const score = (100 * k) / (k + total.survived + total.noCoverage);
  console.log(`${name.padEnd(12)} ${total.part.padEnd(20)} ${pad(total.mutants, 8)} ${pad(total.killed, 7)} ${pad(total.timeout, 8)} ${pad(total.survived, 9)} ${pad(total.noCoverage, 7)} ${pad(score.toFixed(1) + '%', 7)} ${pad(total.minutes.toFixed(1), 8)}`);
}
