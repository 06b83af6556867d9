// `library add` of a real adapter whose format has no config file: the message must not send the user
// looking for "the adapter's config" (found by the new-user walkthrough on cloneofsimo and diffusers files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initLibrary } from '../../server/src/engine/library/library';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { ComposerError } from '../../server/src/engine/errors';
import { REAL_LORAS } from '../sharedData';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-add-messages-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

test('an adapter without a config file and without --base: the message names its format, not a config', async () => {
  const library = await initLibrary(path.join(root, 'lib'), { dim: 2 });
  try {
    for (const [adapter, format] of [['cloneofsimo-sd15/lora_disney', 'cloneofsimo'], ['diffusers-sd-unet/sd15-weapons-catundchat', 'diffusers']]) {
      await assert.rejects(adapterRecord(library, { adapterPath: path.join(REAL_LORAS, adapter), name: 'x', source: { vector: new Float64Array([1, 0]) } }), (e: unknown) => {
        assert.ok(e instanceof ComposerError);
        assert.equal(e.message, `a ${format} adapter records no base model (the format has no config file)`);
        assert.match(e.hint ?? '', /--base MODEL/);
        return true;
      });
    }
  } finally {
    library.close();
  }
});
