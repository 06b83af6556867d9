/**
 * The contract between the language server and its clients (VS Code, Neovim), and between the VS Code
 * extension and its webviews: every custom method, command and message, with its parameters and
 * result, in one place (the shape of rust-analyzer's lsp_ext.rs). Method names appear nowhere else
 * (test/architecture-protocol.test.ts checks); client and server go through the typed helpers
 * (client/src/serverCommands.ts, server/src/lsp/typedConnection.ts) keyed by the maps at the end.
 * Type-only imports: the client, the server and the webview all compile this file, and it adds no code.
 * Longer than ~350 lines on purpose: it is the whole contract, kept in one file.
 */
import type { TextEdit } from 'vscode-languageserver-types';
import type { ComposeJson } from './engine/compose';
import type { StrategySummary } from './engine/eval/leaveOneOut';
import type { AdapterRecord, PlanJson, RunHistoryEntry as RecordedRun, Strategy } from './engine/types';

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
  /** The "load more" row of a paged tree node (args: the node). */
  libraryLoadMore: 'adapterCompose.libraryLoadMore',
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
  /** args: [uri, lambda] → sets `weights.rho` = λ/λ* in the recipe, or `weights.lambda` when the recipe gives an absolute λ (3 significant figures). */
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
  /** The plan, or null with `error` when the recipe cannot be planned yet. */
  plan: PlanJson | null;
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

/** One strategy's row of the leave-one-out summary (ΔW distances to the held-out adapters): the engine's own type. */
export type LeaveOneOutSummaryRow = StrategySummary;

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

/** {library} for LibraryRequests.groups. */
export interface LibraryGroupsParams {
  library: string;
}

/** {library, name} for LibraryRequests.card. */
export interface AdapterCardParams {
  library: string;
  name: string;
}

export interface AdapterCard {
  markdown: string;
  /** The library row without its prototype vector (only its dimension). */
  record: Omit<AdapterRecord, 'prototype'> & { prototype_dim: number };
}

/** How ServerCommands.addToRecipe adds an adapter. */
export type AddToRecipeAs = 'exclude' | 'manual' | 'toggle-exclude';

// ---- The maps: method → parameters and result. Helpers on both sides are generic over these keys. ----

/** Client → server requests. */
export interface RequestTypes {
  [CompareRequest]: { params: CompareParams; result: CompareResult };
  [LibraryRequests.list]: { params: Record<string, never>; result: LibrarySummary[] };
  [LibraryRequests.groups]: { params: LibraryGroupsParams; result: LibraryGroup[] };
  [LibraryRequests.page]: { params: LibraryPageParams; result: LibraryPage };
  [LibraryRequests.card]: { params: AdapterCardParams; result: AdapterCard };
  [LibraryRequests.map]: { params: LibraryMapParams; result: LibraryMap };
}

/** Server → client notifications. */
export interface NotificationTypes {
  [StatusNotification]: StatusParams;
  [PlanNotification]: PlanParams;
}

/** `workspace/executeCommand` commands the server runs: `arguments` and result. */
export interface ServerCommandTypes {
  [ServerCommands.plan]: { args: [uri: string]; result: PlanJson };
  [ServerCommands.compose]: { args: [uri: string]; result: ComposeJson };
  [ServerCommands.pinWeights]: { args: [uri: string, strategy?: Strategy]; result: { applied: boolean } };
  [ServerCommands.setLambda]: { args: [uri: string, lambda: number]; result: { applied: boolean } };
  [ServerCommands.history]: { args: [uri: string]; result: RecordedRun[] };
  [ServerCommands.addToRecipe]: { args: [uri: string, adapter: string, as: AddToRecipeAs]; result: { applied: boolean; edit: TextEdit } };
  [ServerCommands.evaluate]: { args: [uri: string]; result: EvaluationResult };
}

/** Client commands the server puts in code lenses: their `arguments`. */
export interface LensCommandTypes {
  [ClientCommands.compose]: [uri: string];
  [ClientCommands.showChart]: [uri: string];
  [ClientCommands.pinWeights]: [uri: string];
}

export type RequestMethod = keyof RequestTypes;
export type RequestParams<M extends RequestMethod> = RequestTypes[M]['params'];
export type RequestResult<M extends RequestMethod> = RequestTypes[M]['result'];
export type NotificationMethod = keyof NotificationTypes;
export type ServerCommand = keyof ServerCommandTypes;
export type CommandArgs<C extends ServerCommand> = ServerCommandTypes[C]['args'];
export type CommandResult<C extends ServerCommand> = ServerCommandTypes[C]['result'];
export type LensCommand = keyof LensCommandTypes;
/** What a server handler receives: the client's parameters, every field still to be checked. */
export type Untrusted<P> = { [K in keyof P]?: unknown };

// ---- The webviews (extension ↔ panel, by postMessage) ----

/** One compose run as ServerCommands.history returns it; read tolerantly (only `metrics` is required). */
export type RunHistoryEntry = Pick<RecordedRun, 'metrics'> & Partial<RecordedRun>;

/** What the weights panel draws: the client builds it from the plan notifications; the panel is a pure function of it. */
export interface ViewState {
  uri: string;
  fileName: string;
  version?: number;
  /** The latest plan that succeeded (kept while the recipe has an error, then `stale` is true). */
  plan: PlanJson | null;
  stale?: boolean;
  /** Why the recipe cannot be planned right now. */
  error?: string;
  history: RunHistoryEntry[];
  /** sha256 of the recipe's lock file as it is on disk now: the run with this `lock_sha256` is marked current. */
  lockSha256?: string;
  /** False in an untrusted workspace: Compose and evaluators are off, planning still works. */
  trusted: boolean;
  /** "Compare with HEAD": the recipe's lock now against HEAD, until the panel follows another recipe. */
  comparison?: CompareResult;
  /** The leave-one-out evaluation of this recipe's library (and its evaluator's metrics), once run. */
  evaluation?: EvaluationView;
}

/** Extension → weights panel. */
export type HostMessage = { type: 'state'; state: ViewState } | { type: 'empty'; message: string };

/** Weights panel → extension. */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'setLambda'; uri: string; lambda: number }
  | { type: 'compose'; uri: string }
  | EvaluationViewMessage;

/** Extension → library map panel. */
export type MapHostMessage =
  | { type: 'map'; uri?: string; fileName?: string; map: LibraryMap }
  | { type: 'empty'; message: string };

/** Library map panel → extension. */
export type MapViewMessage = { type: 'ready' } | { type: 'toggleExclude'; uri: string; name: string };
