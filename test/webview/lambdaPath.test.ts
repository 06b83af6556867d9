import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampLambda, weightsAt } from '../../webview/src/lambdaPath';
import { planFixture } from './planFixture';

const path = planFixture().lambda_path!;

test('weightsAt returns each breakpoint exactly at its λ', () => {
  for (const b of path.breakpoints) assert.deepEqual(weightsAt(path, b.lambda), b.weights);
});

test('weightsAt is linear between breakpoints and keeps Σw = 1', () => {
  const [a, b] = path.breakpoints;
  for (const t of [0.1, 0.5, 0.9]) {
    const lambda = a.lambda + t * (b.lambda - a.lambda);
    const w = weightsAt(path, lambda);
    w.forEach((wi, i) => assert.ok(Math.abs(wi - ((1 - t) * a.weights[i] + t * b.weights[i])) < 1e-12));
    assert.ok(Math.abs(w.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  }
});

test('weightsAt clamps outside [0, λ*] and ignores breakpoint order', () => {
  const shuffled = { ...path, breakpoints: [...path.breakpoints].reverse() };
  assert.deepEqual(weightsAt(shuffled, -1), path.breakpoints[0].weights);
  assert.deepEqual(weightsAt(shuffled, 99), path.breakpoints[path.breakpoints.length - 1].weights);
});

test('clampLambda keeps λ inside the path', () => {
  assert.equal(clampLambda(path, -0.2), 0);
  assert.equal(clampLambda(path, 5), path.lambda_star);
  assert.equal(clampLambda(path, Number.NaN), 0);
  assert.equal(clampLambda(path, 0.123456789), 0.1235);
});
