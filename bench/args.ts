/**
 * The benchmarks' command-line flags: `--name value`, each with its default. One reader, so every bench
 * treats a missing flag, or a flag given last without its value, the same way (the default).
 */

/** The value after `--name`, or `fallback` when the flag or its value is missing. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The value after `--name` as a number, or `fallback` when the flag or its value is missing. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
