// `library info` as text: one line per field, every value in one column, and nothing a committed
// library's meta holds (its encoder's name is data from the repository) reaches the terminal as a
// control sequence or a line of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../server/src/cli/main';
import { createLibrary } from '../../server/src/engine/library/create';
import { META_TABLE } from '../../server/src/engine/library/schema';

async function info(library: string, cwd: string): Promise<string> {
  let out = '';
  const code = await main(['library', 'info', library], { out: (t) => { out += t; }, err: () => undefined, isTTY: false, cwd });
  assert.equal(code, 0);
  return out;
}

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
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'a control character reached the terminal');
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
