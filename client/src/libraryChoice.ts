/**
 * Which library "Open Library" and "Add Adapter to Library" act on, without VS Code (tested in
 * test/lsp/settings.test.ts): the active recipe's (its plan names it, resolved by the server), the
 * server's status, then the `libraryUri` setting, resolved as the server resolves it (settingLibrary).
 */
import { settingLibrary } from '../../server/src/lsp/settings';

export interface LibraryChoice {
  /** plan.library.uri of the active recipe (absolute, as the server resolved it). */
  fromPlan?: string;
  /** The server's status: the library of the last plan. */
  fromStatus?: string;
  /** The `adapterCompose.libraryUri` setting, as written. */
  setting?: string;
  /** The active recipe's file (not a base for the setting: the server resolves it against the workspace). */
  recipeFile?: string;
  /** The first workspace folder. */
  workspaceFolder?: string;
}

export function chooseLibrary(c: LibraryChoice): string | undefined {
  return c.fromPlan || c.fromStatus || settingLibrary(c.setting, c.workspaceFolder);
}
