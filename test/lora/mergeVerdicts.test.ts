/**
 * The merge's refusals known before any tensor is read (engine/lora/mergeVerdicts.ts), as pure
 * functions: no module in common, modules_to_save under the default policy, shapes that disagree.
 * The merge and the planner both call them; this file pins their verdicts and messages (and is the
 * fast test the mutation run uses for them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modulesToSaveRefused, noSharedModules, shapeConflict } from '../../server/src/engine/lora/mergeVerdicts';

test('noSharedModules: the first adapter that shares nothing with the first one, with both formats named', () => {
  const a = { name: 'a', format: 'peft', modules: ['q', 'v'] };
  assert.equal(noSharedModules([]), undefined);
  assert.equal(noSharedModules([{ ...a, modules: [] }]), undefined, 'one adapter is never in conflict');
  assert.equal(noSharedModules([a, { name: 'b', format: 'peft', modules: ['v', 'o'] }]), undefined, 'one module in common is enough');
  const verdict = noSharedModules([a, { name: 'b', format: 'peft', modules: ['v'] }, { name: 'c', format: 'kohya', modules: ['lora_unet_x'] }, { name: 'd', format: 'mlx', modules: ['k'] }]);
  assert.deepEqual(verdict, {
    index: 2,
    message: 'c (kohya) and a (peft) adapt no module in common',
    hint: 'they were trained for different base models, or their formats name modules differently (kohya and cloneofsimo names only match adapters of the same format)',
  });
  assert.equal(noSharedModules([a, { name: 'z', format: 'mlx', modules: ['k'] }])?.message, 'z (mlx) and a (peft) adapt no module in common', 'two adapters are enough');
  // modules given as any iterable (a Map's keys), read once each
  assert.equal(noSharedModules([a, { name: 'm', format: 'peft', modules: new Map([['q', 1]]).keys() }]), undefined);
});

test('modulesToSaveRefused: refused under `refuse` only, naming every holder and module once, sorted', () => {
  const none = [{ index: 0, name: 'a', modules: [] }, { index: 1, name: 'b', modules: [] }];
  assert.equal(modulesToSaveRefused(none, 'refuse'), undefined);
  const one = [{ index: 0, name: 'a', modules: [] }, { index: 1, name: 'b', modules: ['score', 'classifier'] }];
  for (const policy of ['drop', 'average']) assert.equal(modulesToSaveRefused(one, policy), undefined, policy);
  assert.deepEqual(modulesToSaveRefused(one, 'refuse'), {
    index: 1,
    message: 'b carries full replacement weights (modules_to_save: classifier, score); they are not low-rank updates, so Σ wᵢ·ΔWᵢ does not apply to them',
    hint: "set `merge.modules_to_save: drop` (the base model's own weights are used) or `average` (a weighted average of the replacements)",
  });
  const two = [{ index: 3, name: 'c', modules: ['score'] }, { index: 1, name: 'b', modules: ['classifier', 'score'] }];
  const verdict = modulesToSaveRefused(two, 'refuse')!;
  assert.equal(verdict.index, 3, 'the first holder is at fault');
  assert.equal(verdict.message.split(';')[0], 'c, b carry full replacement weights (modules_to_save: classifier, score)');
});

test('shapeConflict: a module two adapters share must have one shape (in, out, kernel, embedding)', () => {
  const m = (name: string, outFeatures: number, inFeatures: number, extra: { kernel?: number[]; embedding?: boolean } = {}) => ({ name, outFeatures, inFeatures, ...extra });
  const base = { name: 'a', modules: [m('q', 8, 4), m('conv', 16, 8, { kernel: [3, 3] }), m('emb', 100, 8, { embedding: true })] };
  assert.equal(shapeConflict([]), undefined);
  assert.equal(shapeConflict([base]), undefined);
  assert.equal(shapeConflict([base, { name: 'b', modules: [m('q', 8, 4), m('conv', 16, 8, { kernel: [3, 3] }), m('emb', 100, 8, { embedding: true }), m('only-b', 1, 1)] }]), undefined);
  const conflict = (other: ReturnType<typeof m>) => shapeConflict([base, { name: 'b', modules: [m('v', 2, 2), other] }]);
  assert.deepEqual(conflict(m('q', 8, 5)), { index: 1, message: 'module "q" is [8, 5] in b but [8, 4] in a', hint: 'the adapters were trained on different base models' });
  assert.equal(conflict(m('q', 9, 4))?.message, 'module "q" is [9, 4] in b but [8, 4] in a');
  assert.equal(conflict(m('conv', 16, 8, { kernel: [1, 1] }))?.message, 'module "conv" is [16, 8] in b but [16, 8] in a', 'another kernel');
  assert.equal(conflict(m('conv', 16, 8))?.index, 1, 'no kernel against a kernel');
  assert.equal(conflict(m('emb', 100, 8))?.index, 1, 'a linear module against an embedding');
  assert.equal(conflict(m('q', 8, 4, { embedding: false })), undefined, 'embedding: false is no embedding');
  // the later adapter is at fault, compared with the first that had the module
  const three = shapeConflict([{ name: 'x', modules: [m('k', 1, 1)] }, base, { name: 'c', modules: [m('q', 8, 7)] }]);
  assert.deepEqual(three && { index: three.index, message: three.message }, { index: 2, message: 'module "q" is [8, 7] in c but [8, 4] in a' });
});
