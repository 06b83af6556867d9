/**
 * `retrieve.where`: the user's filter over the adapters table, parsed before it reaches LanceDB.
 *
 * The text is untrusted. Pasted into `base = … AND (<where>) AND name NOT IN …` it could close the
 * parenthesis and bypass the base filter and the exclusions, and a long flat expression (~650 ORs)
 * crashes LanceDB natively (SIGSEGV). So it is parsed here by a small recursive-descent parser of
 * the subset we allow, bounded (length, predicates, nesting, IN-list size), type-checked against the
 * known columns, and rebuilt as a canonical SQL string: every literal re-quoted, every connective
 * parenthesised, long AND/OR chains balanced (depth log₂ n), so nothing the user writes can change the
 * shape of the query around it. Errors carry the offsets of the offending text inside the filter.
 *
 * Grammar (keywords case-insensitive):
 *   expr      := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | '(' expr ')' | predicate | TRUE | FALSE
 *   predicate := column cmp literal | column [NOT] IN '(' literal (',' literal)* ')'
 *              | column [NOT] LIKE string | column IS [NOT] NULL
 *              | (array_has | array_contains) '(' listColumn ',' string ')'
 *   cmp       := = | != | <> | < | <= | > | >=
 *   literal   := 'string' ('' escapes a quote) | [-]number | TRUE | FALSE
 *
 * Size (~360 lines): one grammar's tokenizer, parser, type check and SQL rebuild; splitting them would
 * spread one security boundary over several files.
 */
import { ComposerError } from '../errors';
import { closestMatch } from '../recipe/didYouMean';

/** The bounds a filter must stay within (LanceDB's planner recurses on the expression tree). */
export const WHERE_LIMITS = { length: 4096, predicates: 64, depth: 12, inItems: 256 } as const;

type ColumnType = 'string' | 'number' | 'list';
/** The filterable columns of the adapters table (the prototype vector is not one). */
export const WHERE_COLUMNS: ReadonlyMap<string, ColumnType> = new Map<string, ColumnType>([
  ['name', 'string'], ['base', 'string'], ['rank', 'number'], ['alpha', 'number'], ['target_modules', 'list'],
  ['format', 'string'], ['path', 'string'], ['sha256', 'string'], ['description', 'string'], ['tags', 'list'],
  ['created_at', 'string'], ['details', 'string'],
]);

/** A filter that does not parse or exceeds a bound; start/end are offsets into the filter text. */
export class WhereError extends ComposerError {
  constructor(message: string, readonly start: number, readonly end: number, hint?: string) {
    super('library', message, undefined, hint ?? `filters use the columns ${[...WHERE_COLUMNS.keys()].join(', ')}; e.g. "rank <= 16 AND array_has(tags, 'math')"`);
  }
}

export type Literal = { kind: 'string'; value: string } | { kind: 'number'; text: string } | { kind: 'bool'; value: boolean };
export type WhereNode =
  | { kind: 'and' | 'or'; items: WhereNode[] }
  | { kind: 'not'; item: WhereNode }
  | { kind: 'bool'; value: boolean }
  | { kind: 'cmp'; column: string; op: string; value: Literal }
  | { kind: 'in'; column: string; negated: boolean; values: Literal[] }
  | { kind: 'like'; column: string; negated: boolean; pattern: string }
  | { kind: 'null'; column: string; negated: boolean }
  | { kind: 'has'; column: string; value: string };

interface Token {
  type: 'ident' | 'string' | 'number' | 'op' | 'punct' | 'end';
  text: string;
  /** Keyword-normalised (upper case) for idents. */
  upper: string;
  start: number;
  end: number;
  value?: string;
}

const OPS = ['<=', '>=', '<>', '!=', '=', '<', '>'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const start = i;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new WhereError('unterminated string (a quote inside a string is written \'\')', start, src.length);
        if (src[i] === "'") {
          if (src[i + 1] === "'") { value += "'"; i += 2; continue; }
          i++;
          break;
        }
        value += src[i++];
      }
      out.push({ type: 'string', text: src.slice(start, i), upper: '', start, end: i, value });
    } else if (c === '"') {
      // A quoted identifier: a column name.
      const close = src.indexOf('"', i + 1);
      if (close < 0) throw new WhereError('unterminated quoted identifier', start, src.length);
      const name = src.slice(i + 1, close);
      i = close + 1;
      out.push({ type: 'ident', text: name, upper: '', start, end: i });
    } else if (/[0-9.]/.test(c)) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64));
      if (!m) throw new WhereError(`unexpected \`${c}\``, start, start + 1);
      i += m[0].length;
      if (i < src.length && /[A-Za-z_0-9.]/.test(src[i])) throw new WhereError('malformed number', start, i + 1);
      out.push({ type: 'number', text: m[0], upper: '', start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z_0-9]/.test(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ type: 'ident', text, upper: text.toUpperCase(), start, end: i });
    } else if (c === '(' || c === ')' || c === ',' || c === '-') {
      i++;
      out.push({ type: 'punct', text: c, upper: c, start, end: i });
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new WhereError(`unexpected \`${c}\` (filters allow comparisons, IN, LIKE, IS NULL, array_has, AND/OR/NOT and parentheses)`, start, start + 1);
      i += op.length;
      out.push({ type: 'op', text: op, upper: op, start, end: i });
    }
    if (out.length > WHERE_LIMITS.length) throw new WhereError('the filter has too many tokens', start, i);
  }
  out.push({ type: 'end', text: '', upper: '', start: src.length, end: src.length });
  return out;
}

class Parser {
  private pos = 0;
  private predicates = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private next(): Token {
    const t = this.tokens[this.pos];
    if (t.type !== 'end') this.pos++;
    return t;
  }
  private isKeyword(word: string, t = this.peek()): boolean {
    return t.type === 'ident' && t.upper === word && t.text !== '' && !t.text.startsWith('"');
  }
  private expect(text: string, what: string): Token {
    const t = this.next();
    if (t.text !== text || (t.type !== 'punct' && t.type !== 'op')) throw this.unexpected(t, what);
    return t;
  }
  private unexpected(t: Token, expected: string): WhereError {
    return new WhereError(t.type === 'end' ? `the filter ends early: expected ${expected}` : `expected ${expected}, found \`${t.text}\``, t.start, Math.max(t.end, t.start + 1));
  }

  parseAll(): WhereNode {
    const node = this.parseOr(0);
    const t = this.peek();
    if (t.type !== 'end') throw this.unexpected(t, t.text === ')' ? 'the end of the filter (this `)` closes nothing)' : 'AND, OR or the end of the filter');
    return node;
  }

  private depthCheck(depth: number, t: Token): void {
    if (depth > WHERE_LIMITS.depth) throw new WhereError(`the filter nests deeper than ${WHERE_LIMITS.depth} levels`, t.start, t.end, 'flatten the parentheses / NOTs');
  }

  private parseOr(depth: number): WhereNode {
    return this.parseChain('OR', () => this.parseAnd(depth));
  }

  private parseAnd(depth: number): WhereNode {
    return this.parseChain('AND', () => this.parseNot(depth));
  }

  /** `item (KEYWORD item)*`: one node of that connective, or the lone item. */
  private parseChain(keyword: 'OR' | 'AND', item: () => WhereNode): WhereNode {
    const items = [item()];
    while (this.isKeyword(keyword)) {
      this.next();
      items.push(item());
    }
    return items.length === 1 ? items[0] : { kind: keyword === 'OR' ? 'or' : 'and', items };
  }

  private parseNot(depth: number): WhereNode {
    const t = this.peek();
    if (this.isKeyword('NOT')) {
      this.next();
      this.depthCheck(depth + 1, t);
      return { kind: 'not', item: this.parseNot(depth + 1) };
    }
    if (t.type === 'punct' && t.text === '(') {
      this.next();
      this.depthCheck(depth + 1, t);
      const inner = this.parseOr(depth + 1);
      this.expect(')', '`)`');
      return inner;
    }
    if (this.isKeyword('TRUE') || this.isKeyword('FALSE')) {
      this.next();
      return { kind: 'bool', value: t.upper === 'TRUE' };
    }
    return this.parsePredicate();
  }

  private countPredicate(t: Token): void {
    if (++this.predicates > WHERE_LIMITS.predicates) {
      throw new WhereError(`the filter has more than ${WHERE_LIMITS.predicates} conditions`, t.start, t.end,
        'use `column IN (…)` for a list of values, or `tags`/`array_has` to select a group');
    }
  }

  private column(t: Token, allowed?: ColumnType): string {
    if (t.type !== 'ident') throw this.unexpected(t, 'a column name');
    const type = WHERE_COLUMNS.get(t.text);
    if (type === undefined) {
      const suggestion = closestMatch(t.text, [...WHERE_COLUMNS.keys()]);
      throw new WhereError(`unknown column \`${t.text}\`${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`, t.start, t.end);
    }
    if (allowed && type !== allowed) throw new WhereError(`\`${t.text}\` is ${type === 'list' ? 'a list' : `a ${type}`} column; here a ${allowed === 'list' ? 'list (tags, target_modules)' : allowed} column is needed`, t.start, t.end);
    return t.text;
  }

  private literal(type: ColumnType, column: string): Literal {
    const t = this.next();
    if (t.type === 'string') {
      if (type !== 'string') throw new WhereError(`\`${column}\` is a ${type === 'list' ? 'list' : type}; a string does not compare with it`, t.start, t.end);
      return { kind: 'string', value: t.value! };
    }
    let negative = false;
    let num = t;
    if (t.type === 'punct' && t.text === '-') {
      negative = true;
      num = this.next();
      if (num.type !== 'number') throw this.unexpected(num, 'a number after `-`');
    }
    if (num.type === 'number') {
      if (type !== 'number') throw new WhereError(`\`${column}\` is a ${type === 'list' ? 'list' : type}; a number does not compare with it (quote it: '${num.text}')`, t.start, num.end);
      if (!Number.isFinite(Number(num.text))) throw new WhereError('number out of range', t.start, num.end);
      return { kind: 'number', text: (negative ? '-' : '') + num.text };
    }
    if (this.isKeyword('TRUE', t) || this.isKeyword('FALSE', t)) throw new WhereError(`\`${column}\` is a ${type}; a boolean does not compare with it`, t.start, t.end);
    throw this.unexpected(t, type === 'string' ? 'a quoted string' : 'a number');
  }

  private parsePredicate(): WhereNode {
    const first = this.peek();
    if (first.type === 'ident' && (first.text.toLowerCase() === 'array_has' || first.text.toLowerCase() === 'array_contains')) {
      this.next();
      this.countPredicate(first);
      this.expect('(', '`(`');
      const column = this.column(this.next(), 'list');
      this.expect(',', '`,`');
      const value = this.next();
      if (value.type !== 'string') throw this.unexpected(value, 'a quoted string');
      this.expect(')', '`)`');
      return { kind: 'has', column, value: value.value! };
    }
    if (first.type === 'ident' && this.tokens[this.pos + 1]?.text === '(' && this.tokens[this.pos + 1].type === 'punct') {
      throw new WhereError(`unknown function \`${first.text}\` (filters allow array_has and array_contains)`, first.start, first.end);
    }
    const colToken = this.next();
    const column = this.column(colToken);
    const type = WHERE_COLUMNS.get(column)!;
    this.countPredicate(colToken);
    const t = this.next();
    if (t.type === 'op') {
      if (type === 'list') throw new WhereError(`\`${column}\` is a list: use array_has(${column}, '…')`, colToken.start, t.end);
      return { kind: 'cmp', column, op: t.text === '!=' ? '<>' : t.text, value: this.literal(type, column) };
    }
    if (this.isKeyword('IS', t)) {
      let negated = false;
      if (this.isKeyword('NOT')) { this.next(); negated = true; }
      const n = this.next();
      if (!this.isKeyword('NULL', n)) throw this.unexpected(n, '`NULL`');
      return { kind: 'null', column, negated };
    }
    let negated = false;
    let op = t;
    if (this.isKeyword('NOT', t)) {
      negated = true;
      op = this.next();
    }
    if (this.isKeyword('IN', op)) {
      if (type === 'list') throw new WhereError(`\`${column}\` is a list: use array_has(${column}, '…')`, colToken.start, op.end);
      this.expect('(', '`(`');
      const values = [this.literal(type, column)];
      while (this.peek().type === 'punct' && this.peek().text === ',') {
        this.next();
        const at = this.peek();
        values.push(this.literal(type, column));
        if (values.length > WHERE_LIMITS.inItems) throw new WhereError(`an IN list of more than ${WHERE_LIMITS.inItems} values`, at.start, at.end);
      }
      this.expect(')', '`,` or `)`');
      return { kind: 'in', column, negated, values };
    }
    if (this.isKeyword('LIKE', op)) {
      if (type !== 'string') throw new WhereError(`LIKE applies to text columns; \`${column}\` is a ${type}`, colToken.start, op.end);
      const p = this.next();
      if (p.type !== 'string') throw this.unexpected(p, 'a quoted pattern');
      return { kind: 'like', column, negated, pattern: p.value! };
    }
    throw this.unexpected(op, negated ? '`IN` or `LIKE` after NOT' : 'a comparison (=, <>, <, <=, >, >=), IN, LIKE or IS NULL');
  }
}

/** Parses and bounds a filter; throws WhereError (with offsets into `text`) when it is not allowed. */
export function parseWhere(text: string): WhereNode {
  if (text.length > WHERE_LIMITS.length) {
    throw new WhereError(`the filter is ${text.length} characters long; at most ${WHERE_LIMITS.length} are allowed`, WHERE_LIMITS.length, text.length,
      'use `column IN (…)` for a list of values, or tags to select a group');
  }
  if (text.trim() === '') throw new WhereError('the filter is empty', 0, text.length);
  return new Parser(tokenize(text)).parseAll();
}

export function sqlQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function literalSql(l: Literal): string {
  if (l.kind === 'string') return sqlQuote(l.value);
  if (l.kind === 'bool') return l.value ? 'TRUE' : 'FALSE';
  return l.text;
}

/** A chain of the same connective as a balanced tree, so the SQL nests only log₂ n deep. */
function balanced(items: string[], op: 'AND' | 'OR'): string {
  if (items.length === 1) return items[0];
  const mid = items.length >> 1;
  return `(${balanced(items.slice(0, mid), op)} ${op} ${balanced(items.slice(mid), op)})`;
}

/** The canonical SQL of a parsed filter: self-contained (fully parenthesised), literals re-quoted. */
export function whereSql(node: WhereNode): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return balanced(node.items.map(whereSql), node.kind === 'and' ? 'AND' : 'OR');
    case 'not':
      return `(NOT ${whereSql(node.item)})`;
    case 'bool':
      return node.value ? 'TRUE' : 'FALSE';
    case 'cmp':
      return `(${node.column} ${node.op} ${literalSql(node.value)})`;
    case 'in':
      return `(${node.column}${node.negated ? ' NOT' : ''} IN (${node.values.map(literalSql).join(', ')}))`;
    case 'like':
      return `(${node.column}${node.negated ? ' NOT' : ''} LIKE ${sqlQuote(node.pattern)})`;
    case 'null':
      return `(${node.column} IS${node.negated ? ' NOT' : ''} NULL)`;
    case 'has':
      return `array_has(${node.column}, ${sqlQuote(node.value)})`;
  }
}

/**
 * parseWhere + whereSql: the only form of a user filter that is handed to LanceDB. Errors say
 * `invalid filter "…"` (the filter quoted, shortened when long) and keep their offsets.
 */
export function canonicalWhere(text: string): string {
  try {
    return whereSql(parseWhere(text));
  } catch (e) {
    if (!(e instanceof WhereError)) throw e;
    const shown = text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text;
    throw new WhereError(`invalid filter ${JSON.stringify(shown)}: ${e.message}`, e.start, e.end, e.hint);
  }
}
