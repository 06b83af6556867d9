/**
 * Same-bits check for solver speed work: runs this checkout's solveAll and another checkout's
 * (`--baseline DIR`, e.g. a `git archive` of main with node_modules linked) on a seeded corpus and
 * compares every returned number with Object.is (so −0 ≠ 0 and NaN = NaN). The corpus: k = 3…80 at
 * D = 40 and 768, targets near affine mixes (many breakpoints), duplicate prototypes, prototypes far
 * from the origin; each problem at several ρ and both sparse forms, plus manual weights; then small
 * integer problems (coordinates in −3…3, D = 2…6), whose paths have exact ties at their breakpoints.
 * Run: node --import tsx bench/solverBits.ts --baseline DIR [--problems N] [--ties N] [--differences]
 * Exits 1 on the first difference (printed with its path), 0 with the count of numbers compared.
 * `--differences` (for a change that is allowed to change bits): compares everything, then prints per
 * kind of number (the field's path with indices and names as *, corpus and tie problems apart) how
 * many differ, the largest relative difference |a − b|/max(|a|, |b|) with its absolute difference and
 * where, and the lists whose lengths differ (e.g. a path with another number of breakpoints).
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../server/src/engine/weights';
import type { WeightsParams } from '../server/src/engine/types';
import { arg, numberArg } from './args';
import { seededRandom } from '../server/src/engine/random';
import { integerProblem } from '../test/weights/reference';

type Engine = Pick<typeof current, 'solveAll'>;

interface Problem { target: Float64Array; prototypes: Float64Array[]; names: string[] }

/** Problem n of the corpus: its shape cycles through sizes, dimensions and degeneracies. */
function problemOf(n: number): Problem {
  const random = seededRandom(1000 + n);
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
  const sizes = [3, 4, 5, 8, 12, 16, 24, 32, 48, 64, 72, 80];
  const k = sizes[n % sizes.length];
  const dim = n % 2 === 0 ? 768 : 40;
  const kind = Math.floor(n / sizes.length) % 5; // 0 mix, 1 duplicates, 2 far, 3 random target, 4 dup + far
  const offset = kind === 2 || kind === 4 ? Float64Array.from({ length: dim }, () => 50 * gaussian()) : new Float64Array(dim);
  const distinct = kind === 1 || kind === 4 ? Math.max(2, Math.ceil(k * 0.7)) : k;
  const base = Array.from({ length: distinct }, () => Float64Array.from({ length: dim }, (_, d) => offset[d] + gaussian()));
  const prototypes = Array.from({ length: k }, (_, i) => Float64Array.from(base[i < distinct ? i : Math.floor(random() * distinct)]));
  let target: Float64Array;
  if (kind === 3) target = Float64Array.from({ length: dim }, (_, d) => offset[d] + gaussian());
  else {
    const mix = Array.from({ length: k }, gaussian);
    const total = mix.reduce((a, b) => a + b, 0);
    target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian());
  }
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}

/** Tie problem n: k = 2…17 integer prototypes and target (test/weights/reference.ts integerProblem). */
function tieProblemOf(n: number): Problem {
  return integerProblem(seededRandom(5000 + n), n);
}

/** solveAll's answer, or its error's message (both checkouts must refuse alike). */
function outcome(engine: Engine, problem: Problem, params: WeightsParams): unknown {
  try {
    return engine.solveAll(problem, params);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function paramsOf(p: Problem): WeightsParams[] {
  const manual = Object.fromEntries(p.names.map((name, i) => [name, (i % 3) / p.names.length]));
  return [
    { strategy: 'sparse' },
    { strategy: 'sparse', rho: 0.3 },
    { strategy: 'sparse', rho: 0.9, form: 'lasso' },
    { strategy: 'sparse', form: 'lasso' },
    { strategy: 'sparse', rho: 0 },
    { strategy: 'sparse', rho: 1 },
    { strategy: 'sparse', lambda: 1e-3, temperature: 0.5, manual },
  ];
}

let compared = 0;
const collect = process.argv.includes('--differences');
interface Kind { numbers: number; differ: number; relative: number; absolute: number; where: string; shapes: number }
const kinds = new Map<string, Kind>();
function kindOf(name: string): Kind {
  let kind = kinds.get(name);
  if (!kind) kinds.set(name, (kind = { numbers: 0, differ: 0, relative: 0, absolute: 0, where: '', shapes: 0 }));
  return kind;
}

/** `field`: the path inside the answer (its kind: indices and names as *); `group`: corpus or ties. */
function compare(a: unknown, b: unknown, where: string, field = '', group = ''): void {
  const kind = () => kindOf(`${group} ${field.replace(/\.adapter-\d+/g, '.*').replace(/\.\d+/g, '.*')}`);
  if (typeof a === 'number' || typeof b === 'number') {
    compared++;
    if (!collect) {
      if (!Object.is(a, b)) throw new Error(`${where}${field}: ${String(a)} vs ${String(b)}`);
      return;
    }
    const k = kind();
    k.numbers++;
    if (Object.is(a, b)) return;
    k.differ++;
    const x = Number(a);
    const y = Number(b);
    const absolute = Math.abs(x - y);
    const relative = Number.isNaN(absolute) ? Infinity : absolute === 0 ? 0 : absolute / Math.max(Math.abs(x), Math.abs(y));
    if (relative > k.relative || k.where === '') { k.relative = relative; k.absolute = absolute; k.where = `${where}${field}: ${x} vs ${y}`; }
    return;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (a !== b) {
      if (!collect) throw new Error(`${where}${field}: ${String(a)} vs ${String(b)}`);
      kind().shapes++;
    }
    return;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\n') !== kb.join('\n')) {
    if (!collect) throw new Error(`${where}${field}: keys ${ka.join(',')} vs ${kb.join(',')}`);
    const k = kind();
    k.shapes++;
    if (k.where === '') k.where = `${where}${field}: ${ka.length} vs ${kb.length} entries`;
    return;
  }
  for (const key of ka) compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], where, `${field}.${key}`, group);
}

async function main(): Promise<void> {
  const baselineDir = arg('baseline', '');
  if (!baselineDir) throw new Error('--baseline DIR is required');
  const baseline = (await import(pathToFileURL(path.resolve(baselineDir, 'server/src/engine/weights/index.ts')).href)) as Engine;
  const count = numberArg('problems', 60);
  const ties = numberArg('ties', 400);
  const problems = [...Array.from({ length: count }, (_, n) => ({ name: `problem ${n}`, problem: problemOf(n) })), ...Array.from({ length: ties }, (_, n) => ({ name: `tie problem ${n}`, problem: tieProblemOf(n) }))];
  for (const { name, problem } of problems) {
    for (const params of paramsOf(problem)) {
      const where = `${name} (k ${problem.names.length}, D ${problem.target.length}) ${JSON.stringify({ ...params, manual: params.manual ? '…' : undefined })}`;
      compare(outcome(current, problem, params), outcome(baseline, problem, params), where, '', name.startsWith('tie') ? 'ties' : 'corpus');
    }
  }
  if (collect) {
    const differing = [...kinds.entries()].filter(([, k]) => k.differ > 0 || k.shapes > 0).sort(([a], [b]) => a.localeCompare(b));
    console.log(`${compared} numbers over ${count} problems and ${ties} tie problems; kinds with differences (of ${kinds.size}):`);
    for (const [name, k] of differing) console.log(`${name}: ${k.differ} of ${k.numbers} differ, largest relative ${k.relative.toExponential(2)} (absolute ${k.absolute.toExponential(2)})${k.shapes ? `, ${k.shapes} lists of another length` : ''}; ${k.where}`);
    if (differing.length === 0) console.log('same bits');
    return;
  }
  console.log(`same bits: ${compared} numbers over ${count} problems and ${ties} tie problems`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
