/**
 * What a new plan of an open recipe sends the client: its diagnostics, the plan notification (the
 * plan, or why there is none), the status bar's library / encoder / provider, the library folders to
 * watch, and a refresh of code lenses (once the client has fetched this recipe's) and inlay hints where
 * the client supports it.
 */
import * as path from 'node:path';
import { CodeLensRefreshRequest } from 'vscode-languageserver/node';
import { PlanNotification } from '../protocol';
import type { PlanParams } from '../protocol';
import { diagnostics } from '../service/diagnostics';
import type { TrackedRecipe } from './planScheduler';
import type { ServerState } from './serverState';
import { notify } from './typedConnection';

export function publish(state: ServerState, recipe: TrackedRecipe): void {
  const { connection, scheduler, capabilities } = state;
  const view = scheduler.currentView(recipe);
  void connection.sendDiagnostics({ uri: recipe.uri, version: recipe.version, diagnostics: diagnostics(view) });
  const outcome = recipe.outcome;
  if (!outcome?.isRecipe) return;
  const plan = outcome.plan;
  const firstError = outcome.problems.find((p) => p.severity === 'error');
  const params: PlanParams = { uri: recipe.uri, version: recipe.version, plan: plan ?? null };
  if (!plan) params.error = firstError?.message ?? 'The recipe cannot be planned yet.';
  notify(connection, PlanNotification, params);
  if (plan?.library) {
    state.sendStatus({
      librarySize: plan.library.size,
      libraryUri: plan.library.uri,
      encoder: plan.library.encoder ? encoderLabel(plan.library.encoder) : undefined,
      provider: plan.provider ?? state.planner.lastProvider() ?? state.status.provider,
      message: undefined,
    });
  } else if (firstError) {
    state.sendStatus({ message: firstError.message });
  }
  state.libraryWatch.setLibraries(scheduler.all().flatMap((r) => (r.outcome?.plan?.library?.uri ? [r.outcome.plan.library.uri] : [])));
  if (capabilities.workspace?.codeLens?.refreshSupport && state.lensesFetched.has(recipe.uri)) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
  if (capabilities.workspace?.inlayHint?.refreshSupport) void connection.languages.inlayHint.refresh().catch(() => undefined);
}

function encoderLabel(e: { sha256?: string; dim: number; path?: string }): string {
  if (e.path) return `${path.basename(e.path)} (${e.dim}-d)`;
  if (e.sha256) return `${e.sha256.slice(0, 12)} (${e.dim}-d)`;
  return `${e.dim}-d features`;
}
