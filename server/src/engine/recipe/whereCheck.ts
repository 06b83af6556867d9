/**
 * `retrieve.where` checked from the text alone: the filter is parsed (engine/library/whereFilter.ts)
 * so `check` and the editor report a filter that is malformed, uses an unknown column or exceeds the
 * bounds, pointing at the offending part inside the string, before anything reaches LanceDB.
 */
import { isScalar, Scalar } from 'yaml';
import { parseWhere, WhereError } from '../library/whereFilter';
import type { Recipe } from './parse';
import type { Problem } from './problem';

const PATH = ['retrieve', 'where'];

export function whereProblems(recipe: Recipe): Problem[] {
  const retrieve = recipe.data.retrieve;
  if (retrieve === null || typeof retrieve !== 'object' || Array.isArray(retrieve)) return [];
  const where = (retrieve as Record<string, unknown>).where;
  if (typeof where !== 'string' || where === '') return [];
  try {
    parseWhere(where);
    return [];
  } catch (e) {
    if (!(e instanceof WhereError)) throw e;
    const offsets = sourceOffsets(recipe, where, e.start, e.end);
    const range = offsets ? recipe.lines.rangeOf(offsets[0], offsets[1]) : recipe.problemRange(PATH, 'value');
    return [{ severity: 'error', code: 'where', message: `\`where\`: ${e.message}${e.hint ? ` (${e.hint})` : ''}`, range, path: PATH }];
  }
}

/**
 * Document offsets of [start, end) inside the string value of `retrieve.where`, when the scalar's
 * source maps character by character (plain, single-quoted with '' escapes, double-quoted without
 * escapes); undefined otherwise (block scalars, folded lines), and the whole value is reported.
 */
function sourceOffsets(recipe: Recipe, value: string, start: number, end: number): [number, number] | undefined {
  const node = recipe.nodeAt(PATH);
  if (!isScalar(node) || !node.range) return undefined;
  const [from, to] = node.range;
  const source = recipe.text.slice(from, to);
  let inner: string;
  let base: number;
  if (node.type === Scalar.PLAIN) {
    inner = source;
    base = from;
  } else if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) {
    inner = source.slice(1, -1);
    base = from + 1;
  } else {
    return undefined;
  }
  // Map value index → source index.
  const map: number[] = [];
  let i = 0;
  while (i < inner.length) {
    map.push(i);
    if (node.type === Scalar.QUOTE_SINGLE && inner[i] === "'" && inner[i + 1] === "'") i += 2;
    else if (node.type === Scalar.QUOTE_DOUBLE && inner[i] === '\\') return undefined;
    else i++;
  }
  map.push(inner.length);
  if (map.length !== value.length + 1) return undefined;
  const a = map[Math.min(start, value.length)];
  const b = map[Math.min(Math.max(end, start + 1), value.length)];
  return [base + a, base + Math.max(b, a)];
}
