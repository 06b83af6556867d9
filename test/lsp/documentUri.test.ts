/** Document URIs ↔ files (server/src/service/documentUri.ts): the one mapping the server and the service use. */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { documentUri, planningFileOf, savedFileOf } from '../../server/src/service/documentUri';

describe('document URIs', () => {
  it('a local file round-trips through its URI, whatever its name', () => {
    for (const name of ['plain.compose.yaml', 'with space.compose.yaml', '100%.compose.yaml', 'é#?.compose.yaml']) {
      const file = path.join('/tmp', 'ws dir', name);
      const uri = documentUri(file);
      assert.match(uri, /^file:\/\//);
      assert.equal(savedFileOf(uri), file, name);
      assert.equal(planningFileOf(uri, '/elsewhere'), file, name);
    }
  });

  it('only a file: URI of this machine names a saved file; other buffers are planned from a name in the workspace', () => {
    for (const uri of ['untitled:Untitled-1', 'vscode-notebook-cell:/x#1', 'file://otherhost/share/a.compose.yaml']) {
      assert.equal(savedFileOf(uri), undefined, uri);
      const planned = planningFileOf(uri, '/ws');
      assert.equal(path.dirname(planned), '/ws', `${uri} → ${planned}`);
    }
  });
});
