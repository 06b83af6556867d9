/**
 * workspace/executeCommand and the compare request: the recipe commands of server/src/protocol.ts
 * (plan, pin weights, set λ, add to recipe, history; compose and evaluate via workerJobs.ts), each on
 * the recipe's view — an open buffer, else the saved file. Edits go through workspace/applyEdit; bad
 * arguments and failures answer RequestFailed with the reason.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { readRecipeHistory } from '../engine/history/runHistory';
import type { Strategy } from '../engine/types';
import { STRATEGIES } from '../engine/types';
import { CompareRequest, ServerCommands } from '../protocol';
import { addToRecipeEdit } from '../service/libraryView';
import { compareWithRevision } from '../service/compare';
import { pinWeightsEdit, setLambdaEdit } from '../service/commands';
import { savedFileOf } from '../service/documentUri';
import { describeError } from './serverLog';
import { firstProblem, userError } from './serverState';
import type { ServerState } from './serverState';
import { commandResult, onRequest } from './typedConnection';
import { composeCommand, evaluateCommand } from './workerJobs';

export function registerCommands(state: ServerState): void {
  const { connection, log } = state;

  connection.onExecuteCommand(async (params, token, workDone) => {
    const args: unknown[] = params.arguments ?? [];
    const uri = typeof args[0] === 'string' ? args[0] : undefined;
    try {
      if (!uri) throw userError(`${params.command} needs the recipe's URI as its first argument`);
      switch (params.command) {
        case ServerCommands.plan: {
          const view = await state.requireView(uri);
          if (!view.outcome?.plan) throw userError(firstProblem(view) ?? 'The recipe cannot be planned yet.');
          return commandResult(ServerCommands.plan, view.outcome.plan);
        }
        case ServerCommands.pinWeights: {
          const view = await state.requireView(uri);
          const strategy = typeof args[1] === 'string' && (STRATEGIES as readonly string[]).includes(args[1]) ? (args[1] as Strategy) : undefined;
          const edit = pinWeightsEdit(view, strategy);
          if (!edit) throw userError(firstProblem(view) ?? 'No computed weights to pin yet.');
          const result = await connection.workspace.applyEdit({ label: 'Pin weights', edit });
          return commandResult(ServerCommands.pinWeights, { applied: result.applied });
        }
        case ServerCommands.setLambda: {
          const view = await state.requireView(uri);
          const lambda = typeof args[1] === 'number' ? args[1] : Number(args[1]);
          let edit;
          try {
            edit = setLambdaEdit(view, lambda);
          } catch (e) {
            throw userError((e as Error).message);
          }
          const result = await connection.workspace.applyEdit({ label: 'Set λ', edit });
          return commandResult(ServerCommands.setLambda, { applied: result.applied });
        }
        case ServerCommands.addToRecipe: {
          const view = await state.requireView(uri);
          const name = typeof args[1] === 'string' ? args[1] : '';
          const as = args[2] === 'manual' || args[2] === 'toggle-exclude' ? args[2] : 'exclude';
          if (!name) throw userError(`${ServerCommands.addToRecipe} needs [uri, adapter, as]`);
          let edit;
          try {
            edit = addToRecipeEdit(view, name, as);
          } catch (e) {
            throw userError((e as Error).message);
          }
          const label = as === 'manual' ? `Add ${name} to weights.manual` : `Toggle ${name} in retrieve.exclude`;
          const result = await connection.workspace.applyEdit({ label, edit: { changes: { [uri]: [edit] } } });
          return commandResult(ServerCommands.addToRecipe, { applied: result.applied, edit });
        }
        case ServerCommands.compose:
          return await composeCommand(state, uri, token, workDone, params.workDoneToken !== undefined);
        case ServerCommands.evaluate:
          return await evaluateCommand(state, uri, token, workDone, params.workDoneToken !== undefined);
        case ServerCommands.history: {
          // An unsaved buffer has no runs (its history would be that of another file).
          const file = savedFileOf(uri);
          return commandResult(ServerCommands.history, file ? await readRecipeHistory(file, { workspaceRoot: state.workspaceRoot, confine: state.historyConfinement(file) }) : []);
        }
        default:
          throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown command ${params.command}`);
      }
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      log.error(`command ${params.command} failed`, e);
      throw new ResponseError(LSPErrorCodes.RequestFailed, describeError(e));
    }
  });

  onRequest(connection, CompareRequest, async (params) => {
    if (typeof params.uri !== 'string') throw userError(`${CompareRequest} needs {uri, revision?}`);
    // The lock beside the saved recipe: an unsaved buffer has none.
    const file = savedFileOf(params.uri);
    if (!file) throw userError(`${params.uri} is not a file: save the recipe to compare its lock`);
    try {
      return await compareWithRevision(file, typeof params.revision === 'string' ? params.revision : 'HEAD', state.workspaceRoot, state.historyConfinement(file));
    } catch (e) {
      log.info(`compare ${params.uri}: ${describeError(e)}`);
      throw userError(describeError(e));
    }
  });
}
