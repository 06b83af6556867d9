/**
 * The language server: makes the connection (stdio, node IPC, socket or pipe, as argv says) and the
 * state its handlers share (serverState.ts), then connects the handler groups, one per file:
 *
 *   lifecycle.ts        initialize (capabilities), initialized (registrations), shutdown
 *   configuration.ts    settings after initialize (workspace/configuration, didChangeConfiguration)
 *   documents.ts        document sync and watched files → the plan scheduler (planScheduler.ts)
 *   publish.ts          what a new plan sends: diagnostics, the plan notification, the status
 *   features.ts         code lens, inlay hints, completion, hover, definition, symbols, code actions
 *   commands.ts         workspace/executeCommand (plan, pin, λ, add to recipe, history) and compare
 *   workerJobs.ts       compose and evaluate in the compose worker, with $/progress
 *   libraryRequests.ts  the library view's requests
 *
 * The features themselves live in server/src/service (one per file, no transport); the method names and
 * types in server/src/protocol.ts, reached through typedConnection.ts. Any LSP client works (VS Code,
 * Neovim, Helix): nothing here assumes VS Code.
 */
import { ProposedFeatures, TextDocuments, createConnection } from 'vscode-languageserver/node';
import type { Connection } from 'vscode-languageserver/node';
import { createPlanner } from '../engine/planner';
import type { Planner } from '../engine/planner';
import { RecipeSchema, loadRecipeSchema } from '../service/recipeSchema';
import { boundedDocuments } from './boundedDocuments';
import { registerCommands } from './commands';
import { registerConfiguration } from './configuration';
import { registerDocuments } from './documents';
import { registerFeatures } from './features';
import { registerLibraryRequests } from './libraryRequests';
import { registerLifecycle } from './lifecycle';
import { publish } from './publish';
import { ServerLog } from './serverLog';
import { ServerState } from './serverState';

export interface LanguageServerOptions {
  /** The engine to plan with (tests pass a fake); default: the engine's planner. */
  planner?: Planner;
}

export function startLanguageServer(argv: string[] = process.argv.slice(2), options: LanguageServerOptions = {}): Connection {
  // createConnection picks the transport from process.argv (and patches console for --stdio).
  for (const flag of ['--stdio', '--node-ipc']) if (argv.includes(flag) && !process.argv.includes(flag)) process.argv.push(flag);
  const socket = argv.find((a) => a.startsWith('--socket=') || a.startsWith('--pipe='));
  if (socket && !process.argv.includes(socket)) process.argv.push(socket);

  const connection = createConnection(ProposedFeatures.all);
  const log = new ServerLog(connection.console);
  // Bounded: a huge buffer's edits cost O(1) and it is reported as too large, never parsed.
  const documents = new TextDocuments(boundedDocuments);
  const planner = options.planner ?? createPlanner();
  const schemaJson = loadRecipeSchema();
  const schema = schemaJson ? new RecipeSchema(schemaJson) : undefined;
  const state = new ServerState(connection, log, planner, schema, publish);

  registerLifecycle(state);
  registerConfiguration(state);
  registerDocuments(state, documents);
  registerFeatures(state);
  registerCommands(state);
  registerLibraryRequests(state);

  documents.listen(connection);
  connection.listen();
  return connection;
}
