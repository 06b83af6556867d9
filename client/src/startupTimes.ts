/**
 * How long the extension took to be useful, measured from the moment activate() was entered: the
 * language server answered `initialize` (the status bar says ready), the status bar first showed a
 * library, and the first code lens with a plan went to the editor. Each time is logged once to the
 * output channel ("ready in N ms") for users and kept for bench/activation.ts and the extension-host tests.
 */
import type * as vscode from 'vscode';

export type StartupMark = 'ready' | 'library' | 'recipeOpened' | 'lens';

export class StartupTimes {
  private readonly marks: Partial<Record<StartupMark, number>> = {};

  /** `t0`: performance.now() when activate() was entered. */
  constructor(private readonly t0: number, private readonly output: vscode.LogOutputChannel) {}

  /** Records `mark` the first time only; later calls are ignored. */
  mark(mark: StartupMark, detail = ''): void {
    if (this.marks[mark] !== undefined) return;
    const ms = Math.round(performance.now() - this.t0);
    this.marks[mark] = ms;
    const suffix = detail ? ` (${detail})` : '';
    switch (mark) {
      case 'ready':
        this.output.info(`Adapter Composer: ready in ${ms} ms (language server answered initialize)${suffix}`);
        break;
      case 'library':
        this.output.info(`Adapter Composer: library shown in ${ms} ms${suffix}`);
        break;
      case 'recipeOpened':
        this.output.info(`Adapter Composer: first recipe opened at ${ms} ms${suffix}`);
        break;
      case 'lens': {
        const opened = this.marks.recipeOpened;
        const sinceOpen = opened === undefined ? '' : `, ${ms - opened} ms after the recipe opened`;
        this.output.info(`Adapter Composer: first code lens in ${ms} ms${sinceOpen}${suffix}`);
        break;
      }
    }
  }

  /** Milliseconds from activate() to each mark reached so far. */
  snapshot(): Partial<Record<StartupMark, number>> {
    return { ...this.marks };
  }
}
