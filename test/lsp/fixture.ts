/**
 * A small, deterministic workspace for the language-server tests: a 4-d LanceDB library (no encoder)
 * with six PEFT adapters for one base and one for another, a target prototype, and recipes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adapterRecord } from '../../server/src/engine/addToLibrary';
import { initLibrary } from '../../server/src/engine/library/library';
import { writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { writeNpy } from '../../server/src/engine/prototype/npy';

export const BASE = 'demo/sam';
export const OTHER_BASE = 'demo/llm';

/** name → [prototype, rank, base] */
export const ADAPTERS: Record<string, { prototype: number[]; rank: number; base: string; tags: string[] }> = {
  'prostate-a': { prototype: [1, 0, 0, 0], rank: 2, base: BASE, tags: ['prostate', 'site-a'] },
  'prostate-b': { prototype: [0, 1, 0, 0], rank: 4, base: BASE, tags: ['prostate', 'site-b'] },
  'prostate-c': { prototype: [0, 0, 1, 0], rank: 2, base: BASE, tags: ['prostate', 'site-c'] },
  'prostate-d': { prototype: [0, 0, 0, 1], rank: 2, base: BASE, tags: ['prostate', 'site-d'] },
  'prostate-e': { prototype: [0.5, 0.5, 0.1, 0], rank: 2, base: BASE, tags: ['prostate', 'site-e'] },
  'prostate-f': { prototype: [0.6, 0.3, 0.2, 0.1], rank: 2, base: BASE, tags: ['prostate', 'site-f'] },
  'chat-x': { prototype: [0.5, 0.5, 0, 0], rank: 2, base: OTHER_BASE, tags: ['chat'] },
};

export const TARGET = [0.45, 0.4, 0.15, 0.05];

export const GOOD_RECIPE = `compose: 1
name: prostate-e
base: ${BASE}
library: ../library
target:
  prototype: ../data/target.proto.npy
retrieve:
  k: 4
  exclude: [prostate-e]
weights:
  strategy: sparse
  lambda: 0.05
merge:
  method: svd
  rank: 4
output: ../out/prostate-e
`;

export interface Fixture {
  root: string;
  library: string;
  recipes: string;
  goodRecipe: string;
}

/** Deterministic pseudo-random numbers (tensors only need to be fixed, not meaningful). */
function numbers(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.2;
  }
  return out;
}

/** A small real PEFT adapter (two 8×8 modules) for tests whose library needs adapters that exist. */
export function writePeft(dir: string, base: string, rank: number, seed: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const config = { base_model_name_or_path: base, peft_type: 'LORA', r: rank, lora_alpha: rank, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], bias: 'none', fan_in_fan_out: false, use_rslora: false };
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
  const tensors = [];
  let k = seed;
  for (const m of ['q_proj', 'v_proj']) {
    tensors.push({ name: `base_model.model.layers.0.${m}.lora_A.weight`, dtype: 'F32' as const, shape: [rank, 8], data: numbers(k++, rank * 8) });
    tensors.push({ name: `base_model.model.layers.0.${m}.lora_B.weight`, dtype: 'F32' as const, shape: [8, rank], data: numbers(k++, 8 * rank) });
  }
  writeFloatTensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
}

export async function buildFixture(prefix = 'ac-lsp-'): Promise<Fixture> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const libraryDir = path.join(root, 'library');
  const data = path.join(root, 'data');
  const recipes = path.join(root, 'recipes');
  fs.mkdirSync(data, { recursive: true });
  fs.mkdirSync(recipes, { recursive: true });
  writeNpy(path.join(data, 'target.proto.npy'), Float64Array.from(TARGET));
  writeNpy(path.join(data, 'wrong-dim.proto.npy'), Float64Array.from([1, 2, 3, 4, 5]));
  const library = await initLibrary(libraryDir, { dim: 4 });
  try {
    const records = [];
    let seed = 1;
    for (const [name, a] of Object.entries(ADAPTERS)) {
      const dir = path.join(root, 'adapters', name);
      writePeft(dir, a.base, a.rank, (seed += 10));
      const record = await adapterRecord(library, { adapterPath: dir, name, tags: a.tags, description: `Fixture adapter ${name}`, source: { vector: Float64Array.from(a.prototype) } });
      record.created_at = '2026-01-01T00:00:00.000Z';
      records.push(record);
    }
    await library.add(records);
  } finally {
    library.close();
  }
  const goodRecipe = path.join(recipes, 'prostate-e.compose.yaml');
  fs.writeFileSync(goodRecipe, GOOD_RECIPE);
  return { root, library: libraryDir, recipes, goodRecipe };
}

export function removeFixture(f: Fixture | undefined): void {
  if (f) fs.rmSync(f.root, { recursive: true, force: true });
}
