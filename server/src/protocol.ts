/**
 * The contract between the language server and its clients (VS Code, Neovim, the webview host).
 * No imports: both sides compile this file.
 */

/** Commands the VS Code client advertises; code lenses invoke them with `[uri, ...]`. */
export const ClientCommands = {
  compose: 'adapterCompose.compose',
  showChart: 'adapterCompose.showChart',
  pinWeights: 'adapterCompose.pinWeights',
  addAdapter: 'adapterCompose.addAdapter',
  openLibrary: 'adapterCompose.openLibrary',
  showOutput: 'adapterCompose.showOutput',
  /** args: [uri?] → shows the recipe's lock against HEAD (CompareRequest) in the weights panel. */
  compareWithHead: 'adapterCompose.compareWithHead',
  /** The library view's context actions (args: the tree item) and the map. */
  refreshLibraries: 'adapterCompose.refreshLibraries',
  showAdapterCard: 'adapterCompose.showAdapterCard',
  revealAdapterFiles: 'adapterCompose.revealAdapterFiles',
  addToRecipe: 'adapterCompose.addToRecipe',
  addManualToRecipe: 'adapterCompose.addManualToRecipe',
  removeFromLibrary: 'adapterCompose.removeFromLibrary',
  showLibraryMap: 'adapterCompose.showLibraryMap',
  newRecipe: 'adapterCompose.newRecipe',
  buildDemo: 'adapterCompose.buildDemo',
  /** args: [uri?] → EvaluationResult | undefined: the leave-one-out evaluation of the recipe's library, shown in the weights panel. */
  evaluate: 'adapterCompose.evaluate',
} as const;

/** Commands the server executes through `workspace/executeCommand`. */
export const ServerCommands = {
  /** args: [uri] → PlanJson */
  plan: 'adapterCompose.server.plan',
  /** args: [uri] → ComposeJson; reports `$/progress` when the request carries a workDoneToken. */
  compose: 'adapterCompose.server.compose',
  /** args: [uri, strategy?] → WorkspaceEdit applied by the server (writes `manual` weights). */
  pinWeights: 'adapterCompose.server.pinWeights',
  /** args: [uri, lambda] → sets `weights.lambda` in the recipe. */
  setLambda: 'adapterCompose.server.setLambda',
  /** args: [uri] → RunHistoryEntry[] */
  history: 'adapterCompose.server.history',
  /**
   * args: [uri, adapter, as] with as = 'exclude' | 'manual' | 'toggle-exclude' → {applied, edit}: adds the
   * adapter to the recipe's `retrieve.exclude` (toggle: removes it when there) or `weights.manual`
   * (weight 0), as one minimal edit applied by the server.
   */
  addToRecipe: 'adapterCompose.server.addToRecipe',
  /**
   * args: [uri] → EvaluationResult: `eval <recipe> --leave-one-out` on the recipe's library (its base, k, ρ/λ,
   * form) and, when the recipe has `evaluate:`, each strategy's composite scored by that evaluator. Runs in
   * a worker; reports `$/progress` when the request carries a workDoneToken; cancellable. Trusted only.
   */
  evaluate: 'adapterCompose.server.evaluate',
} as const;

/** `adapterCompose/status`, server → client, whenever it changes. */
export const StatusNotification = 'adapterCompose/status';
export interface StatusParams {
  state: 'idle' | 'busy' | 'error';
  /** Adapters in the library of the active recipe (when known). */
  librarySize?: number;
  libraryUri?: string;
  encoder?: string;
  /** Execution provider that ran the encoder last (cpu, cuda, …). */
  provider?: string;
  message?: string;
}

/** `adapterCompose/plan`, server → client, after every fresh plan of an open recipe. */
export const PlanNotification = 'adapterCompose/plan';
export interface PlanParams {
  uri: string;
  version: number;
  /** PlanJson, or null with `error` when the recipe cannot be planned yet. */
  plan: unknown;
  error?: string;
}

/**
 * `adapterCompose/compareWithRevision`, client → server request: the recipe's lock in the working
 * tree against the same lock at a git revision (default HEAD) — what `adapter-composer diff <recipe>
 * --against <rev> --json` prints. Fails (RequestFailed, with what to do) when the recipe has no lock,
 * is not in a git repository, or its lock does not exist at that revision.
 */
export const CompareRequest = 'adapterCompose/compareWithRevision';
export interface CompareParams {
  uri: string;
  revision?: string;
}
export interface CompareResult {
  /** Labels of the two sides, e.g. `HEAD:recipes/a.compose.lock` and `recipes/a.compose.lock`. */
  old: string;
  new: string;
  /** Every adapter of either lock, sorted by |delta| then name; null where absent on that side. */
  weights: { adapter: string; old: number | null; new: number | null; delta: number }[];
  added: string[];
  removed: string[];
  changed: { field: string; old: unknown; new: unknown }[];
  metrics: { metric: string; old: number | null; new: number | null }[];
  same: boolean;
}

export const LanguageId = 'adapter-compose';

/**
 * The library view (client → server requests). Libraries are those the workspace's recipes name
 * (`library:`) and the `adapterCompose.libraryUri` setting; adapters come a page at a time, so a
 * 100k-row library is never read whole to draw a tree. Neovim and other clients: the same requests,
 * or `adapter-composer library ls <uri> --json` (see docs/editors.md).
 */
export const LibraryRequests = {
  /** {} → LibrarySummary[] */
  list: 'adapterCompose/libraries',
  /** {library} → LibraryGroup[] (adapters per base and per tag; reads only those two columns) */
  groups: 'adapterCompose/libraryGroups',
  /** LibraryPageParams → LibraryPage */
  page: 'adapterCompose/libraryPage',
  /** {library, name} → {markdown, record} (the adapter card) */
  card: 'adapterCompose/adapterCard',
  /** LibraryMapParams → LibraryMap */
  map: 'adapterCompose/libraryMap',
} as const;

export interface LibrarySummary {
  /** Absolute path or URI, as the server opens it. */
  uri: string;
  /** Where the workspace names it: recipe URIs, and 'setting' for adapterCompose.libraryUri. */
  usedBy: string[];
  size?: number;
  version?: number;
  dim?: number;
  /** Why it cannot be opened (missing folder, damaged table). */
  error?: string;
}

export interface LibraryGroup {
  base: string;
  count: number;
  /** Tag → adapters of this base with that tag. */
  tags: Record<string, number>;
}

export interface LibraryPageParams {
  library: string;
  base?: string;
  tag?: string;
  offset?: number;
  /** At most 500. */
  limit?: number;
}

export interface LibraryAdapterRow {
  name: string;
  base: string;
  rank: number;
  alpha: number;
  format: string;
  modules: number;
  tags: string[];
  description: string;
  path: string;
  /** Bytes of the adapter's files (a local folder's direct files, or the file); absent for remote ones. */
  bytes?: number;
}

export interface LibraryPage {
  library: string;
  version: number;
  /** Rows matching base/tag in all. */
  total: number;
  offset: number;
  rows: LibraryAdapterRow[];
}

export interface LibraryMapParams {
  /** The recipe whose target, candidates and exclusions are drawn (its library is mapped). */
  uri?: string;
  /** Or a library alone. */
  library?: string;
  /** Most library points to project (default 1000); the candidates always are. */
  sample?: number;
}

export interface LibraryMapPoint {
  name: string;
  x: number;
  y: number;
  role: 'library' | 'candidate' | 'excluded';
  /** The selected strategy's weight, for candidates. */
  weight?: number;
  /** One-line card: base · rank · α · tags. */
  card: string;
}

export interface LibraryMap {
  library: string;
  version: number;
  base?: string;
  /** Rows of the mapped library (of the recipe's base, when it has one). */
  total: number;
  /** Rows the basis was computed from (all of them, or the sample). */
  basisRows: number;
  /** True when only a deterministic sample (plus the candidates) is drawn. */
  sampled: boolean;
  /** Share of the variance along x and y. */
  explained: number[];
  points: LibraryMapPoint[];
  target?: { x: number; y: number };
  /** Indices into points of the candidates' convex hull in 2D, counter-clockwise. */
  hull: number[];
  strategy?: string;
}

/** One strategy's row of the leave-one-out summary (ΔW distances to the held-out adapters). */
export interface LeaveOneOutSummaryRow {
  mean_delta_rel_error: number;
  median_delta_rel_error: number;
  mean_delta_cosine: number;
  mean_residual: number;
  mean_nonzero: number;
  /** Held-out adapters on which this strategy has the smallest ΔW error (ties count for each). */
  wins: number;
}

/**
 * What ServerCommands.evaluate returns (the engine's RecipeEvaluation, engine/eval/recipeEvaluation.ts; only
 * the fields clients read are spelled out here). `leaveOneOut` is `eval <recipe> --leave-one-out --json`;
 * `metrics` is `eval --leave-one-out --with-evaluator <recipe> --json`.
 */
export interface EvaluationResult {
  recipe: string;
  leaveOneOut: {
    library: { uri: string; version: number; size: number };
    k: number;
    lambda: number | 'auto';
    rho?: number;
    form?: string;
    strategies: string[];
    targets: { target: string; strategies: Record<string, { delta_rel_error: number; delta_cosine: number; nonzero: number } | undefined> }[];
    summary: Record<string, LeaveOneOutSummaryRow | undefined>;
    skipped: { target: string; reason: string }[];
    warnings: string[];
    stats: { total_ms: number };
  };
  metrics?: {
    targets: {
      name: string;
      held_out?: string;
      base?: Record<string, number>;
      held_out_metrics?: Record<string, number>;
      strategies: Record<string, { metrics: Record<string, number>; status: string; message?: string } | undefined>;
    }[];
    total_ms: number;
  };
  metricsNote?: string;
  time: string;
  total_ms: number;
}

/** The weights panel's leave-one-out section: idle, running (with progress), done, failed or cancelled. */
export type EvaluationView =
  | { state: 'running'; message?: string; percentage?: number }
  | { state: 'done'; result: EvaluationResult }
  | { state: 'failed' | 'cancelled'; message: string; result?: EvaluationResult };

/** Webview → extension: run the leave-one-out evaluation of the recipe, or cancel the one running. */
export type EvaluationViewMessage = { type: 'evaluate'; uri: string } | { type: 'cancelEvaluation'; uri: string };
