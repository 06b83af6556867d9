/**
 * The entry-wise merge methods (TIES, DARE, magnitude pruning) on one module's dense updates
 * wᵢ·ΔWᵢ = wᵢ·sᵢ·Bᵢ·Aᵢ — the published algorithms act on entries of the weight update, not on the
 * LoRA factors (PEFT's factor-wise variants prune Aᵢ and Bᵢ separately, which is another algorithm).
 *
 *   magnitude_prune: trim each wᵢΔWᵢ to its ⌊density·m·n⌋ largest |entries|, then sum;
 *   ties (Yadav et al. 2023): trim, elect the sign per entry as sgn(Σᵢ trimmed) (0 counts as +),
 *        keep only the entries that agree with it (disjoint merge);
 *   dare_linear (Yu et al. 2024): drop each entry with probability 1−density, rescale the kept ones
 *        by 1/density, then sum;
 *   dare_ties: DARE's drop-and-rescale, then TIES' sign election and disjoint merge (no trim).
 * The combination is a SUM of the surviving wᵢ·ΔWᵢ entries; `normalize` gives mergekit's semantics:
 * divide by the sum of the weights of the adapters that contributed the entry (those agreeing with
 * the elected sign for ties/dare_ties, all of them otherwise; a divisor of 0 counts as 1). With equal
 * weights that is the paper's "disjoint mean".
 *
 * Trimming keeps exactly k = ⌊density·m·n⌋ entries: all above the k-th largest magnitude τ, and of
 * those equal to τ the first ones in row-major order. DARE's draws are counter-based (a hash of the
 * entry's row-major index keyed by sha256(seed, module, adapter name)), so the mask depends only on
 * the seed, the module and the adapter, never on block sizes or thread counts: same inputs, same bytes.
 *
 * Memory: one dense float64 m×n buffer (the result; it is also the selection workspace for the
 * trim thresholds) plus one row block per adapter. Each adapter's block of ΔWᵢ is recomputed from
 * the factors when needed (B rows × A, through the panel products: ONNX Runtime for large blocks).
 */
import { createHash } from 'node:crypto';
import { ComposerError } from '../errors';
import type { FactorPanels } from './factorPanels';
import type { PanelProducts } from './panelProducts';

export const ENTRYWISE_METHODS = ['ties', 'dare_linear', 'dare_ties', 'magnitude_prune'] as const;
export type EntrywiseMethod = (typeof ENTRYWISE_METHODS)[number];

export function isEntrywiseMethod(m: unknown): m is EntrywiseMethod {
  return typeof m === 'string' && (ENTRYWISE_METHODS as readonly string[]).includes(m);
}

export interface EntrywiseOptions {
  method: EntrywiseMethod;
  /** Fraction of entries kept (trim) or kept in expectation (DARE), in (0, 1]. */
  density: number;
  /** DARE's seed (an integer); unused by ties and magnitude_prune. */
  seed: number;
  /** mergekit's normalize: divide by the contributing adapters' weight sum (default false: sum). */
  normalize: boolean;
}

/** One adapter's share of the module: panel rows [row, row + rank) carry cᵢ = wᵢ·sᵢ. */
export interface EntrywiseGroup {
  /** Names the adapter's DARE stream (the adapter name). */
  key: string;
  row: number;
  rank: number;
  /** wᵢ (the merge weight, for normalize). */
  weight: number;
}

/** lowbias32 (Wellons): a 32-bit integer hash with good avalanche. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The two 32-bit keys of one (seed, module, adapter) DARE stream. */
export function dareStreamKey(seed: number, module: string, adapter: string): [number, number] {
  const h = createHash('sha256').update(`dare\u0000${seed}\u0000${module}\u0000${adapter}`).digest();
  return [h.readUInt32LE(0), h.readUInt32LE(4)];
}

/** Uniform in [0, 1) for the entry with row-major index `index` (< 2³²) of a stream. */
export function dareUniform(key: [number, number], index: number): number {
  return mix32((mix32((index ^ key[0]) >>> 0) ^ key[1]) >>> 0) / 4294967296;
}

/**
 * The k-th largest value (1-based) of x[0..len), selecting in place (x is reordered): iterative
 * quickselect with a three-way partition, so runs of equal values (zeros) cost one pass.
 */
export function kthLargestInPlace(x: Float64Array, len: number, k: number): number {
  let lo = 0, hi = len - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    // median of three as the pivot
    const mid = lo + ((hi - lo) >> 1);
    const a = x[lo], b = x[mid], c = x[hi];
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : a > c ? a : b > c ? c : b;
    // descending three-way partition: [lo, lt) > pivot, [lt, i) == pivot, (gt, hi] < pivot
    let lt = lo, i = lo, gt = hi;
    while (i <= gt) {
      const v = x[i];
      if (v > pivot) {
        x[i] = x[lt];
        x[lt] = v;
        lt++;
        i++;
      } else if (v < pivot) {
        x[i] = x[gt];
        x[gt] = v;
        gt--;
      } else i++;
    }
    if (target < lt) hi = lt - 1;
    else if (target > gt) lo = gt + 1;
    else return pivot;
  }
  return x[target];
}

/** Rows per block: about 4 M entries per adapter block (32 MB float64). */
function blockRows(m: number, n: number): number {
  return Math.max(1, Math.min(m, Math.floor((1 << 22) / Math.max(1, n))));
}

/** One group's share of a column panel A as float64 [rank, n]. */
function groupA(panels: FactorPanels, g: EntrywiseGroup): Float64Array {
  const { n } = panels;
  return Float64Array.from(panels.a.subarray(g.row * n, (g.row + g.rank) * n));
}

/** Rows [i0, i1) of cᵢ·Bᵢ·Aᵢ, float64 [(i1−i0), n]. */
async function groupBlock(panels: FactorPanels, g: EntrywiseGroup, a: Float64Array, i0: number, i1: number, products: PanelProducts): Promise<Float64Array> {
  const R = panels.coefficients.length;
  const rows = i1 - i0;
  const mb = new Float64Array(rows * g.rank);
  for (let i = 0; i < rows; i++) {
    const src = (i0 + i) * R + g.row;
    for (let t = 0; t < g.rank; t++) mb[i * g.rank + t] = panels.b[src + t] * panels.coefficients[g.row + t];
  }
  return products.combine(mb, rows, a, g.rank, panels.n);
}

interface Trim {
  /** Keep |x| > tau; keep |x| == tau while `ties` > 0 (row-major order). */
  tau: number;
  ties: number;
  /** Keep everything (k ≥ m·n). */
  all: boolean;
}

export interface EntrywiseResult {
  /** Entries kept per adapter (after trim or drop), in group order. */
  kept: number[];
  /** Entries where some adapter was discarded by the sign election (ties, dare_ties). */
  disagreements: number;
}

/**
 * Fills `out` (float64, m×n row-major) with the merged dense update of one module.
 * `panels` are the module's concatenated factors (as mergePlanning.ts reads them), `groups` the adapters.
 */
export async function entrywiseModule(
  panels: FactorPanels,
  groups: EntrywiseGroup[],
  module: string,
  options: EntrywiseOptions,
  products: PanelProducts,
  out: Float64Array,
  signal?: AbortSignal,
): Promise<EntrywiseResult> {
  const { m, n } = panels;
  const total = m * n;
  const { method, density } = options;
  if (!(density > 0 && density <= 1)) throw new ComposerError('usage', `density must be in (0, 1], found ${density}`);
  if (total >= 2 ** 32) throw new ComposerError('merge', `module "${module}" has ${total} entries; the entry-wise methods handle fewer than 2³²`);
  if (out.length < total) throw new ComposerError('internal', 'dense buffer too small');
  const trims = method === 'ties' || method === 'magnitude_prune';
  const drops = method === 'dare_linear' || method === 'dare_ties';
  const elect = method === 'ties' || method === 'dare_ties';
  const step = blockRows(m, n);
  const aOf = groups.map((g) => groupA(panels, g));
  const kept = groups.map(() => 0);

  // trim thresholds: |cᵢBᵢAᵢ| into the output buffer, then the k-th largest by selection
  const trim: Trim[] = [];
  if (trims) {
    const k = Math.floor(density * total);
    for (const [gi, g] of groups.entries()) {
      if (k >= total) {
        trim.push({ tau: 0, ties: 0, all: true });
        continue;
      }
      for (let i0 = 0; i0 < m; i0 += step) {
        if (signal?.aborted) throw new ComposerError('cancelled', 'merge cancelled; the previous output (if any) is untouched');
        const i1 = Math.min(m, i0 + step);
        const blk = await groupBlock(panels, g, aOf[gi], i0, i1, products);
        const base = i0 * n;
        for (let e = 0; e < blk.length; e++) out[base + e] = Math.abs(blk[e]);
      }
      if (k === 0) {
        trim.push({ tau: Infinity, ties: 0, all: false });
        continue;
      }
      const tau = kthLargestInPlace(out, total, k);
      let greater = 0;
      for (let e = 0; e < total; e++) if (out[e] > tau) greater++;
      trim.push({ tau, ties: k - greater, all: false });
    }
  }

  const keys = groups.map((g) => dareStreamKey(options.seed, module, g.key));
  const G = groups.length;
  const inv = 1 / density;
  const weightAll = groups.reduce((s, g) => s + g.weight, 0);
  let disagreements = 0;
  for (let i0 = 0; i0 < m; i0 += step) {
    if (signal?.aborted) throw new ComposerError('cancelled', 'merge cancelled; the previous output (if any) is untouched');
    const i1 = Math.min(m, i0 + step);
    const blocks: Float64Array[] = [];
    for (const [gi, g] of groups.entries()) blocks.push(await groupBlock(panels, g, aOf[gi], i0, i1, products));
    const base = i0 * n;
    const len = (i1 - i0) * n;
    // sparsify each adapter's block in place (row-major order within and across blocks)
    for (let gi = 0; gi < G; gi++) {
      const blk = blocks[gi];
      if (trims) {
        const t = trim[gi];
        if (!t.all) {
          const tau = t.tau;
          let ties = t.ties;
          for (let e = 0; e < len; e++) {
            const v = blk[e];
            const mag = v < 0 ? -v : v;
            if (mag > tau) continue;
            if (mag === tau && ties > 0) ties--;
            else blk[e] = 0;
          }
          t.ties = ties;
        }
      } else if (drops) {
        const key = keys[gi];
        for (let e = 0; e < len; e++) blk[e] = dareUniform(key, base + e) < density ? blk[e] * inv : 0;
      }
      let nonzero = 0;
      for (let e = 0; e < len; e++) if (blk[e] !== 0) nonzero++;
      kept[gi] += nonzero;
    }
    if (elect) {
      for (let e = 0; e < len; e++) {
        let mass = 0;
        for (let gi = 0; gi < G; gi++) mass += blocks[gi][e];
        const positive = mass >= 0;
        let sum = 0, divisor = 0;
        let dropped = false;
        for (let gi = 0; gi < G; gi++) {
          const v = blocks[gi][e];
          if (v === 0) continue;
          if (v > 0 === positive) {
            sum += v;
            divisor += groups[gi].weight;
          } else dropped = true;
        }
        if (dropped) disagreements++;
        out[base + e] = options.normalize ? sum / (divisor === 0 ? 1 : divisor) : sum;
      }
    } else {
      const divisor = Math.abs(weightAll) < 1e-8 ? 1 : weightAll;
      out.fill(0, base, base + len);
      for (let gi = 0; gi < G; gi++) {
        const blk = blocks[gi];
        for (let e = 0; e < len; e++) out[base + e] += blk[e];
      }
      if (options.normalize) for (let e = 0; e < len; e++) out[base + e] /= divisor;
    }
  }
  return { kept, disagreements };
}
