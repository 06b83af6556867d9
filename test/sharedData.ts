// Where the shared real third-party LoRA files are: `../shared` beside the checkout (CI clones the repo
// elsewhere and lays a copy of shared/ beside it), else the session's /work/shared. Missing data is an
// error, never a skip: these tests are the evidence that real files load.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRealLoras(): string {
  const candidates = [process.env.ADAPTER_COMPOSER_REAL_LORAS, path.resolve(__dirname, '..', '..', 'shared', 'data', 'real-loras'), '/work/shared/data/real-loras'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error(`real LoRA files not found (looked in ${candidates.filter(Boolean).join(', ')}); set ADAPTER_COMPOSER_REAL_LORAS`);
}

export const REAL_LORAS = findRealLoras();
