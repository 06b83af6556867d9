/**
 * JSON snapshots under test/lsp/__snapshots__/: `UPDATE_SNAPSHOTS=1` writes them, otherwise they are
 * compared. Values are normalised first: temp paths → <ws>, floats → 6 significant digits.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const DIR = path.join(__dirname, '__snapshots__');

export function normalize(value: unknown, roots: string[]): unknown {
  let text = JSON.stringify(value) ?? 'null';
  for (const root of roots) {
    text = text.split(encodeURI(root)).join('<ws>').split(root).join('<ws>');
  }
  return JSON.parse(text, (_key, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v));
}

export function matchSnapshot(name: string, value: unknown, roots: string[] = []): void {
  const file = path.join(DIR, `${name}.json`);
  const actual = normalize(value, roots);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    fs.mkdirSync(DIR, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
    return;
  }
  assert.ok(fs.existsSync(file), `snapshot ${name} is missing: run the tests once with UPDATE_SNAPSHOTS=1 and review ${path.relative(process.cwd(), file)}`);
  const expected = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepStrictEqual(actual, expected, `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 rewrites it after review)`);
}
