/**
 * Cost of the output check (engine/outputGuard.ts) that every plan runs — each keystroke in the
 * editor: a workspace with a recipe, a library folder and an existing composite, checked against 14
 * and 5,000 adapters. Run: node --import tsx bench/outputGuard.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { outputHazards } from '../server/src/engine/outputGuard';

const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ac-bench-guard-')));
for (const d of ['recipes', 'library', 'out/composite']) fs.mkdirSync(path.join(ws, d), { recursive: true });
fs.writeFileSync(path.join(ws, 'recipes', 'r.compose.yaml'), 'compose: 1\n');
fs.writeFileSync(path.join(ws, 'out', 'composite', 'composition.json'), JSON.stringify({ tool: 'adapter-composer' }));
const adapters = Array.from({ length: 5000 }, (_, i) => ({ name: `a${i}`, path: path.join(ws, 'adapters', `a${i}`) }));
const base = { output: path.join(ws, 'out', 'composite'), recipeFile: path.join(ws, 'recipes', 'r.compose.yaml'), library: path.join(ws, 'library'), workspaceRoot: ws, lockFile: path.join(ws, 'recipes', 'r.compose.lock') };
for (const n of [14, 5000]) {
  const ctx = { ...base, adapters: adapters.slice(0, n) };
  if (outputHazards(ctx).length !== 0) throw new Error('the bench output should be safe');
  for (let i = 0; i < 20; i++) outputHazards(ctx);
  const runs = n > 100 ? 200 : 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) outputHazards(ctx);
  console.log(`${n} adapters: ${(Number(process.hrtime.bigint() - t0) / 1e6 / runs).toFixed(2)} ms per check`);
}
fs.rmSync(ws, { recursive: true, force: true });
