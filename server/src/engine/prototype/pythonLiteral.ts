/**
 * A minimal parser of Python literals — dicts, tuples/lists, strings, ints, booleans, None — enough
 * for the header dict of a NumPy .npy file (npy.ts). Throws a plain Error with the offset; the caller
 * locates it in its file.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export function isDict(v: PyValue): v is { [key: string]: PyValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parsePythonLiteral(text: string): PyValue {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, PyValue> = {};
      for (;;) {
        skip();
        if (text[i] === '}') { i++; return out; }
        const key = value();
        if (typeof key !== 'string') throw new Error('a dict key is not a string');
        skip();
        if (text[i++] !== ':') throw new Error(`expected ':' at ${i - 1}`);
        out[key] = value();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') throw new Error(`expected ',' or '}' at ${i}`);
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const out: PyValue[] = [];
      for (;;) {
        skip();
        if (text[i] === close) { i++; return out; }
        out.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*|^-?\d+L?/.exec(text.slice(i))?.[0];
    if (!word) throw new Error(`unexpected character ${JSON.stringify(c ?? 'end of header')} at ${i}`);
    i += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    if (/^-?\d+L?$/.test(word)) return Number(word.replace('L', ''));
    throw new Error(`unexpected name '${word}'`);
  };
  const v = value();
  skip();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}
