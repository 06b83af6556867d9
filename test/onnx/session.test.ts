import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../../server/src/engine/onnx/model';
import { createSession, probeProviders, providerOrder } from '../../server/src/engine/onnx/session';
import { ComposerError } from '../../server/src/engine/errors';

const relu = buildModel({
  inputs: [{ name: 'x', type: 'float32', shape: ['n'] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['n'] }],
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
});

const probes = probeProviders({ tryCreate: true });

test('cpu runs on CPU with no fallback', async () => {
  const s = await createSession(relu, { provider: 'cpu' });
  assert.equal(s.provider, 'cpu');
  assert.equal(s.fallback, undefined);
  const y = await s.session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 2]), [2]) });
  assert.deepEqual(Array.from(y.y.data as Float32Array), [0, 2]);
  await s.session.release();
});

test('asking for CUDA where it is absent falls back to CPU and says why', async (t) => {
  const cuda = (await probes).find((p) => p.provider === 'cuda');
  if (cuda?.available) return t.skip('CUDA is available on this machine');
  const s = await createSession(relu, { provider: 'cuda' });
  assert.equal(s.provider, 'cpu');
  assert.ok(s.fallback, 'a fallback message');
  assert.match(s.fallback, /^CUDA execution provider not available \(.+\); running on CPU$/);
  assert.equal(s.skipped[0].provider, 'cuda');
  assert.ok(s.fallback.includes(s.skipped[0].reason));
  await s.session.release();
});

test('auto falls to CPU quietly but records what it skipped', async (t) => {
  const cuda = (await probes).find((p) => p.provider === 'cuda');
  if (cuda?.available) return t.skip('CUDA is available on this machine');
  const s = await createSession(relu, { provider: 'auto' });
  assert.equal(s.provider, 'cpu');
  assert.equal(s.fallback, undefined);
  assert.deepEqual(s.skipped.map((x) => x.provider), ['cuda']);
  await s.session.release();
});

test('tensorrt tries TensorRT, then CUDA, then CPU', () => {
  assert.deepEqual(providerOrder('tensorrt'), ['tensorrt', 'cuda', 'cpu']);
  assert.deepEqual(providerOrder('auto'), ['cuda', 'cpu']);
  assert.deepEqual(providerOrder('cpu'), ['cpu']);
});

test('probe: cpu available; every unavailable provider has a reason', async () => {
  const list = await probes;
  assert.deepEqual(list.map((p) => p.provider), ['cpu', 'cuda', 'tensorrt', 'webgpu']);
  assert.equal(list[0].available, true);
  for (const p of list) if (!p.available) assert.ok(p.reason && p.reason.length > 0, `${p.provider} has a reason`);
});

test('a broken model file is an encoder error located at the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-session-'));
  const file = path.join(dir, 'broken.onnx');
  fs.writeFileSync(file, Buffer.from('not a model'));
  await assert.rejects(createSession(file, { provider: 'cpu' }), (e: unknown) => {
    assert.ok(e instanceof ComposerError);
    assert.equal(e.code, 'encoder');
    assert.equal(e.location?.file, file);
    return true;
  });
  await assert.rejects(createSession(path.join(dir, 'missing.onnx')), (e: unknown) => e instanceof ComposerError && /not found/.test(e.message));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an unknown provider name is a usage error', async () => {
  await assert.rejects(createSession(relu, { provider: 'tpu' as never }), (e: unknown) => e instanceof ComposerError && e.code === 'usage');
});
