// The library commands' text output: `library info` one line per field, every value in one column;
// and nothing a committed library holds (its encoder's name, its rows' names and paths are data from
// the repository) reaches the terminal as a control sequence or a line of its own (`info`, `verify`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../server/src/cli/main';
import { createLibrary } from '../../server/src/engine/library/create';
import { openLibrary } from '../../server/src/engine/library/library';
import { ADAPTERS_TABLE, META_TABLE, rowFromRecord } from '../../server/src/engine/library/schema';
import { buildFixture, removeFixture } from '../lsp/fixture';

async function run(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; }, isTTY: false, cwd });
  return { code, out, err };
}

async function info(library: string, cwd: string): Promise<string> {
  const r = await run(['library', 'info', library], cwd);
  assert.equal(r.code, 0);
  return r.out;
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/;

test('library info prints one aligned line per field, and escapes what the meta row holds', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-info-text-'));
  try {
    const library = path.join(root, 'library');
    await createLibrary(library, { dim: 4 });
    // A hostile committed library: an encoder name with a clipboard-writing escape and a line of its own.
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(library);
    const meta = await db.openTable(META_TABLE);
    await meta.update({ values: { encoder_name: 'enc\u001b]52;c;ZXZpbA==\u0007.onnx\nsize           999999' } });
    meta.close();
    db.close();
    const text = await info(library, root);
    assert.doesNotMatch(text, CONTROL, 'a control character reached the terminal');
    const lines = text.trimEnd().split('\n');
    const keys = lines.map((l) => l.split(' ')[0]);
    assert.deepEqual(keys.filter((k) => k === 'size'), ['size'], `a forged line: ${text}`);
    assert.ok(keys.includes('encoderName') && keys.includes('prototypePrecision'), text);
    // every value starts in the same column, after the longest key and two spaces
    const column = Math.max(...keys.map((k) => k.length)) + 2;
    for (const line of lines) assert.match(line.slice(0, column), /^\S+\s+$/, `misaligned: ${JSON.stringify(line)}`);
    for (const line of lines) assert.notEqual(line[column], ' ', `misaligned: ${JSON.stringify(line)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('library verify escapes the rows\' names and paths: a committed row cannot forge a status line or send an escape', async () => {
  const fixture = await buildFixture('ac-verify-text-');
  try {
    const library = await openLibrary(fixture.library);
    const [row] = await library.page({ offset: 0, limit: 1, prototypes: true });
    library.close();
    const record = await (await openLibrary(fixture.library)).get(row.name);
    assert.ok(record);
    // Rows as a hostile repository commits them (`library add` refuses such names): written straight into the table.
    const lancedb = await import('@lancedb/lancedb');
    const db = await lancedb.connect(fixture.library);
    const table = await db.openTable(ADAPTERS_TABLE);
    await table.add([
      rowFromRecord({ ...record, name: 'evil\u001b]52;c;ZXZpbA==\u0007\nok         forged-row' }),
      rowFromRecord({ ...record, name: 'other', path: 'adapters/x\u001b[2J\rok         forged-path' }),
    ]);
    table.close();
    db.close();
    const r = await run(['library', 'verify', fixture.library], fixture.root);
    assert.ok(r.code === 0 || r.code === 1, `verify exited ${r.code}: ${r.err}`);
    assert.match(r.out, /other/, r.out);
    assert.doesNotMatch(r.out + r.err, CONTROL, `a control character reached the terminal: ${JSON.stringify(r.out)}`);
    assert.doesNotMatch(r.out, /^ok +forged/m, `a forged status line: ${r.out}`);
  } finally {
    removeFixture(fixture);
  }
});

test('an error\'s message, location and hint reach the terminal escaped: a path or name from a repository cannot send an escape nor start a line a terminal or a CI runner reads', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-error-text-'));
  try {
    for (const forged of ['\nerror: forged\u0007', '\n::error file=a::forged', '\n   ::warning::forged', '\n##[error]forged', '\r\u001b[2Kerror: forged']) {
      const hostile = path.join(root, `nolib\u001b[2J${forged}`);
      const r = await run(['library', 'ls', hostile], root);
      assert.equal(r.code, 1, r.err);
      assert.doesNotMatch(r.err, CONTROL, `a control character reached the terminal: ${JSON.stringify(r.err)}`);
      for (const line of r.err.split('\n')) {
        assert.doesNotMatch(line, /^error: forged/, `a forged line: ${JSON.stringify(r.err)}`);
        assert.doesNotMatch(line.trimStart(), /^(::|##\[)/, `a line a CI runner reads as a command: ${JSON.stringify(r.err)}`);
      }
      // the error keeps its shape: the message first, the hint on its own line
      assert.match(r.err, /^error: .*nolib\\u001b\[2J/, r.err);
      assert.match(r.err, /\n {2}hint: /, r.err);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
