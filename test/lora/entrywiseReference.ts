// The dense reference of the entry-wise merge methods (TIES: Yadav et al. 2023; DARE: Yu et al. 2024),
// written from the papers in plain float64 and sharing no code with engine/lora/entrywiseMerge.ts: the
// tests of the entry-wise merges (entrywiseMerge, entrywiseMergeReal, mergeUnit) compare against it.
import { createHash } from 'node:crypto';
import type { EntrywiseMethod } from '../../server/src/engine/lora/entrywiseMerge';

/** DARE's documented mask stream: lowbias32 twice over the row-major index, keyed by sha256(seed, module, adapter). */
export function refUniform(seed: number, module: string, adapter: string): (index: number) => number {
  const h = createHash('sha256').update(`dare\u0000${seed}\u0000${module}\u0000${adapter}`).digest();
  const k0 = h.readUInt32LE(0), k1 = h.readUInt32LE(4);
  const hash = (v: number) => {
    let x = BigInt(v >>> 0);
    const M = 0xffffffffn;
    x ^= x >> 16n;
    x = (x * 0x7feb352dn) & M;
    x ^= x >> 15n;
    x = (x * 0x846ca68bn) & M;
    x ^= x >> 16n;
    return Number(x);
  };
  return (index) => hash((hash(Number((BigInt(index) ^ BigInt(k0)) & 0xffffffffn)) ^ k1) >>> 0) / 2 ** 32;
}

export interface RefOptions {
  method: EntrywiseMethod;
  density: number;
  normalize: boolean;
  seed: number;
  module: string;
}

/** deltas[i] = wᵢ·ΔWᵢ (N entries each); names for DARE's streams; weights wᵢ for normalize. */
export function referenceMerge(deltas: Float64Array[], names: string[], weights: number[], o: RefOptions): Float64Array {
  const N = deltas[0].length;
  const sparse = deltas.map((d, i) => {
    const x = Float64Array.from(d);
    if (o.method === 'ties' || o.method === 'magnitude_prune') {
      // keep the top ⌊density·N⌋ by magnitude (equal magnitudes: lower index first), from a full sort
      const k = Math.floor(o.density * N);
      if (k < N) {
        const sorted = Float64Array.from(d, Math.abs).sort(); // ascending
        const tau = k === 0 ? Infinity : sorted[N - k];
        let equal = 0;
        for (let j = N - k; j < N; j++) if (sorted[j] === tau) equal++;
        for (let j = 0; j < N; j++) {
          const mag = Math.abs(d[j]);
          if (mag > tau) continue;
          if (mag === tau && equal > 0) equal--;
          else x[j] = 0;
        }
      }
    } else {
      // Bernoulli(density) keep, rescale by 1/density
      const u = refUniform(o.seed, o.module, names[i]);
      for (let j = 0; j < N; j++) x[j] = u(j) < o.density ? d[j] / o.density : 0;
    }
    return x;
  });
  const out = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    if (o.method === 'ties' || o.method === 'dare_ties') {
      // sign election by total mass, disjoint merge over the agreeing entries
      const total = sparse.reduce((s, x) => s + x[j], 0);
      const sign = total >= 0 ? 1 : -1;
      let sum = 0, wsum = 0;
      sparse.forEach((x, i) => {
        if (x[j] !== 0 && Math.sign(x[j]) === sign) {
          sum += x[j];
          wsum += weights[i];
        }
      });
      out[j] = o.normalize ? sum / (wsum === 0 ? 1 : wsum) : sum;
    } else {
      const sum = sparse.reduce((s, x) => s + x[j], 0);
      const wsum = weights.reduce((s, w) => s + w, 0);
      out[j] = o.normalize ? sum / (Math.abs(wsum) < 1e-8 ? 1 : wsum) : sum;
    }
  }
  return out;
}

/** ‖x − ref‖ / ‖ref‖, the absolute error where the reference is all zeros (nothing kept). */
export function relErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (x[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}
