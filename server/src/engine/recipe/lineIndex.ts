/**
 * Offset ↔ position conversion for a recipe's text. Positions are 0-based (LSP style, UTF-16 code
 * units, which is what JS string offsets already are); `oneBased` gives what CLIs and compilers print.
 * Line breaks are `\n`, `\r\n` and a lone `\r`, as LSP counts them.
 */
import type { Position, Range } from './problem';

export class LineIndex {
  /** Offset at which each line starts; lineStarts[0] = 0. */
  readonly lineStarts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.lineStarts = starts;
  }

  /** 0-based position of an offset; offsets outside the text are clamped to it. */
  positionAt(offset: number): Position {
    const o = clamp(Math.floor(Number.isFinite(offset) ? offset : 0), 0, this.text.length);
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    // An offset between the \r and \n of a CRLF is not a position: it stays at the line's end.
    const lineEnd = lo + 1 < this.lineStarts.length ? this.lineEndBeforeBreak(lo) : this.text.length;
    return { line: lo, character: Math.min(o, lineEnd) - this.lineStarts[lo] };
  }

  /** Offset of a 0-based position; positions past a line's end stop at the line break. */
  offsetAt(position: Position): number {
    const line = clamp(position.line, 0, this.lineStarts.length - 1);
    const start = this.lineStarts[line];
    const end = line + 1 < this.lineStarts.length ? this.lineEndBeforeBreak(line) : this.text.length;
    return clamp(start + Math.max(0, position.character), start, end);
  }

  rangeOf(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(Math.max(start, end)) };
  }

  /** 1-based line and column, as `file:line:col` prints them. */
  oneBased(position: Position): { line: number; column: number } {
    return { line: position.line + 1, column: position.character + 1 };
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Offset of the end of a line's content (before its line break). */
  lineEndBeforeBreak(line: number): number {
    if (line + 1 >= this.lineStarts.length) return this.text.length;
    let end = this.lineStarts[line + 1] - 1;
    if (this.text.charCodeAt(end) === 10 && end > this.lineStarts[line] && this.text.charCodeAt(end - 1) === 13) end--;
    return end;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
