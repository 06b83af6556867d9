/**
 * The planner's contract with its callers (the CLI, the language server, compose, the demos): what a
 * plan returns, the options it takes, and the Planner interface. Types only, so that every file of the
 * planner folder and every caller can import them without importing the implementation.
 */
import type { ParseResult, Recipe } from '../recipe/parse';
import type { RecipePaths } from '../recipe/paths';
import type { Problem } from '../recipe/problem';
import type { AdapterRecord, PlanJson } from '../types';
import type { ConfinementOptions } from '../recipe/workspaceConfinement';

export type PlanProblem = Problem;

export interface PlanOutcome {
  /** False for a YAML file without a `compose:` key: not ours, nothing to report but a note. */
  isRecipe: boolean;
  /** The parsed recipe, when parsing got that far. */
  recipe?: Recipe;
  /** Present when the recipe could be planned (no blocking error). */
  plan?: PlanJson;
  problems: Problem[];
  /** Library rows of the recipe's library (for completion / hover / inlay hints), when it opened. */
  adapters?: AdapterRecord[];
  /** Resolved paths (library, target, output, lock), when the recipe parsed. */
  paths?: RecipePaths;
  /** The candidates' library rows, nearest first, when planned. */
  candidates?: AdapterRecord[];
  /** The target prototype (float64), when computed. */
  target?: Float64Array;
}

export interface PlanOptions extends ConfinementOptions {
  signal?: AbortSignal;
  /** Execution provider for the encoder: auto | cpu | cuda | tensorrt | webgpu. */
  provider?: string;
  /** Progress of encoding samples. */
  onProgress?: (done: number, total: number) => void;
  /** The library for recipes that name none (the editor setting adapterCompose.libraryUri). */
  libraryUri?: string;
  /** parseRecipe(text, file) already done by the caller (the language server parses a buffer once). */
  parsed?: ParseResult;
}

export interface Planner {
  /** Plans a recipe from its text (the editor's buffer, not necessarily saved). Never throws for user input. */
  plan(text: string, file: string, options?: PlanOptions): Promise<PlanOutcome>;
  /** Forget cached library handles / prototypes (library changed on disk, config changed). */
  invalidate(what?: { libraryUri?: string }): void;
  /** The execution provider the encoder ran on last (cpu, cuda, …). */
  lastProvider(): string | undefined;
  dispose(): Promise<void>;
}
