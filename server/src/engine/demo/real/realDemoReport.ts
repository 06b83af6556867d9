/**
 * The report of `demo --real`: what each held-out domain scored (per strategy, with and without the
 * base model as a candidate, along the ρ sweep), and the summaries over seeds and targets — means, the
 * std over seeds, the share of the base → sft gap closed — per group of domains and per domain.
 * buildRealDemo.ts runs the experiment and fills it.
 */
import type { ClassificationMetrics } from '../../eval/classification';
import type { SparseForm } from '../../types';
import { SPARSE_FORMS } from '../../weights/forms';
import type { Domain } from './domains';

/** The ρ sweep of both sparse forms (first seed only): grounds the choice of DEFAULT_RHO and DEFAULT_SPARSE_FORM. */
export const RHO_SWEEP = [0, 0.1, 0.25, 0.5, 0.75, 1] as const;
/** The report key of a sparse form's composite at the recipe's ρ (the constrained form keeps the plain `sparse`). */
export function sparseKey(form: SparseForm): string {
  return form === 'constrained' ? 'sparse' : `sparse-${form}`;
}
/** The ρ-sweep key of one (form, ρ): also the composite's folder under `out/<domain>/sweep/`. */
export function sweepKey(form: SparseForm, rho: number): string {
  return `${form}@rho=${rho}`;
}

export interface Metric extends ClassificationMetrics {
  weights: Record<string, number>;
  /** sparse: the λ used, λ* of its form's problem, ρ = λ/λ* and the form. */
  lambda?: number;
  lambda_star?: number;
  rho?: number;
  form?: SparseForm;
}

export interface RealTarget {
  target: string;
  kind: Domain['kind'];
  description: string;
  base: ClassificationMetrics;
  sft: ClassificationMetrics;
  /**
   * Each strategy's composite from the other domains' adapters (every strategy of the weights module
   * but manual). `sparse` is the constrained form and `sparse-lasso` the lasso form, both at the
   * product's default ρ (DEFAULT_RHO); `sparse@auto` is `lambda: auto` (default form).
   */
  strategies: Record<string, Metric>;
  /** The same with the base model (zero adapter) among the candidates. */
  with_base_candidate: Record<string, Metric>;
  /** First seed only: sparse of each form at each ρ of RHO_SWEEP, keyed `<form>@rho=<ρ>` (composites in out/<domain>/sweep/). */
  rho_sweep?: Record<string, Metric>;
}

export interface Aggregate {
  accuracy_mean: number;
  accuracy_std: number;
  nll_mean: number;
  nll_std: number;
  /** (mean acc − mean base acc) / (mean sft acc − mean base acc) over the same targets and seeds. */
  gap_closed: number;
}

export type Group = 'all' | 'between' | 'outside';

export interface RealDemoReport {
  workspace: string;
  library: string;
  data: string;
  seeds: number[];
  domains: { name: string; kind: Domain['kind']; description: string }[];
  recipes: string[];
  /** The first seed's figures (its files are on disk). */
  targets: RealTarget[];
  /**
   * Per entry (base, sft, each strategy, `<strategy>+base` with the base candidate) and group of
   * targets: mean over seeds × targets; std over seeds of the per-seed mean over targets.
   */
  summary: Record<string, Record<Group, Aggregate>>;
  /**
   * The ρ sweep (first seed): per form and ρ, mean accuracy and NLL over the group's held-out domains.
   */
  rho_sweep: { seed: number; rhos: number[]; forms: Record<string, Record<string, Record<Group, { accuracy: number; nll: number }>>> };
  /** Per held-out domain and entry: accuracy mean ± std over seeds (the per-domain view of the summary). */
  by_domain: Record<string, Record<string, { accuracy_mean: number; accuracy_std: number }>>;
  /** Wall seconds (and this process's CPU seconds, steadier on a shared machine). */
  timings: { total_s: number; base_training_s: number[]; base_training_cpu_s: number[]; adapter_training_s_mean: number; adapter_training_cpu_s_mean: number; evaluations: number; eval_samples_per_s: number };
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
}

function std(v: number[]): number {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

export function byDomain(seeds: RealTarget[][]): RealDemoReport['by_domain'] {
  const out: RealDemoReport['by_domain'] = {};
  for (const [i, first] of (seeds[0] ?? []).entries()) {
    const entries: Record<string, (t: RealTarget) => number | undefined> = { base: (t) => t.base.accuracy, sft: (t) => t.sft.accuracy };
    for (const s of Object.keys(first.strategies)) entries[s] = (t) => t.strategies[s]?.accuracy;
    for (const s of Object.keys(first.with_base_candidate)) entries[`${s}+base`] = (t) => t.with_base_candidate[s]?.accuracy;
    out[first.target] = {};
    for (const [entry, pick] of Object.entries(entries)) {
      const values = seeds.map((targets) => pick(targets[i])).filter((v): v is number => v !== undefined);
      out[first.target][entry] = { accuracy_mean: mean(values), accuracy_std: std(values) };
    }
  }
  return out;
}

export function summarizeSweep(seed: number, targets: readonly RealTarget[]): RealDemoReport['rho_sweep'] {
  const groups: Record<Group, (t: RealTarget) => boolean> = { all: () => true, between: (t) => t.kind === 'between', outside: (t) => t.kind === 'outside' };
  const forms: RealDemoReport['rho_sweep']['forms'] = {};
  if (!targets.some((t) => t.rho_sweep)) return { seed, rhos: [], forms };
  for (const form of SPARSE_FORMS) {
    forms[form] = {};
    for (const rho of RHO_SWEEP) {
      const cell = {} as Record<Group, { accuracy: number; nll: number }>;
      for (const [group, keep] of Object.entries(groups) as [Group, (t: RealTarget) => boolean][]) {
        const ms = targets.filter(keep).map((t) => t.rho_sweep?.[sweepKey(form, rho)]).filter((m): m is Metric => m !== undefined);
        cell[group] = { accuracy: mean(ms.map((m) => m.accuracy)), nll: mean(ms.map((m) => m.nll)) };
      }
      forms[form][String(rho)] = cell;
    }
  }
  return { seed, rhos: [...RHO_SWEEP], forms };
}

export function summarizeSeeds(seeds: RealTarget[][]): Record<string, Record<Group, Aggregate>> {
  const entries = new Map<string, (t: RealTarget) => ClassificationMetrics | undefined>([
    ['base', (t) => t.base],
    ['sft', (t) => t.sft],
  ]);
  for (const s of Object.keys(seeds[0]?.[0]?.strategies ?? {})) entries.set(s, (t) => t.strategies[s]);
  for (const s of Object.keys(seeds[0]?.[0]?.with_base_candidate ?? {})) entries.set(`${s}+base`, (t) => t.with_base_candidate[s]);
  const groups: Record<Group, (t: RealTarget) => boolean> = { all: () => true, between: (t) => t.kind === 'between', outside: (t) => t.kind === 'outside' };
  const out: Record<string, Record<Group, Aggregate>> = {};
  for (const [entry, pick] of entries) {
    out[entry] = {} as Record<Group, Aggregate>;
    for (const [group, keep] of Object.entries(groups) as [Group, (t: RealTarget) => boolean][]) {
      const perSeed = seeds.map((targets) => targets.filter(keep));
      const values = (f: (t: RealTarget) => number | undefined) => perSeed.map((ts) => mean(ts.map(f).filter((v): v is number => v !== undefined)));
      const acc = values((t) => pick(t)?.accuracy);
      const nll = values((t) => pick(t)?.nll);
      const baseAcc = mean(values((t) => t.base.accuracy));
      const sftAcc = mean(values((t) => t.sft.accuracy));
      out[entry][group] = {
        accuracy_mean: mean(acc),
        accuracy_std: std(acc),
        nll_mean: mean(nll),
        nll_std: std(nll),
        gap_closed: (mean(acc) - baseAcc) / (sftAcc - baseAcc),
      };
    }
  }
  return out;
}
