/**
 * The library view's requests (libraries of the workspace, groups, pages, an adapter's card, the map):
 * parameters checked here, answered by server/src/service/libraryView.ts; bad input and libraries that
 * do not open answer RequestFailed with the reason.
 */
import { ResponseError } from 'vscode-languageserver/node';
import { LibraryRequests } from '../protocol';
import { libraryCard, recipeLibraries } from '../service/libraryView';
import { resolveLocation } from '../engine/location';
import { documentUri } from '../service/documentUri';
import type { RecipeView } from '../service/recipeView';
import { describeError } from './serverLog';
import { settingLibrary } from './settings';
import { firstProblem, userError } from './serverState';
import type { ServerState } from './serverState';
import { onRequest } from './typedConnection';

export function registerLibraryRequests(state: ServerState): void {
  const { connection, log, libraryViews, scheduler } = state;

  /** Libraries the workspace uses: recipes on disk, open recipes, and the libraryUri setting. */
  function workspaceLibraries(): { uri: string; usedBy: string }[] {
    const out: { uri: string; usedBy: string }[] = [];
    if (state.workspaceRoot) for (const r of recipeLibraries(state.workspaceRoot)) out.push({ uri: r.library, usedBy: documentUri(r.recipe) });
    for (const r of scheduler.all()) {
      const library = r.outcome?.paths?.library;
      if (library) out.push({ uri: library, usedBy: r.uri });
    }
    const fromSetting = settingLibrary(state.settings.libraryUri, state.workspaceRoot);
    if (fromSetting) out.push({ uri: fromSetting, usedBy: 'setting' });
    return out;
  }

  function libraryParam(value: unknown): string {
    if (typeof value !== 'string' || !value) throw userError('the request needs a `library` (path or URI)');
    return resolveLocation(value, state.workspaceRoot ?? process.cwd());
  }

  /** A library request: bad input and unopenable libraries become RequestFailed with the reason. */
  function libraryRequest<P, R>(name: string, handler: (params: P) => Promise<R>): (params: P) => Promise<R> {
    return async (params: P) => {
      try {
        return await handler(params);
      } catch (e) {
        if (e instanceof ResponseError) throw e;
        log.info(`${name}: ${describeError(e)}`);
        throw userError(describeError(e));
      }
    };
  }

  onRequest(connection, LibraryRequests.list, libraryRequest('libraries', async () => libraryViews.summaries(workspaceLibraries())));
  onRequest(connection, LibraryRequests.groups, libraryRequest('library groups', async (p) => libraryViews.groups(libraryParam(p.library))));
  onRequest(connection, LibraryRequests.page, libraryRequest('library page', async (p) =>
    libraryViews.page(libraryParam(p.library), {
      base: typeof p.base === 'string' ? p.base : undefined,
      tag: typeof p.tag === 'string' ? p.tag : undefined,
      offset: typeof p.offset === 'number' ? p.offset : 0,
      limit: typeof p.limit === 'number' ? p.limit : undefined,
    })));
  onRequest(connection, LibraryRequests.card, libraryRequest('adapter card', async (p) => {
    const library = libraryParam(p.library);
    if (typeof p.name !== 'string') throw userError('the request needs the adapter `name`');
    const record = await libraryViews.record(library, p.name);
    if (!record) throw userError(`no adapter named '${p.name}' in the library at ${library}`);
    const { prototype, ...rest } = record;
    return { markdown: libraryCard(record), record: { ...rest, prototype_dim: prototype.length } };
  }));
  onRequest(connection, LibraryRequests.map, libraryRequest('library map', async (p) => {
    let view: RecipeView | undefined;
    let library: string | undefined;
    if (typeof p.uri === 'string') {
      view = await state.requireView(p.uri);
      library = view.outcome?.paths?.library;
      if (!library) throw userError(firstProblem(view) ?? 'the recipe names no library that opens');
    } else library = libraryParam(p.library);
    const base = view?.outcome?.recipe?.spec.base;
    return libraryViews.map(library, { base: typeof base === 'string' && base ? base : undefined, sample: typeof p.sample === 'number' ? p.sample : undefined, view });
  }));
}
