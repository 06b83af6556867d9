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
