/**
 * The Planner: the one entry point the CLI and the language service call per recipe.
 * parse → schema → semantics against the library → retrieve → weights. Caches library handles,
 * encoder sessions and target prototypes (by content hash), so a keystroke costs a parse, a k-NN
 * and a µs solve — the encoder runs once per distinct set of sample files.
 *
 * The folder: api.ts (what callers see), plan.ts (the plan itself), libraryCache.ts (library handles,
 * rows and k-NN per library version), targetPrototype.ts (encoder sessions and prototypes, in memory
 * and on disk), libraryChecks.ts (names, merge verdicts, integrity), recipeProblem.ts (located problems).
 */
import type { Planner } from './api';
import { CachingPlanner } from './plan';

export type { PlanOptions, PlanOutcome, Planner, PlanProblem } from './api';

export function createPlanner(): Planner {
  return new CachingPlanner();
}
