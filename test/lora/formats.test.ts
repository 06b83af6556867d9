import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComposerError } from '../../server/src/engine/errors';
import { deltaOf, readFactors } from '../../server/src/engine/lora/adapter';
import { describeAdapter } from '../../server/src/engine/lora/describe';
import { openAdapter } from '../../server/src/engine/lora/formats';
import { SafetensorsFile, writeFloatTensors } from '../../server/src/engine/lora/safetensors';
import { REAL_LORAS } from '../sharedData';

const REAL = REAL_LORAS;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-fmt-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function adapterFolders(): string[] {
  const out: string[] = [];
  for (const group of fs.readdirSync(REAL)) {
    const g = path.join(REAL, group);
    if (!fs.statSync(g).isDirectory()) continue;
    for (const a of fs.readdirSync(g)) if (fs.statSync(path.join(g, a)).isDirectory()) out.push(path.join(g, a));
  }
  return out.sort();
}

function refusal(fn: () => unknown): ComposerError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ComposerError, `expected ComposerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a refusal');
}

const EXPECTED: Record<string, { format?: string; refused?: RegExp; rank?: number; alpha?: number; targets?: string[] }> = {
  'cloneofsimo-sd15/analog_svd_rank4': { format: 'cloneofsimo', rank: 4, alpha: 4 },
  'cloneofsimo-sd15/lora_disney': { format: 'cloneofsimo', rank: 1, alpha: 1 },
  'diffusers-sd-unet/sd15-weapons-catundchat': { format: 'diffusers', rank: 4, alpha: 4, targets: ['to_k', 'to_out.0', 'to_q', 'to_v'] },
  'lycoris-lokr-kohya/smart_falcon_4_lokr': { refused: /LyCORIS LoKr.*Kronecker/ },
  'lycoris-lokr-kohya/smart_falcon_8_lokr': { refused: /LyCORIS LoKr.*Kronecker/ },
  'mlx-minicpm/minicpm-2b-q-v-r8': { format: 'mlx', rank: 8, targets: ['q_proj', 'v_proj'] },
  'peft-gpt2/dialogpt-small-synthetic-gradience': { format: 'peft', rank: 8, alpha: 16, targets: ['c_attn', 'c_proj'] },
  'peft-gpt2/tigrinya-causal-lm': { format: 'peft', rank: 8, alpha: 32, targets: ['c_attn', 'c_proj'] },
  'peft-opt350m/lora_opt-350m': { refused: /pickled PyTorch checkpoint.*never unpickled/ },
  'peft-opt350m/lora_opt-350m_bnb_4bit': { refused: /pickled PyTorch checkpoint/ },
  'peft-roberta-mrpc/checkpoint-230': { format: 'peft', rank: 8, alpha: 16, targets: ['query', 'value'] },
  'peft-roberta-mrpc/checkpoint-460': { format: 'peft', rank: 8, alpha: 16, targets: ['query', 'value'] },
  'peft-toy-regression/lora_conv2d': { refused: /pickled/ },
  'peft-toy-regression/lora_emb_conv1d': { refused: /pickled/ },
  'peft-toy-regression/lora_mlp': { refused: /pickled/ },
  'peft-toy-regression/lora_mlp_modules_to_save': { refused: /pickled/ },
};

test('every real adapter folder is either read or refused with its reason', () => {
  const folders = adapterFolders();
  assert.equal(folders.length, Object.keys(EXPECTED).length, 'a new folder appeared under real-loras: add its expectation');
  for (const folder of folders) {
    const rel = path.relative(REAL, folder);
    const want = EXPECTED[rel];
    assert.ok(want, rel);
    if (want.refused) {
      const e = refusal(() => describeAdapter(folder));
      assert.equal(e.code, 'unsupported-adapter', rel);
      assert.match(e.message, want.refused, rel);
      assert.ok(e.hint && e.hint.length > 20, `${rel}: a refusal says what to do`);
      if (/pickled/.test(e.message)) assert.match(e.hint, /safetensors/);
      continue;
    }
    const d = describeAdapter(folder);
    assert.equal(d.format, want.format, rel);
    if (want.rank !== undefined) assert.equal(d.rank, want.rank, rel);
    if (want.alpha !== undefined) assert.equal(d.alpha, want.alpha, rel);
    if (want.targets) assert.deepEqual(d.target_modules, want.targets, rel);
    assert.match(d.sha256, /^[0-9a-f]{64}$/);
    // every module's factors can be read and are finite
    const adapter = openAdapter(folder);
    let modules = 0;
    for (const m of adapter.modules.values()) {
      const f = readFactors(adapter, m);
      assert.equal(f.a.length, m.rank * m.inFeatures);
      assert.equal(f.b.length, m.rank * m.outFeatures);
      assert.ok(f.a.every(Number.isFinite) && f.b.every(Number.isFinite));
      modules++;
    }
    assert.ok(modules > 0, rel);
  }
});

test('real adapters: module counts, scales and names match their PROVENANCE', () => {
  const tig = openAdapter(`${REAL}/peft-gpt2/tigrinya-causal-lm`);
  assert.equal(tig.modules.size, 36);
  assert.equal(tig.modules.get('transformer.h.0.attn.c_attn')!.scale, 32 / 8);
  assert.equal(tig.modules.get('transformer.h.0.attn.c_attn')!.outFeatures, 2304);
  const roberta = describeAdapter(`${REAL}/peft-roberta-mrpc/checkpoint-230`);
  assert.deepEqual(roberta.modules_to_save, ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
  const diff = openAdapter(`${REAL}/diffusers-sd-unet/sd15-weapons-catundchat`);
  assert.equal(diff.modules.size, 128);
  assert.ok(diff.modules.has('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0'));
  assert.ok(diff.modules.has('unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k'));
  assert.equal(diff.modules.get('unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k')!.inFeatures, 768);
  const disney = describeAdapter(`${REAL}/cloneofsimo-sd15/lora_disney`);
  assert.equal(disney.module_count, 192);
  assert.deepEqual(disney.token_embeddings, ['<s1>', '<s2>']);
});

test('MLX: ΔW = scale · lora_bᵀ · lora_aᵀ, computed from the raw tensors', () => {
  const dir = `${REAL}/mlx-minicpm/minicpm-2b-q-v-r8`;
  const adapter = openAdapter(dir);
  assert.equal(adapter.modules.size, 8);
  const name = 'model.layers.36.self_attn.q_proj';
  const m = adapter.modules.get(name)!;
  assert.equal(m.scale, 10);
  const st = SafetensorsFile.open(`${dir}/adapters.safetensors`);
  const la = st.readFloat64(`${name}.lora_a`); // [in, r]
  const lb = st.readFloat64(`${name}.lora_b`); // [r, out]
  const [inF, r] = st.info(`${name}.lora_a`).shape;
  const out = st.info(`${name}.lora_b`).shape[1];
  const delta = deltaOf(adapter, name); // [out, in]
  // spot-check entries: y = x·W + s·(x·la)·lb  ⇒  ΔW[o][i] = s·Σ_q la[i][q]·lb[q][o]
  for (const [o, i] of [[0, 0], [5, 17], [out - 1, inF - 1], [1000, 2000]]) {
    let s = 0;
    for (let q = 0; q < r; q++) s += la[i * r + q] * lb[q * out + o];
    assert.ok(Math.abs(delta[o * inF + i] - 10 * s) <= 1e-12 * (1 + Math.abs(10 * s)));
  }
});

function write(file: string, tensors: Record<string, { shape: number[]; data?: number[]; dtype?: 'F32' | 'F16' | 'BF16' }>, metadata?: Record<string, string>) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFloatTensors(file, Object.entries(tensors).map(([name, t]) => ({
    name,
    dtype: t.dtype ?? 'F32',
    shape: t.shape,
    data: t.data ?? Array.from({ length: t.shape.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i + name.length)),
  })), metadata);
}

test('kohya: alpha scalar, conv 3×3 flattened exactly, missing alpha means α = r', () => {
  const file = path.join(tmp, 'kohya', 'net.safetensors');
  write(file, {
    'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight': { shape: [4, 6] },
    'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight': { shape: [5, 4] },
    'lora_unet_mid_block_attentions_0_proj_in.alpha': { shape: [], data: [2], dtype: 'F16' },
    'lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight': { shape: [2, 3, 3, 3] },
    'lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight': { shape: [4, 2, 1, 1] },
  });
  const a = openAdapter(file);
  assert.equal(a.format, 'kohya');
  const lin = a.modules.get('lora_unet_mid_block_attentions_0_proj_in')!;
  assert.equal(lin.scale, 2 / 4);
  const conv = a.modules.get('lora_unet_down_blocks_0_resnets_0_conv1')!;
  assert.deepEqual(conv.kernel, [3, 3]);
  assert.equal(conv.inFeatures, 27);
  assert.equal(conv.scale, 1);
  // ΔW of the conv as a [out, in·kh·kw] matrix equals up[o, q]·down[q, c, y, x]
  const st = SafetensorsFile.open(file);
  const down = st.readFloat64('lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight');
  const up = st.readFloat64('lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight');
  const d = deltaOf(a, conv.name);
  for (let o = 0; o < 4; o++) for (let c = 0; c < 27; c++) {
    const expected = up[o * 2] * down[c] + up[o * 2 + 1] * down[27 + c];
    assert.ok(Math.abs(d[o * 27 + c] - expected) < 1e-12);
  }
  assert.deepEqual(describeAdapter(file).target_modules, ['conv1', 'proj_in']);
});

test('diffusers layouts (processor / unet. / text_encoder.) normalise to the same module names', () => {
  const file = path.join(tmp, 'diff-new', 'pytorch_lora_weights.safetensors');
  write(file, {
    'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.lora.down.weight': { shape: [2, 8] },
    'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0.lora.up.weight': { shape: [8, 2] },
    'text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down.weight': { shape: [2, 8] },
    'text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.up.weight': { shape: [8, 2] },
  });
  const a = openAdapter(path.dirname(file));
  assert.equal(a.format, 'diffusers');
  assert.deepEqual([...a.modules.keys()].sort(), ['text_encoder.text_model.encoder.layers.0.self_attn.q_proj', 'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0']);
  const old = openAdapter(`${REAL}/diffusers-sd-unet/sd15-weapons-catundchat`);
  assert.ok(old.modules.has('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0'));
});

test('PEFT config: rank_pattern / alpha_pattern by suffix, rsLoRA, adapter-name keys', () => {
  const dir = path.join(tmp, 'peft-patterns');
  write(path.join(dir, 'adapter_model.safetensors'), {
    'base_model.model.layers.0.q_proj.lora_A.weight': { shape: [4, 6] },
    'base_model.model.layers.0.q_proj.lora_B.weight': { shape: [6, 4] },
    'base_model.model.layers.0.v_proj.lora_A.default.weight': { shape: [2, 6] },
    'base_model.model.layers.0.v_proj.lora_B.default.weight': { shape: [6, 2] },
  });
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: true, rank_pattern: { v_proj: 2 }, alpha_pattern: { 'layers.0.v_proj': 3 }, target_modules: ['q_proj', 'v_proj'] }));
  const a = openAdapter(dir);
  assert.equal(a.modules.get('layers.0.q_proj')!.scale, 8 / Math.sqrt(4));
  assert.equal(a.modules.get('layers.0.v_proj')!.rank, 2);
  assert.equal(a.modules.get('layers.0.v_proj')!.scale, 3 / Math.sqrt(2));
  // a config that disagrees with the tensors is an error, not a silent wrong scale
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8 }));
  const e = refusal(() => openAdapter(dir));
  assert.equal(e.code, 'adapter-format');
  assert.match(e.message, /layers\.0\.v_proj.*rank 2.*r = 4/);
});

test('refusals: DoRA (config and keys), LoHa, unknown keys, PEFT non-LoRA types, MLX without config', () => {
  const dir = path.join(tmp, 'dora');
  write(path.join(dir, 'adapter_model.safetensors'), {
    'base_model.model.q.lora_A.weight': { shape: [2, 4] },
    'base_model.model.q.lora_B.weight': { shape: [4, 2] },
    'base_model.model.q.lora_magnitude_vector': { shape: [4] },
  });
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 2 }));
  assert.match(refusal(() => openAdapter(dir)).message, /DoRA.*lora_magnitude_vector/);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 2, use_dora: true }));
  assert.match(refusal(() => openAdapter(dir)).message, /DoRA/);
  fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'IA3' }));
  assert.match(refusal(() => openAdapter(dir)).message, /IA3/);

  const loha = path.join(tmp, 'loha.safetensors');
  write(loha, { 'lora_unet_x.hada_w1_a': { shape: [2, 2] }, 'lora_unet_x.hada_w1_b': { shape: [2, 2] } });
  assert.match(refusal(() => openAdapter(loha)).message, /LyCORIS LoHa/);

  const unknown = path.join(tmp, 'unknown', 'adapter_model.safetensors');
  write(unknown, { 'base_model.model.q.lora_A.weight': { shape: [2, 4] }, 'base_model.model.q.lora_B.weight': { shape: [4, 2] }, 'base_model.model.score.weight': { shape: [2, 4] } });
  fs.writeFileSync(path.join(path.dirname(unknown), 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 2 }));
  const e = refusal(() => openAdapter(path.dirname(unknown)));
  assert.equal(e.code, 'unsupported-adapter');
  assert.match(e.message, /unrecognised tensor "base_model\.model\.score\.weight"/);

  const mlx = path.join(tmp, 'mlx-noconfig', 'adapters.safetensors');
  write(mlx, { 'm.q.lora_a': { shape: [4, 2] }, 'm.q.lora_b': { shape: [2, 4] } });
  assert.match(refusal(() => openAdapter(path.dirname(mlx))).message, /MLX adapter without adapter_config\.json/);

  const pickle = path.join(tmp, 'renamed.safetensors');
  fs.writeFileSync(pickle, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0]));
  assert.match(refusal(() => openAdapter(pickle)).message, /pickled PyTorch checkpoint/);
});
