/**
 * The editor features of an open recipe, each answered by its server/src/service function from the
 * recipe's view: code lenses, inlay hints and code actions wait (briefly) for the plan of the current
 * text; completion, hover, definition and symbols answer at once. A failing feature answers empty.
 */
import { codeActions } from '../service/codeActions';
import { codeLenses } from '../service/codeLens';
import { completion } from '../service/completion';
import { definition } from '../service/definition';
import { hover } from '../service/hover';
import { inlayHints } from '../service/inlayHints';
import { documentSymbols } from '../service/symbols';
import { diskFiles } from './diskFiles';
import { FRESH_PLAN_WAIT_MS } from './serverState';
import type { ServerState } from './serverState';

export function registerFeatures(state: ServerState): void {
  const { connection, schema } = state;

  connection.onCodeLens(state.guarded('code lens', [], async (params) => {
    try {
      const view = await state.recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
      return view ? codeLenses(view) : [];
    } finally {
      // answered (a request waiting for a plan gets that plan, so that plan needs no refresh)
      state.lensesFetched.add(params.textDocument.uri);
    }
  }));

  connection.languages.inlayHint.on(state.guarded('inlay hints', [], async (params) => {
    const view = await state.recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
    return view ? inlayHints(view, params.range) : [];
  }));

  connection.onCompletion(state.guarded('completion', { isIncomplete: false, items: [] }, async (params) => {
    const view = await state.recipeView(params.textDocument.uri, 0);
    return view ? completion(view, params.position, schema, diskFiles) : { isIncomplete: false, items: [] };
  }));

  connection.onHover(state.guarded('hover', null, async (params) => {
    const view = await state.recipeView(params.textDocument.uri, 0);
    return view ? hover(view, params.position, schema) : null;
  }));

  connection.onDefinition(state.guarded('definition', [], async (params) => {
    const view = await state.recipeView(params.textDocument.uri, 0);
    return view ? definition(view, params.position, diskFiles) : [];
  }));

  connection.onDocumentSymbol(state.guarded('document symbols', [], async (params) => {
    const view = await state.recipeView(params.textDocument.uri, 0);
    return view ? documentSymbols(view) : [];
  }));

  connection.onCodeAction(state.guarded('code actions', [], async (params) => {
    const view = await state.recipeView(params.textDocument.uri, FRESH_PLAN_WAIT_MS);
    return view ? codeActions(view, params.range, params.context.diagnostics, schema) : [];
  }));
}
