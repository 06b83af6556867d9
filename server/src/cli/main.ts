#!/usr/bin/env node
/**
 * `adapter-composer`: a thin shell over the engine. Parses argv, runs one command, prints, exits.
 * User errors print `file:line:col: message` and exit 1/2; only `--debug` shows a stack.
 */
import { ComposerError, formatLocation, isComposerError } from '../engine/errors';
import { oneLine, terminalText } from '../engine/recipe/problem';
import { parseCommandArgs, type Command, type CliIO } from './command';
import { commands } from './commands';
import { version } from './version';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `adapter-composer ${version} — compose LoRA adapters from a library`,
    '',
    'Usage: adapter-composer <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `adapter-composer <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(version);
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  const debug = rest.includes('--debug');
  try {
    if (!command) throw new ComposerError('usage', `unknown command '${name}'`, undefined, 'run `adapter-composer --help` for the list');
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.out(command.help);
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    return reportError(e, io, debug);
  }
}

function reportError(e: unknown, io: CliIO, debug: boolean): number {
  if (isComposerError(e)) {
    // Messages quote paths, names and file contents (a library's rows, an adapter's tensor names):
    // escaped, so that none moves the terminal or starts a line of a CI log (a message's own lines stay).
    const where = formatLocation(e.location);
    const text = terminalText(where ? `${where}: ${e.message}` : e.message);
    io.err(`error: ${e.hint ? `${text}\n  hint: ${terminalText(e.hint)}` : text}`);
    if (debug && e.stack) io.err(e.stack);
    return e.code === 'usage' ? 2 : 1;
  }
  // Not ours: a bug. Say so plainly; the stack only with --debug.
  const err = e as Error;
  io.err(`internal error: ${oneLine(err?.message ?? String(e))}`);
  if (debug) io.err(err?.stack ?? '');
  else io.err('  (run again with --debug for details, and please report it)');
  return 70;
}

/** The transports the language server's connection accepts; without one `lsp` is a usage error (commands/lsp.ts). */
function isLspTransport(arg: string): boolean {
  return arg === '--stdio' || arg === '--node-ipc' || arg.startsWith('--socket=') || arg.startsWith('--pipe=');
}

if (require.main === module) {
  // A reader that stops early (`| head`, a pager quit) closes the pipe: that ends the output, it is
  // not a crash (it was an unhandled 'error' event and a stack trace).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const io: CliIO = {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
  };
  const argv = process.argv.slice(2);
  if (argv[0] === 'lsp' && !argv.includes('--help') && !argv.includes('-h') && argv.some(isLspTransport)) {
    // The language server owns the process from here; its transport flags (--stdio, --node-ipc,
    // --clientProcessId=…) are the client library's, so they bypass our strict option parsing.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for `lsp`, so other commands never load the server
    (require('../lsp/server') as typeof import('../lsp/server')).startLanguageServer(argv.slice(1));
  } else {
    main(argv, io).then(
      (code) => {
        process.exitCode = code;
      },
      (e) => {
        process.stderr.write(`internal error: ${(e as Error)?.message}\n`);
        process.exitCode = 70;
      },
    );
  }
}
