/**
 * The shape of one CLI subcommand. Each lives in its own file under commands/; main.ts dispatches.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ComposerError } from '../engine/errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  name: string;
  /** One line for the overview. */
  summary: string;
  /** Full `--help` text: usage line, then options. */
  help: string;
  options: Options;
  /** Rewrites argv before parsing (an option that is a flag for one action and takes a value for another). */
  rewriteArgs?(argv: string[]): string[];
  /** Returns the exit code. Throws ComposerError for user errors. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars). */
  isTTY: boolean;
  cwd: string;
}

export const commonOptions: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
};

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  try {
    const parsed = parseArgs({
      args: command.rewriteArgs ? command.rewriteArgs(argv) : argv,
      options: { ...commonOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (e) {
    // node's messages are fine ("Unknown option '--foo'"); add where to look.
    throw new ComposerError('usage', (e as Error).message, undefined, `see \`adapter-composer ${command.name} --help\``);
  }
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** `--format F` (or `--json`) among `formats`, the first being the default; any other is a usage error. */
export function formatOption<F extends string>(args: ParsedArgs, formats: readonly [F, ...F[]]): F {
  const format = args.values.json ? 'json' : (stringOption(args, 'format') ?? formats[0]);
  if (!(formats as readonly string[]).includes(format)) throw new ComposerError('usage', `unknown --format '${format}' (${formats.join(' | ')})`);
  return format as F;
}

export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ComposerError('usage', `--${name} expects a number, got '${v}'`);
  return n;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  const items = Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
  return items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function requirePositional(args: ParsedArgs, index: number, what: string, command: string): string {
  const v = args.positionals[index];
  if (v === undefined) throw new ComposerError('usage', `missing ${what}`, undefined, `see \`adapter-composer ${command} --help\``);
  return v;
}

/** Stable, pretty JSON: what `--json` prints. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
