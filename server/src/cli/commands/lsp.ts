import { ComposerError } from '../../engine/errors';
import type { Command } from '../command';

/**
 * Listed for --help; main.ts hands the process to the language server before option parsing when a
 * transport flag is given. Reached only without one: a usage error instead of the client library's throw.
 */
export const lspCommand: Command = {
  name: 'lsp',
  summary: 'run the language server (--stdio or --node-ipc)',
  help: `Usage: adapter-composer lsp (--stdio | --node-ipc)

Runs the Adapter Composer language server: diagnostics, code lenses with weights, inlay hints,
completion, hover, definition, symbols and code actions for *.compose.yaml recipes. Works with any
LSP client (VS Code, Neovim, Helix, Emacs…).`,
  options: {},
  async run() {
    throw new ComposerError('usage', 'lsp needs a transport: --stdio or --node-ipc', undefined, 'an editor starts it as `adapter-composer lsp --stdio` (see docs/editors.md)');
  },
};
