/** Log lines to the client's output (window/logMessage), filtered by the `logLevel` setting. */
import type { RemoteConsole } from 'vscode-languageserver';
import type { ServerSettings } from './settings';

const ORDER = { error: 0, warn: 1, info: 2, debug: 3 } as const;

export class ServerLog {
  level: ServerSettings['logLevel'] = 'info';
  constructor(private readonly console: RemoteConsole) {}

  error(message: string, error?: unknown): void {
    if (this.enabled('error')) this.console.error(error === undefined ? message : `${message}: ${describeError(error)}`);
  }
  warn(message: string): void {
    if (this.enabled('warn')) this.console.warn(message);
  }
  info(message: string): void {
    if (this.enabled('info')) this.console.info(message);
  }
  debug(message: string): void {
    if (this.enabled('debug')) this.console.log(message);
  }

  private enabled(level: keyof typeof ORDER): boolean {
    return ORDER[level] <= ORDER[this.level];
  }
}

/** A readable one-liner for an error (its stack only in debug logs, never to the user). */
export function describeError(e: unknown): string {
  if (e && typeof e === 'object' && 'format' in e && typeof e.format === 'function') {
    return (e as { format(): string }).format();
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
