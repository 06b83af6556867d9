/**
 * Plans open recipes off the keystroke path: per document, a debounce and an AbortController, so a
 * newer version cancels stale work. Requests that need a fresh plan (code lenses, inlay hints) flush
 * the debounce and wait, bounded. The planner's failures become an empty outcome and a log line.
 */
import type { PlanOutcome, Planner } from '../engine/planner';
import { RecipeDocument } from '../service/recipeDocument';
import type { RecipeView } from '../service/recipeView';

export interface TrackedRecipe {
  uri: string;
  file: string;
  version: number;
  text: string;
  document?: { version: number; value: RecipeDocument };
  outcome?: PlanOutcome;
  outcomeVersion?: number;
  /** The newest plan that worked: lenses show it, marked stale, while the text does not plan. */
  lastPlan?: PlanOutcome['plan'];
  timer?: NodeJS.Timeout;
  controller?: AbortController;
  waiters: Array<() => void>;
}

export interface SchedulerHooks {
  /** Options for each planner call (workspace root, provider, …), read at call time. */
  planOptions(file: string): Record<string, unknown>;
  debounceMs(): number;
  /** A fresh outcome for the document's current version. */
  onPlanned(recipe: TrackedRecipe): void;
  onBusyChange(busy: boolean): void;
  logError(message: string, error: unknown): void;
}

export class PlanScheduler {
  private readonly recipes = new Map<string, TrackedRecipe>();
  private running = 0;

  constructor(
    private readonly planner: Planner,
    private readonly hooks: SchedulerHooks,
  ) {}

  get(uri: string): TrackedRecipe | undefined {
    return this.recipes.get(uri);
  }

  all(): TrackedRecipe[] {
    return [...this.recipes.values()];
  }

  /**
   * A new buffer version: cancel what is running for it, plan again after the debounce. A recipe just
   * opened is planned at once: no keystrokes are coming, and its first lens is what the user waits for.
   */
  update(uri: string, file: string, version: number, text: string): void {
    const known = this.recipes.get(uri);
    const recipe = known ?? { uri, file, version, text, waiters: [] };
    recipe.file = file;
    recipe.version = version;
    recipe.text = text;
    this.recipes.set(uri, recipe);
    this.schedule(recipe, known ? this.hooks.debounceMs() : 0);
  }

  close(uri: string): void {
    const recipe = this.recipes.get(uri);
    if (!recipe) return;
    recipe.controller?.abort();
    if (recipe.timer) clearTimeout(recipe.timer);
    this.recipes.delete(uri);
    for (const w of recipe.waiters.splice(0)) w();
  }

  /** Re-plan every open recipe (library or settings changed). */
  replanAll(delayMs = 0): void {
    for (const r of this.recipes.values()) this.schedule(r, delayMs);
  }

  /** The recipe as the editor features see it; waits (bounded) for a plan of the current version. */
  async view(uri: string, waitMs: number): Promise<RecipeView | undefined> {
    const recipe = this.recipes.get(uri);
    if (!recipe) return undefined;
    if (waitMs > 0 && recipe.outcomeVersion !== recipe.version) {
      if (recipe.timer) this.start(recipe);
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, waitMs);
        recipe.waiters.push(() => {
          clearTimeout(timeout);
          resolve();
        });
      });
    }
    return this.currentView(recipe);
  }

  /** Without waiting: the buffer parsed, and the newest plan so far. */
  currentView(recipe: TrackedRecipe): RecipeView {
    if (!recipe.document || recipe.document.version !== recipe.version) {
      // Parsed once per version, for the editor features and (recipeParse) the planner.
      recipe.document = { version: recipe.version, value: RecipeDocument.parse(recipe.text, recipe.file) };
    }
    const lastPlan = recipe.outcome && !recipe.outcome.plan ? recipe.lastPlan : undefined;
    return { uri: recipe.uri, file: recipe.file, document: recipe.document.value, outcome: recipe.outcome, ...(lastPlan ? { lastPlan } : {}) };
  }

  dispose(): void {
    for (const uri of [...this.recipes.keys()]) this.close(uri);
  }

  private schedule(recipe: TrackedRecipe, delayMs: number): void {
    recipe.controller?.abort();
    recipe.controller = undefined;
    if (recipe.timer) clearTimeout(recipe.timer);
    recipe.timer = setTimeout(() => this.start(recipe), delayMs);
  }

  private start(recipe: TrackedRecipe): void {
    if (recipe.timer) clearTimeout(recipe.timer);
    recipe.timer = undefined;
    recipe.controller?.abort();
    const controller = new AbortController();
    recipe.controller = controller;
    const version = recipe.version;
    void this.plan(recipe, version, controller);
  }

  private async plan(recipe: TrackedRecipe, version: number, controller: AbortController): Promise<void> {
    if (this.running++ === 0) this.hooks.onBusyChange(true);
    let outcome: PlanOutcome;
    try {
      const { document } = this.currentView(recipe);
      if (document.unreadable) {
        // Never hand a huge or pathologically nested buffer to the engine: the service reports why nothing shows.
        outcome = { isRecipe: false, problems: [] };
      } else {
        outcome = await this.planner.plan(recipe.text, recipe.file, { ...this.hooks.planOptions(recipe.file), signal: controller.signal, parsed: document.recipeParse });
      }
    } catch (e) {
      if (controller.signal.aborted) outcome = { isRecipe: true, problems: [] };
      else {
        this.hooks.logError(`planning ${recipe.file} failed`, e);
        outcome = { isRecipe: recipe.document?.value.isRecipe ?? false, problems: [] };
      }
    } finally {
      if (--this.running === 0) this.hooks.onBusyChange(false);
    }
    // Superseded by a newer version, cancelled, or closed: a newer run will answer the waiters.
    if (controller.signal.aborted || recipe.version !== version || this.recipes.get(recipe.uri) !== recipe) return;
    recipe.controller = undefined;
    recipe.outcome = outcome;
    recipe.outcomeVersion = version;
    if (outcome.plan) recipe.lastPlan = outcome.plan;
    try {
      this.hooks.onPlanned(recipe);
    } catch (e) {
      this.hooks.logError('publishing a plan failed', e);
    }
    for (const w of recipe.waiters.splice(0)) w();
  }
}
