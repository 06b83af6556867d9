/**
 * Distances between low-rank deltas without forming them: for ΔW = Σ cᵢ BᵢAᵢ,
 * ‖ΔW‖²_F = Σᵢⱼ cᵢcⱼ ⟨BᵢᵀBⱼ, AᵢAⱼᵀ⟩ — two r×r Gram blocks per pair, O((m+n)·r²), never m×n.
 */

/** One term c·B·A of a delta: B is [out, r] and A is [r, in], row-major. */
export interface LowRankTerm {
  coefficient: number;
  B: Float32Array | Float64Array;
  A: Float32Array | Float64Array;
  out: number;
  in: number;
  rank: number;
}

/** ⟨BᵢAᵢ, BⱼAⱼ⟩_F = Σ_{a,b} (BᵢᵀBⱼ)_{ab} (AᵢAⱼᵀ)_{ab}, in float64. */
export function termInner(x: LowRankTerm, y: LowRankTerm): number {
  if (x.out !== y.out || x.in !== y.in) {
    throw new Error(`shape mismatch: [${x.out}×${x.in}] vs [${y.out}×${y.in}]`);
  }
  const rx = x.rank;
  const ry = y.rank;
  const bGram = new Float64Array(rx * ry); // BᵢᵀBⱼ
  for (let row = 0; row < x.out; row++) {
    const bx = row * rx;
    const by = row * ry;
    for (let a = 0; a < rx; a++) {
      const v = x.B[bx + a];
      if (v === 0) continue;
      for (let b = 0; b < ry; b++) bGram[a * ry + b] += v * y.B[by + b];
    }
  }
  let total = 0;
  for (let a = 0; a < rx; a++) {
    const ax = a * x.in;
    for (let b = 0; b < ry; b++) {
      const g = bGram[a * ry + b];
      if (g === 0) continue;
      const ay = b * y.in;
      let dot = 0; // (AᵢAⱼᵀ)_{ab}
      for (let col = 0; col < x.in; col++) dot += x.A[ax + col] * y.A[ay + col];
      total += g * dot;
    }
  }
  return total;
}

/** ‖Σ cᵢBᵢAᵢ‖²_F. */
export function squaredNorm(terms: LowRankTerm[]): number {
  let s = 0;
  for (let i = 0; i < terms.length; i++) {
    for (let j = i; j < terms.length; j++) {
      const v = terms[i].coefficient * terms[j].coefficient * termInner(terms[i], terms[j]);
      s += i === j ? v : 2 * v;
    }
  }
  return Math.max(0, s);
}

/** ⟨Σ cᵢXᵢ, Σ dⱼYⱼ⟩_F. */
export function inner(xs: LowRankTerm[], ys: LowRankTerm[]): number {
  let s = 0;
  for (const x of xs) for (const y of ys) s += x.coefficient * y.coefficient * termInner(x, y);
  return s;
}

/**
 * Relative Frobenius distance ‖X − Y‖/‖Y‖ and cosine ⟨X,Y⟩/(‖X‖‖Y‖) of two deltas given per module
 * (modules absent on one side count as zero there).
 */
export function compareDeltas(
  composed: Map<string, LowRankTerm[]>,
  reference: Map<string, LowRankTerm[]>,
): { relativeError: number; cosine: number } {
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (const [module, xs] of composed) {
    xx += squaredNorm(xs);
    const ys = reference.get(module);
    if (ys) xy += inner(xs, ys);
  }
  for (const ys of reference.values()) yy += squaredNorm(ys);
  const diff = Math.max(0, xx + yy - 2 * xy);
  return {
    relativeError: yy > 0 ? Math.sqrt(diff) / Math.sqrt(yy) : Math.sqrt(diff),
    cosine: xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0,
  };
}
