/**
 * The guards that stand between hostile or accidental input and the YAML reader: the caps (size, nesting,
 * alias expansion), binary and control-character detection, and the walkers that find the first node too
 * deep, the first alias and the repeated keys, all without recursion so that no input can exhaust the stack.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, type Node } from 'yaml';

/** Real recipes are a few KB; yaml needs seconds for multi-MB scalars, which an editor cannot wait for. */
export const MAX_RECIPE_BYTES = 1024 * 1024;
/** Far deeper than any recipe; low enough that no walker can run out of stack. */
export const MAX_NESTING = 64;
/** How many nodes alias expansion may produce, per alias (yaml's own guard). */
export const MAX_ALIAS_COUNT = 100;
/**
 * How many aliases a recipe may hold: the yaml package resolves each alias by scanning every anchor and
 * alias before it (quadratic: 20,000 aliases took 16 s to read, and froze the editor). Recipes use a few.
 */
export const MAX_ALIASES = 1000;

/**
 * NUL, or many control characters, means binary. A few stray ones are a syntax error at the first.
 * Tab, LF, CR and NEL are allowed, as YAML allows them.
 */
export function findControlCharacter(text: string): { offset: number; binary: boolean } | undefined {
  let first = -1;
  let count = 0;
  const n = Math.min(text.length, 1 << 16);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const bad = (c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127 || c === 0xfffe || c === 0xffff;
    if (!bad) continue;
    if (c === 0) return { offset: i, binary: true };
    if (first < 0) first = i;
    if (i < n) count++;
  }
  if (first < 0) return undefined;
  return { offset: first, binary: count > 8 && count > n / 100 };
}

/** The first node nested deeper than MAX_NESTING, found without recursion. */
export function findTooDeep(root: unknown): Node | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth >= MAX_NESTING) return node;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        stack.push({ node: item.key, depth: depth + 1 });
        stack.push({ node: item.value, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * The start offsets of the keys that repeat an earlier key of their mapping (what the yaml package's
 * `uniqueKeys` reports: scalar keys of equal value), in one pass with a set per mapping — the package
 * compares each key with every earlier one, quadratic in the keys of a mapping. Without recursion.
 */
export function duplicateKeys(root: unknown): number[] {
  const found: number[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isCollection(node)) continue;
    const seen = isMap(node) ? new Set<unknown>() : undefined;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        if (seen && isScalar(item.key)) {
          const value: unknown = item.key.value;
          if (seen.has(value) && !Number.isNaN(value)) found.push(item.key.range?.[0] ?? 0);
          seen.add(value);
        }
        stack.push(item.key, item.value);
      } else stack.push(item);
    }
  }
  return found.sort((a, b) => a - b);
}

/** The first alias in document order (where an alias-expansion problem points). */
export function firstAlias(root: unknown): Node | undefined {
  return aliasNumber(root, 1);
}

/** The n-th alias (1-based) in document order, or undefined when there are fewer. */
export function aliasNumber(root: unknown, n: number): Node | undefined {
  const stack: unknown[] = [root];
  let seen = 0;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node) && ++seen >= n) return node;
    if (isCollection(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i];
        if (isPair(item)) stack.push(item.value, item.key);
        else stack.push(item);
      }
    }
  }
  return undefined;
}
