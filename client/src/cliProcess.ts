/** Runs the bundled CLI (dist/cli.js) with the extension host's Node (Electron runs it as Node). */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(context: vscode.ExtensionContext, args: string[], cwd?: string, cancel?: vscode.CancellationToken): Promise<CliResult> {
  const cli = context.asAbsolutePath('dist/cli.js');
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [cli, ...args], {
      cwd, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    cancel?.onCancellationRequested(() => child.kill());
  });
}

/** The CLI's own error line (`error: file:line:col: message`), not the whole stderr. */
export function cliError(result: CliResult): string {
  const lines = result.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => l.startsWith('error:')) ?? lines[0] ?? `exit code ${result.code}`).replace(/^error:\s*/, '');
}
