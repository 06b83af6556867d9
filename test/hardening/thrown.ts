/**
 * The error a call throws, to assert on its code, hint and location (assert.throws checks a pattern but
 * does not hand the error back). Fails the test when nothing is thrown.
 */
import assert from 'node:assert/strict';

export type ThrownError = Error & { code?: string; hint?: string; location?: { file: string } };

export function thrown(f: () => unknown): ThrownError {
  try {
    f();
  } catch (e) {
    return e as ThrownError;
  }
  assert.fail('expected an error');
}
