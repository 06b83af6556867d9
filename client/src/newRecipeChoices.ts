/**
 * What "New Composition Recipe…" offers and how it names the file, as pure functions (tested without
 * VS Code): the strategies with the default first (the pick preselects its first item, and the placeholder
 * promised sparse while Enter chose avg), and the saved file's name — code-server's save dialog appended
 * the filter's extension to a name that already had it (`grammar-02.compose.yaml.compose.yaml`).
 */
import { STRATEGIES, type Strategy } from '../../server/src/engine/types';

/** The strategy `adapter-composer new` writes when none is given. */
export const DEFAULT_STRATEGY: Strategy = 'sparse';

const STRATEGY_HINTS: Record<Strategy, string> = {
  avg: 'equal weights 1/k',
  sim: 'softmax of −distance/τ',
  lin: 'least squares, Σw = 1 (may go negative)',
  sparse: 'lin + L1 penalty: few adapters, interpretable',
  convex: 'least squares with w ≥ 0',
  nearest: 'only the nearest adapter',
  manual: 'weights you write in the recipe',
};

export interface StrategyItem { label: Strategy; description: string }

/** Every strategy, the default first and marked so. */
export function strategyItems(): StrategyItem[] {
  const ordered = [DEFAULT_STRATEGY, ...STRATEGIES.filter((s) => s !== DEFAULT_STRATEGY)];
  return ordered.map((s) => ({ label: s, description: `${s === DEFAULT_STRATEGY ? '(default) ' : ''}${STRATEGY_HINTS[s]}` }));
}

/** A recipe path ending in exactly one `.compose.yaml` (or `.compose.yml`), whatever the dialog added. */
export function recipeFilePath(chosen: string): string {
  const collapsed = chosen.replace(/(\.compose\.ya?ml)(?:\.compose\.ya?ml|\.ya?ml)+$/i, '$1');
  return /\.compose\.ya?ml$/i.test(collapsed) ? collapsed : collapsed.replace(/(\.ya?ml)?$/i, '.compose.yaml');
}
