/**
 * What the weights panel draws, and the messages between the panel and the extension.
 * The client builds a ViewState from the server's plan notifications; the webview is a pure function of it.
 */
import type { PlanJson, RunHistoryEntry as RecordedRun } from '../../server/src/engine/types';
import type { CompareResult, EvaluationView, EvaluationViewMessage } from '../../server/src/protocol';

/** One compose run as `adapterCompose.server.history` returns it; read tolerantly (only `metrics` is required). */
export type RunHistoryEntry = Pick<RecordedRun, 'metrics'> & Partial<RecordedRun>;

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

/** extension → webview */
export type HostMessage = { type: 'state'; state: ViewState } | { type: 'empty'; message: string };

/** webview → extension */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'setLambda'; uri: string; lambda: number }
  | { type: 'compose'; uri: string }
  | EvaluationViewMessage;
