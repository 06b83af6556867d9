/**
 * Inner products ⟨ΔWᵢ, ΔWⱼ⟩_F between whole adapters (summed over their modules), from the low-rank
 * factors alone. For a group of adapters and one module, the scaled factor panels are stacked —
 * Bᵀ rows [R, out] and A rows [R, in] — and two R×R Grams give every pair at once:
 *   ⟨sᵢBᵢAᵢ, sⱼBⱼAⱼ⟩ = Σ_{a∈i, b∈j} (BᵀB)_{ab}·(AAᵀ)_{ab}.
 * Work is O(R²·(out + in)) per module, never an out×in matrix. Modules are visited one at a time and
 * each tensor is read once, so memory holds one module of the involved adapters, not whole adapters.
 */
import { ComposerError } from '../errors';
import { readFactors, type LoraAdapter, type LoraModule } from '../lora/adapter';
import { openAdapter } from '../lora/formats';
import { jsProducts, type PanelProducts } from '../lora/panelProducts';

export interface DeltaSource {
  name: string;
  /** Adapter folder or weights file. */
  path: string;
}

export interface GramProgress {
  modulesDone: number;
  modulesTotal: number;
}

export interface GramOptions {
  products?: PanelProducts;
  signal?: AbortSignal;
  onProgress?: (progress: GramProgress) => void;
}

interface ModulePanels {
  rank: number;
  /** s·Bᵀ [rank, out] */
  bt: Float64Array;
  /** A [rank, in] */
  a: Float64Array;
}

export class AdapterDeltaGram {
  private readonly adapters: LoraAdapter[];
  private readonly known = new Map<number, number>();
  /** Tensor reads so far (two per adapter module): each factor is read at most once per `ensure`. */
  tensorReads = 0;

  private constructor(readonly sources: DeltaSource[], adapters: LoraAdapter[]) {
    this.adapters = adapters;
  }

  /** Opens every adapter's header once; a missing or unreadable adapter is an error naming it. */
  static open(sources: DeltaSource[]): AdapterDeltaGram {
    const adapters = sources.map((s) => {
      try {
        return openAdapter(s.path);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new ComposerError('adapter-format', `cannot read adapter '${s.name}': ${message}`, { file: s.path }, 'fix or remove it from the library (`library rm NAME`)');
      }
    });
    return new AdapterDeltaGram(sources, adapters);
  }

  get size(): number {
    return this.sources.length;
  }

  private key(i: number, j: number): number {
    return i <= j ? i * this.size + j : j * this.size + i;
  }

  has(i: number, j: number): boolean {
    return this.known.has(this.key(i, j));
  }

  /** ⟨ΔWᵢ, ΔWⱼ⟩_F; the pair must have been computed by `ensure`. */
  inner(i: number, j: number): number {
    const v = this.known.get(this.key(i, j));
    if (v === undefined) throw new ComposerError('internal', `delta inner product (${this.sources[i].name}, ${this.sources[j].name}) was not computed`);
    return v;
  }

  /** Computes every pair within each group (adapter indices) that is not known yet. */
  async ensure(groups: number[][], options: GramOptions = {}): Promise<void> {
    const products = options.products ?? jsProducts;
    const pending = groups
      .map((g) => [...new Set(g)].sort((a, b) => a - b))
      .filter((g) => g.some((i) => g.some((j) => j >= i && !this.has(i, j))));
    if (pending.length === 0) return;
    const wanted = new Map<number, number>(); // pair key → running sum
    for (const g of pending) for (const i of g) for (const j of g) if (j >= i && !this.has(i, j)) wanted.set(this.key(i, j), 0);
    const involved = [...new Set(pending.flat())].sort((a, b) => a - b);

    // Modules of the involved adapters, with shapes checked across adapters.
    const modules = new Map<string, { out: number; in: number; owner: number }>();
    for (const i of involved) {
      for (const m of this.adapters[i].modules.values()) {
        const seen = modules.get(m.name);
        if (!seen) modules.set(m.name, { out: m.outFeatures, in: m.inFeatures, owner: i });
        else if (seen.out !== m.outFeatures || seen.in !== m.inFeatures) {
          throw new ComposerError('dimension', `module "${m.name}" is [${m.outFeatures}, ${m.inFeatures}] in '${this.sources[i].name}' but [${seen.out}, ${seen.in}] in '${this.sources[seen.owner].name}'`,
            { file: this.sources[i].path }, 'adapters of one base model must agree on module shapes; check the base recorded in the library');
        }
      }
    }
    const names = [...modules.keys()].sort();
    let done = 0;
    for (const name of names) {
      if (options.signal?.aborted) throw new ComposerError('cancelled', 'evaluation cancelled');
      const shape = modules.get(name)!;
      const panels = new Map<number, ModulePanels>();
      for (const i of involved) {
        const m = this.adapters[i].modules.get(name);
        if (m) panels.set(i, this.readPanels(i, m));
      }
      const groupsHere = pending.map((g) => g.filter((i) => panels.has(i))).filter((g) => g.length > 0);
      // One Gram over everyone when that is cheaper than one per group (small libraries).
      const rankOf = (g: number[]) => g.reduce((s, i) => s + panels.get(i)!.rank, 0);
      const everyone = [...panels.keys()];
      const fullCost = rankOf(everyone) ** 2;
      const groupCost = groupsHere.reduce((s, g) => s + rankOf(g) ** 2, 0);
      const blocks = fullCost <= groupCost ? [everyone] : groupsHere;
      for (const block of blocks) await this.accumulate(block, panels, shape.out, shape.in, wanted, products);
      done++;
      options.onProgress?.({ modulesDone: done, modulesTotal: names.length });
    }
    for (const [key, value] of wanted) this.known.set(key, value);
  }

  private readPanels(index: number, m: LoraModule): ModulePanels {
    let f;
    try {
      f = readFactors(this.adapters[index], m);
    } catch (e) {
      throw new ComposerError('adapter-format', `cannot read module "${m.name}" of '${this.sources[index].name}': ${e instanceof Error ? e.message : String(e)}`, { file: this.sources[index].path });
    }
    this.tensorReads += 2;
    const { rank, outFeatures: out } = f;
    const bt = new Float64Array(rank * out);
    for (let row = 0; row < out; row++) {
      for (let t = 0; t < rank; t++) bt[t * out + row] = m.scale * f.b[row * rank + t];
    }
    return { rank, bt, a: f.a };
  }

  private async accumulate(block: number[], panels: Map<number, ModulePanels>, out: number, inn: number, wanted: Map<number, number>, products: PanelProducts): Promise<void> {
    const offsets: number[] = [];
    let total = 0;
    for (const i of block) {
      offsets.push(total);
      total += panels.get(i)!.rank;
    }
    if (total === 0) return;
    const bt = new Float64Array(total * out);
    const a = new Float64Array(total * inn);
    block.forEach((i, b) => {
      const p = panels.get(i)!;
      bt.set(p.bt, offsets[b] * out);
      a.set(p.a, offsets[b] * inn);
    });
    const gb = await products.gram(bt, total, out);
    const ga = await products.gram(a, total, inn);
    for (let x = 0; x < block.length; x++) {
      for (let y = x; y < block.length; y++) {
        const key = this.key(block[x], block[y]);
        const sum = wanted.get(key);
        if (sum === undefined) continue;
        const rx = panels.get(block[x])!.rank;
        const ry = panels.get(block[y])!.rank;
        let s = 0;
        for (let p = 0; p < rx; p++) {
          const row = (offsets[x] + p) * total + offsets[y];
          for (let q = 0; q < ry; q++) s += gb[row + q] * ga[row + q];
        }
        wanted.set(key, sum + s);
      }
    }
  }
}

/**
 * Distance of a composition Σ wᵢΔWᵢ (adapters `members`) from a reference ΔW_t, from inner products:
 * ‖X − Y‖² = wᵀG w − 2 wᵀg + G_tt, cosine = wᵀg / (‖X‖‖Y‖).
 */
export function compareComposition(gram: AdapterDeltaGram, members: number[], weights: ArrayLike<number>, reference: number): { relativeError: number; cosine: number } {
  let xx = 0;
  let xy = 0;
  for (let p = 0; p < members.length; p++) {
    const wp = weights[p];
    if (wp === 0) continue;
    xy += wp * gram.inner(members[p], reference);
    for (let q = 0; q < members.length; q++) {
      const wq = weights[q];
      if (wq !== 0) xx += wp * wq * gram.inner(members[p], members[q]);
    }
  }
  const yy = gram.inner(reference, reference);
  xx = Math.max(0, xx);
  const diff = Math.max(0, xx - 2 * xy + yy);
  return {
    relativeError: yy > 0 ? Math.sqrt(diff / yy) : Math.sqrt(diff),
    cosine: xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0,
  };
}
