/**
 * The merge's contract: its inputs, options and result, apart from the code (merge.ts streams the
 * output, mergePlanning.ts decides it, truncationPrediction.ts predicts an svd merge's loss), so that
 * each of those files can name them without importing another.
 */
import type { MatMulEngine } from '../onnx/matmul';
import type { ProviderRequest } from '../onnx/session';
import type { OutputLayout } from './compositeLayout';
import type { TruncationRoute } from './denseTruncation';
import type { FloatDType } from './dtypes';
import type { EntrywiseMethod } from './entrywiseMerge';
import type { RecordedFacts } from '../library/integrity';
import type { PanelProducts } from './panelProducts';

export interface MergeInput {
  name: string;
  path: string;
  weight: number;
  /** The library row's facts: the bytes read must hash to its sha256 and the config give its ranks/α. */
  expect?: RecordedFacts;
}

export type MergeMethod = 'cat' | 'svd' | EntrywiseMethod;
export type ModulesToSavePolicy = 'refuse' | 'drop' | 'average';

export interface MergeProgress {
  modulesDone: number;
  modulesTotal: number;
  bytesWritten: number;
  bytesTotal: number;
}

export interface MergeOptions {
  method: MergeMethod;
  /** svd: the output rank (default: the largest input rank). */
  rank?: number;
  /** Entry-wise methods: the fraction of entries kept, in (0, 1] (default 0.2). */
  density?: number;
  /** DARE's seed, an integer (default 0). */
  seed?: number;
  /** Entry-wise methods: mergekit's normalize (divide by the contributing weights' sum); default false (sum). */
  normalize?: boolean;
  /** Entry-wise methods: how the dense result is truncated (default auto: exact up to min(m, n) = 1024). */
  truncation?: 'auto' | TruncationRoute;
  /** Output dtype (bf16, f16, f32, f64); default: the inputs' (the widest when they differ). */
  dtype?: string;
  /** Full replacement weights (PEFT modules_to_save): refuse (default), drop, or average with the merge weights. */
  modulesToSave?: ModulesToSavePolicy;
  /** Output layout; default: the inputs' format when they share one, else PEFT. */
  layout?: OutputLayout;
  signal?: AbortSignal;
  onProgress?: (p: MergeProgress) => void;
  /** Where the heavy products run: ONNX Runtime when it loads ('auto', default), or plain JS. */
  products?: 'auto' | 'js' | 'onnx' | PanelProducts;
  /**
   * svd: worker threads for the R×R steps, overlapping the next modules' decode and Grams (N workers:
   * N modules prepared ahead); default, when the merge has at least 8 modules of inner rank ≥ 32,
   * 1 on up to 6 cores, then one per 3 cores, at most 4; else 0 (inline). Never more than the modules
   * whose panels fit 256 MB ahead (mergeThreads.ts). The bytes written do not depend on it (the same
   * code runs either way).
   */
  mixThreads?: number;
  /** An ORT MatMul engine to reuse (otherwise one is created and disposed for this merge). */
  engine?: MatMulEngine;
  /** The execution provider the products ask for (the recipe's / the editor's setting; default cpu). */
  provider?: ProviderRequest;
  /**
   * The caller (compose) has checked that an existing output may be replaced; otherwise only an
   * empty folder or one holding compose's composition.json is.
   */
  outputChecked?: boolean;
  /** The folder the output must really lie in when it is created and published (compose: the workspace, unless allowed outside). */
  outputWithin?: string;
  /** Called with the finished files (and the inputs' sha256) before the output is replaced; throwing leaves the output as it was. */
  beforePublish?: (files: { path: string; sha256: string }[], inputs: { name: string; sha256: string }[]) => void;
  /**
   * Called synchronously right after the output is published (compose renames its lock into place
   * here): nothing asynchronous runs between the two, so a signal (whose handler runs on the event
   * loop) cannot end the process with the new output beside the previous lock. What it throws is the
   * caller's own error (the output is already replaced).
   */
  afterPublish?: () => void;
  /** The library the inputs' `expect` facts come from (named in the fix of a mismatch). */
  libraryUri?: string;
  /** The base model, written into the metadata of layouts that have no config for it (kohya, diffusers, cloneofsimo). */
  baseModel?: string;
  /** The composite's title (modelspec.title): the recipe's name. */
  title?: string;
}

export interface MergeResult {
  outputDir: string;
  method: MergeMethod;
  layout: OutputLayout;
  dtype: FloatDType;
  modules: number;
  /** The most common output rank; `ranks` lists every module. */
  rank: number;
  ranks: Record<string, number>;
  energyKept: { min: number; mean: number; perModule: Record<string, number> };
  files: { path: string; sha256: string }[];
  /** Per input, the sha256 of the weights-file bytes that were parsed and merged. */
  inputs: { name: string; sha256: string }[];
  modulesToSave: { policy: ModulesToSavePolicy; names: string[] };
  /** Where the heavy products ran (js, onnxruntime-cpu, …). */
  products: string;
  warnings: string[];
  /** Entry-wise methods: the parameters and, per module, the truncation's relative error and route. */
  entrywise?: { density: number; seed: number; normalize: boolean; relativeError: Record<string, number>; route: Record<string, TruncationRoute> };
}
