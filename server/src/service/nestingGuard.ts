/**
 * A pre-scan for documents nested deep enough to exhaust the YAML parser's stack. The parser catches
 * the stack overflow itself, but V8 may then abort the whole process while compiling a regular
 * expression near the stack limit (seen with yaml 2.9 on Node 20 for ~1000 `[` or ~5000 nested `-`),
 * so such text must never reach the parser. Cheap (one pass) and conservative.
 */

/** Flow collections (`[`, `{`) open at once: real recipes use a handful. */
export const MAX_FLOW_DEPTH = 128;
/** Indentation columns plus `- `/`? ` markers opening a line: a proxy for block nesting. */
export const MAX_BLOCK_DEPTH = 512;

export interface ExcessiveNesting {
  offset: number;
  depth: number;
  kind: 'flow' | 'block';
}

export function findExcessiveNesting(text: string): ExcessiveNesting | undefined {
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let atLineStart = true;
  let blockDepth = 0;
  let prev = '\n';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      comment = false;
      atLineStart = true;
      blockDepth = 0;
      prev = c;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
      prev = c;
      continue;
    }
    if (atLineStart) {
      if (c === ' ' || c === '\t') blockDepth++;
      else if ((c === '-' || c === '?' || c === ':') && (text[i + 1] === ' ' || text[i + 1] === '\t' || text[i + 1] === '\n')) blockDepth++;
      else atLineStart = false;
      if (blockDepth > MAX_BLOCK_DEPTH) return { offset: i, depth: blockDepth, kind: 'block' };
      if (atLineStart) {
        prev = c;
        continue;
      }
    }
    const afterSeparator = prev === ' ' || prev === '\t' || prev === '\n' || prev === '[' || prev === '{' || prev === ',' || prev === ':';
    if (c === '#' && (prev === ' ' || prev === '\t' || prev === '\n')) comment = true;
    else if ((c === '"' || c === "'") && afterSeparator) quote = c;
    else if (c === '[' || c === '{') {
      if (++flow > MAX_FLOW_DEPTH) return { offset: i, depth: flow, kind: 'flow' };
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
    prev = c;
  }
  return undefined;
}
