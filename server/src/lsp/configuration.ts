/**
 * The settings after initialize: read through workspace/configuration when the client offers it, else
 * from didChangeConfiguration's payload, over what initialize said; a change re-plans every recipe.
 * Trust can only be taken away here, never granted (lsp/settings.ts reads and validates the values).
 */
import { describeError } from './serverLog';
import { readSettings } from './settings';
import type { ServerSettings } from './settings';
import type { ServerState } from './serverState';

export async function refreshSettings(state: ServerState): Promise<void> {
  if (!state.capabilities.workspace?.configuration) return;
  try {
    const raw: unknown = await state.connection.workspace.getConfiguration('adapterCompose');
    // Clients without these settings answer null: keep what initializationOptions said.
    applySettings(state, readSettings(raw, state.initialSettings));
  } catch (e) {
    state.log.warn(`could not read settings: ${describeError(e)}`);
  }
}

function applySettings(state: ServerState, next: ServerSettings): void {
  // Trust comes with initialize (the client restarts the server when it changes); settings cannot grant it.
  next.trusted = next.trusted && state.initiallyTrusted;
  const changed = JSON.stringify(next) !== JSON.stringify(state.settings);
  state.settings = next;
  state.log.level = next.logLevel;
  state.libraryWatch.start(next.libraryPollMs);
  if (changed) {
    state.planner.invalidate();
    state.scheduler.replanAll();
  }
}

export function registerConfiguration(state: ServerState): void {
  state.connection.onDidChangeConfiguration(
    state.guarded('configuration', undefined, async (change) => {
      if (state.capabilities.workspace?.configuration) await refreshSettings(state);
      else applySettings(state, readSettings((change.settings as Record<string, unknown> | undefined) ?? {}, state.initialSettings));
    }),
  );
}
