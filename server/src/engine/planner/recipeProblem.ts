/**
 * A problem found while planning, thrown or reported at a recipe path; plan.ts turns it into a located
 * Problem (a diagnostic). Shared by the planner's parts (target prototype, library checks, the plan).
 */
import { ComposerError } from '../errors';
import type { RecipePath, Severity } from '../recipe/problem';

/** A problem to report at a recipe path. */
export class RecipeProblem extends Error {
  constructor(
    readonly severity: Severity,
    readonly code: string,
    message: string,
    readonly path: RecipePath,
    readonly part: 'value' | 'key' = 'value',
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Where a part of the planner reports a problem that does not stop the plan. */
export type ReportProblem = (p: RecipeProblem) => void;

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ComposerError('cancelled', 'planning cancelled');
}
