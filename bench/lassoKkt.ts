/**
 * The lasso λ-path's exactness on bench/solverBits.ts's corpus (its first 60 problems: k = 3…80, D = 40
 * and 768, duplicates, far prototypes, random targets), this checkout against another
 * (`--baseline DIR`): at every breakpoint the KKT conditions of the non-negative Lasso, each
 * correlation pᵢ·(t − Σwⱼpⱼ) summed in double-double from the vectors (not from the engine's G or
 * C): |corr − λ| on the support, (corr − λ)₊ off it, relative to λ*. For a change that is allowed to
 * change the path's bits (issue 17's one-solve breakpoints): the worst residual must stay as small.
 * Run: node --import tsx bench/lassoKkt.ts --baseline DIR
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as cur from '../server/src/engine/weights';
import { seededRandom } from '../server/src/engine/random';
import { arg } from './args';

function twoSum(a: number, b: number): [number, number] { const s = a + b; const v = s - a; return [s, (a - (s - v)) + (b - v)]; }
function twoProduct(a: number, b: number): [number, number] { const p = a * b; const split = (x: number) => { const c = 134217729 * x; const hi = c - (c - x); return [hi, x - hi]; }; const [ah, al] = split(a); const [bh, bl] = split(b); return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl]; }
class Exact { hi = 0; lo = 0; add(x: number) { const [s, e] = twoSum(this.hi, x); const [h, l] = twoSum(s, e + this.lo); this.hi = h; this.lo = l; } prod(a: number, b: number) { const [p, e] = twoProduct(a, b); this.add(p); this.add(e); } }
function problemOf(n: number) {
  const random = seededRandom(1000 + n);
  const gaussian = () => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-300))) * Math.cos(2 * Math.PI * random());
  const sizes = [3, 4, 5, 8, 12, 16, 24, 32, 48, 64, 72, 80];
  const k = sizes[n % sizes.length];
  const dim = n % 2 === 0 ? 768 : 40;
  const kind = Math.floor(n / sizes.length) % 5;
  const offset = kind === 2 || kind === 4 ? Float64Array.from({ length: dim }, () => 50 * gaussian()) : new Float64Array(dim);
  const distinct = kind === 1 || kind === 4 ? Math.max(2, Math.ceil(k * 0.7)) : k;
  const b = Array.from({ length: distinct }, () => Float64Array.from({ length: dim }, (_, d) => offset[d] + gaussian()));
  const prototypes = Array.from({ length: k }, (_, i) => Float64Array.from(b[i < distinct ? i : Math.floor(random() * distinct)]));
  let target: Float64Array;
  if (kind === 3) target = Float64Array.from({ length: dim }, (_, d) => offset[d] + gaussian());
  else { const mix = Array.from({ length: k }, gaussian); const total = mix.reduce((a, c) => a + c, 0); target = Float64Array.from({ length: dim }, (_, d) => prototypes.reduce((s, p, i) => s + (mix[i] / total) * p[d], 0) + 0.3 * gaussian()); }
  return { target, prototypes, names: prototypes.map((_, i) => `adapter-${i}`) };
}
// KKT of the lasso at each breakpoint, the correlation pᵢ·(t − Σwp) in double-double: worst |corr − λ| on the active, worst (corr − λ)+ off it, relative to λ*.
function kkt(p: ReturnType<typeof problemOf>, path: { breakpoints: { lambda: number; weights: number[] }[]; lambda_star: number }) {
  let worst = 0;
  for (const { lambda, weights } of path.breakpoints) {
    const residual = Array.from({ length: p.target.length }, (_, d) => { const e = new Exact(); e.add(p.target[d]); weights.forEach((w, i) => { if (w) e.prod(-w, p.prototypes[i][d]); }); return [e.hi, e.lo]; });
    p.prototypes.forEach((q, i) => {
      const e = new Exact(); residual.forEach(([h, l], d) => { e.prod(q[d], h); e.prod(q[d], l); });
      const c = e.hi + e.lo;
      const v = weights[i] > 0 ? Math.abs(c - lambda) : Math.max(0, c - lambda);
      worst = Math.max(worst, v / path.lambda_star);
    });
  }
  return worst;
}

async function main(): Promise<void> {
  const base = (await import(pathToFileURL(path.resolve(arg('baseline', '.'), 'server/src/engine/weights/index.ts')).href)) as typeof cur;
  let wc = 0;
  let wb = 0;
  for (let n = 0; n < 60; n++) {
    const p = problemOf(n);
    const a = cur.solveAll(p, { strategy: 'sparse' }).lambdaPaths.lasso!;
    const b = base.solveAll(p, { strategy: 'sparse' }).lambdaPaths.lasso!;
    const ka = kkt(p, a), kb = kkt(p, b);
    wc = Math.max(wc, ka); wb = Math.max(wb, kb);
    if (ka > 1e-12 || kb > 1e-12) console.log(n, 'this', ka.toExponential(2), 'baseline', kb.toExponential(2));
  }
  console.log('worst relative KKT residual over 60 problems\' lasso breakpoints: this', wc.toExponential(2), 'baseline', wb.toExponential(2));
}

void main();
