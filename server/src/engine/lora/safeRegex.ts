/**
 * PEFT `rank_pattern` / `alpha_pattern` keys are regular expressions from a downloaded file. JS's
 * RegExp backtracks: a counted guard on "dangerous" shapes is bypassed by bounded quantifiers
 * (12 × `.{0,40}` then `!` took 43 s). So these patterns never reach a backtracking engine: a safe
 * subset of Python's `re` syntax is compiled here to a Thompson NFA and matched by simulating every
 * thread at once (Pike VM), in O(text length × program size) steps whatever the pattern.
 *
 * Supported: literals, `.`, escapes (\d \w \s \D \W \S and escaped punctuation), classes `[a-z_]`,
 * `[^…]`, groups `(…)` `(?:…)` `(?P<name>…)`, `|`, quantifiers `* + ? {n} {n,} {n,m}` (lazy `?`
 * suffix accepted: for a yes/no full match greediness does not matter), `^` and `$`.
 * Refused with a reason: backreferences, lookaround, inline flags, \b \B, and programs larger than
 * MAX_PROGRAM instructions (bounded repeats are expanded).
 */

export const MAX_PROGRAM = 20_000;
const MAX_PATTERN = 1000;

/** Why a pattern cannot be compiled (message for the user), with its offset in the pattern. */
export class PatternError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

type CharTest = (c: number) => boolean;
type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isSpace: CharTest = (c) => c === 32 || (c >= 9 && c <= 13);
const not = (f: CharTest): CharTest => (c) => !f(c);

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alt();
    if (this.i < this.src.length) throw new PatternError(`unbalanced \`)\` at ${this.i}`, this.i);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.peek() === '|') {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') items.push(this.repeat());
    return { t: 'cat', items };
  }

  private repeat(): Node {
    const start = this.i;
    let node = this.atom();
    let quantified = false;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === '*') { min = 0; max = Infinity; this.i++; }
      else if (c === '+') { min = 1; max = Infinity; this.i++; }
      else if (c === '?') { min = 0; max = 1; this.i++; }
      else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i))!;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) throw new PatternError(`bad repeat {${m[1]}${m[2]}} (max below min)`, this.i);
        if (min > 1000 || (max !== Infinity && max > 1000)) throw new PatternError('a repeat count above 1000', this.i);
        this.i += m[0].length;
      } else break;
      if (quantified) throw new PatternError(`multiple repeat at ${this.i - 1}`, this.i - 1);
      if (node.t === 'bol' || node.t === 'eol') throw new PatternError(`nothing to repeat at ${start}`, start);
      quantified = true;
      if (this.peek() === '?') this.i++; // lazy: same language
      node = { t: 'rep', node, min, max };
    }
    return node;
  }

  private atom(): Node {
    const at = this.i;
    const c = this.src[this.i++];
    switch (c) {
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        else if (this.src.startsWith('?P<', this.i)) {
          const close = this.src.indexOf('>', this.i);
          if (close < 0 || !/^[A-Za-z_]\w*$/.test(this.src.slice(this.i + 3, close))) throw new PatternError(`bad group name at ${at}`, at);
          this.i = close + 1;
        } else if (this.peek() === '?') {
          const what = this.src.startsWith('?=', this.i) || this.src.startsWith('?!', this.i) || this.src.startsWith('?<', this.i) ? 'lookaround'
            : this.src.startsWith('?P=', this.i) || this.src.startsWith('?(', this.i) ? 'a backreference' : 'an inline flag or extension';
          throw new PatternError(`uses ${what} at ${at}, which PEFT patterns here do not support`, at);
        }
        const inner = this.alt();
        if (this.peek() !== ')') throw new PatternError(`missing \`)\` for the group at ${at}`, at);
        this.i++;
        return inner;
      }
      case ')':
        throw new PatternError(`unbalanced \`)\` at ${at}`, at);
      case '[':
        return { t: 'char', test: this.charClass(at) };
      case '.':
        return { t: 'char', test: (x) => x !== 10 };
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '\\':
        return { t: 'char', test: this.escape(at, false) };
      case '*': case '+': case '?':
        throw new PatternError(`nothing to repeat at ${at}`, at);
      case '{':
        if (/^\d+(,\d*)?\}/.test(this.src.slice(this.i))) throw new PatternError(`nothing to repeat at ${at}`, at);
        return literal(c);
      default:
        return literal(c);
    }
  }

  private escape(at: number, _inClass: boolean): CharTest {
    const e = this.src[this.i++];
    if (e === undefined) throw new PatternError('a trailing backslash', at);
    switch (e) {
      case 'd': return isDigit;
      case 'D': return not(isDigit);
      case 'w': return isWord;
      case 'W': return not(isWord);
      case 's': return isSpace;
      case 'S': return not(isSpace);
      case 'n': return (x) => x === 10;
      case 't': return (x) => x === 9;
    }
    if (/[0-9]/.test(e)) throw new PatternError(`uses a backreference (\\${e}) at ${at}, which PEFT patterns here do not support`, at);
    if (/[A-Za-z]/.test(e)) throw new PatternError(`uses the escape \\${e} at ${at}, which PEFT patterns here do not support`, at);
    const code = e.charCodeAt(0);
    return (x) => x === code;
  }

  /** A single escaped character inside a class (the backslash at this.i); its code. */
  private classEscape(at: number): number {
    const e = this.src[this.i + 1];
    this.i += 2;
    if (e === undefined) throw new PatternError(`unterminated character set at ${at}`, at);
    if (e === 'n') return 10;
    if (e === 't') return 9;
    if (/[A-Za-z0-9]/.test(e)) throw new PatternError(`uses the escape \\${e} at ${at}, which PEFT patterns here do not support`, at);
    return e.charCodeAt(0);
  }

  private charClass(at: number): CharTest {
    let negate = false;
    if (this.peek() === '^') { negate = true; this.i++; }
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      if (this.i >= this.src.length) throw new PatternError(`unterminated character set at ${at}`, at);
      const c = this.src[this.i];
      if (c === ']' && !first) { this.i++; break; }
      first = false;
      let lo: number;
      if (c === '\\') {
        const e = this.src[this.i + 1];
        if (e !== undefined && /[dDwWsS]/.test(e)) {
          this.i++;
          tests.push(this.escape(this.i - 1, true));
          continue;
        }
        lo = this.classEscape(at);
      } else {
        lo = c.charCodeAt(0);
        this.i++;
      }
      if (this.peek() === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        this.i++;
        const hi = this.src[this.i] === '\\' ? this.classEscape(at) : this.src.charCodeAt(this.i++);
        if (hi < lo) throw new PatternError(`bad character range at ${at}`, at);
        const l = lo;
        tests.push((x) => x >= l && x <= hi);
      } else {
        const l = lo;
        tests.push((x) => x === l);
      }
    }
    const any: CharTest = (x) => tests.some((t) => t(x));
    return negate ? not(any) : any;
  }
}

function literal(c: string): Node {
  const code = c.charCodeAt(0);
  return { t: 'char', test: (x) => x === code };
}

type Instr =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'bol'; next: number }
  | { op: 'eol'; next: number }
  | { op: 'match' };

/** A compiled pattern: `fullMatch` says whether the whole text matches, in linear time. */
export interface SafePattern {
  readonly size: number;
  /** `steps` (optional) counts thread additions, for tests that bound the work. */
  fullMatch(text: string, counter?: { steps: number }): boolean;
}

class Compiler {
  readonly prog: Instr[] = [];

  emit(i: Instr): number {
    if (this.prog.length >= MAX_PROGRAM) throw new PatternError(`expands to more than ${MAX_PROGRAM} steps (bounded repeats are unrolled)`, 0);
    this.prog.push(i);
    return this.prog.length - 1;
  }

  /** Emits `node`; every dangling `next` is patched to the instruction after it. */
  gen(node: Node): void {
    const p = this.prog;
    switch (node.t) {
      case 'char': {
        const at = this.emit({ op: 'char', test: node.test, next: -1 });
        (p[at] as { next: number }).next = p.length;
        return;
      }
      case 'bol':
      case 'eol': {
        const at = this.emit({ op: node.t, next: -1 });
        (p[at] as { next: number }).next = p.length;
        return;
      }
      case 'cat':
        for (const item of node.items) this.gen(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let k = 0; k < node.items.length; k++) {
          if (k < node.items.length - 1) {
            const split = this.emit({ op: 'split', a: -1, b: -1 });
            (p[split] as { a: number }).a = p.length;
            this.gen(node.items[k]);
            jumps.push(this.emit({ op: 'jmp', to: -1 }));
            (p[split] as { b: number }).b = p.length;
          } else this.gen(node.items[k]);
        }
        for (const j of jumps) (p[j] as { to: number }).to = p.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < node.min; k++) this.gen(node.node);
        if (node.max === Infinity) {
          const split = this.emit({ op: 'split', a: -1, b: -1 });
          (p[split] as { a: number }).a = p.length;
          this.gen(node.node);
          this.emit({ op: 'jmp', to: split });
          (p[split] as { b: number }).b = p.length;
        } else {
          const splits: number[] = [];
          for (let k = node.min; k < node.max; k++) {
            const split = this.emit({ op: 'split', a: -1, b: -1 });
            (p[split] as { a: number }).a = p.length;
            splits.push(split);
            this.gen(node.node);
          }
          for (const s of splits) (p[s] as { b: number }).b = p.length;
        }
        return;
      }
    }
  }
}

class Program implements SafePattern {
  constructor(private readonly prog: Instr[]) {}

  get size(): number {
    return this.prog.length;
  }

  fullMatch(text: string, counter?: { steps: number }): boolean {
    const n = this.prog.length;
    const mark = new Int32Array(n).fill(-1);
    let current: number[] = [];
    let generation = 0;
    // Adds pc and everything reachable from it without reading a character (an explicit stack).
    const add = (list: number[], pc0: number, pos: number) => {
      const stack = [pc0];
      while (stack.length) {
        const pc = stack.pop()!;
        if (mark[pc] === generation) continue;
        mark[pc] = generation;
        if (counter) counter.steps++;
        const ins = this.prog[pc];
        switch (ins.op) {
          case 'jmp': stack.push(ins.to); break;
          case 'split': stack.push(ins.b, ins.a); break;
          case 'bol': if (pos === 0) stack.push(ins.next); break;
          case 'eol': if (pos === text.length) stack.push(ins.next); break;
          default: list.push(pc);
        }
      }
    };
    add(current, 0, 0);
    for (let pos = 0; pos < text.length && current.length > 0; pos++) {
      const c = text.charCodeAt(pos);
      generation++;
      const next: number[] = [];
      for (const pc of current) {
        const ins = this.prog[pc];
        if (ins.op === 'char' && ins.test(c)) add(next, ins.next, pos + 1);
      }
      current = next;
    }
    return current.some((pc) => this.prog[pc].op === 'match');
  }
}

/**
 * Compiles `(.*\.)?(pattern)` anchored at both ends — PEFT's `re.match(rf"(.*\.)?({key})$", module)`.
 * Throws PatternError for what is not supported or too large.
 */
export function compilePeftPattern(pattern: string): SafePattern {
  if (pattern.length > MAX_PATTERN) throw new PatternError(`is longer than ${MAX_PATTERN} characters`, MAX_PATTERN);
  const key = new Parser(pattern).parse();
  const anyDot: Node = { t: 'rep', node: { t: 'cat', items: [{ t: 'rep', node: { t: 'char', test: (x) => x !== 10 }, min: 0, max: Infinity }, literal('.')] }, min: 0, max: 1 };
  const c = new Compiler();
  c.gen({ t: 'cat', items: [anyDot, key] });
  c.emit({ op: 'match' });
  return new Program(c.prog);
}
