/**
 * Tables keyed by names users choose (adapter names, metric names). A plain `{}` is not a dictionary:
 * `out['__proto__'] = w` calls the prototype setter and the weight vanishes, and `weights['constructor']`
 * finds Object's constructor when the name is absent. These two helpers keep such tables plain JSON
 * objects (the plan, lock and composition.json are JSON) while writing own properties only and
 * reading own properties only.
 */

/** Sets an own, enumerable property (never the `__proto__` setter). */
export function setOwn<T>(table: Record<string, T>, name: string, value: T): void {
  // Only `__proto__` is an accessor on Object.prototype: every other name, assigned, becomes an own
  // enumerable, writable, configurable property (defineProperty does the same, several times slower).
  if (name === '__proto__' || !Object.prototype.hasOwnProperty.call(table, name) && name in table) {
    Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    table[name] = value;
  }
}

/** A table from [name, value] pairs, as own properties in that order. */
export function tableOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, value] of entries) setOwn(out, name, value);
  return out;
}

/** The value stored under `name` itself, or undefined (never an inherited member like `constructor`). */
export function ownValue<T>(table: Record<string, T> | undefined | null, name: string): T | undefined {
  return table != null && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}
