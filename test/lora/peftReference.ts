// The test side's own reading of a PEFT folder (straight from the tensors and adapter_config.json, none
// of lora/'s readers): the independent reference the merge tests compare against.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile } from '../../server/src/engine/lora/safetensors';

/** Independent dense ΔW of a PEFT folder, straight from the raw tensors and adapter_config.json. */
export function peftDense(dir: string, module: string): Float64Array | undefined {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  const st = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
  const aKey = `base_model.model.${module}.lora_A.weight`;
  if (!st.tensors.has(aKey)) return undefined;
  const A = st.readFloat64(aKey);
  const B = st.readFloat64(`base_model.model.${module}.lora_B.weight`);
  const [r, n] = st.info(aKey).shape;
  const m = st.info(`base_model.model.${module}.lora_B.weight`).shape[0];
  const rank = config.rank_pattern?.[module] ?? config.r;
  const alpha = config.alpha_pattern?.[module] ?? config.lora_alpha;
  assert.equal(rank, r, `config rank of ${module}`);
  const s = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let q = 0; q < r; q++) for (let j = 0; j < n; j++) out[i * n + j] += s * B[i * r + q] * A[q * n + j];
  return out;
}

