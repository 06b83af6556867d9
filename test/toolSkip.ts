/**
 * Suites that need a tool outside npm (Chromium, Neovim, code-server's TextMate, python3 numpy, a
 * built dist/) skip with a note on a developer's machine where it is missing. Under CI (`CI=true`,
 * set by .ci/run after scripts/setup-editor-tests.sh) a missing tool is a failure instead: a suite
 * that silently skips in CI proves nothing (issue 14).
 */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * `false` when the tool is there; otherwise the skip reason, or (under CI) a thrown error naming
 * the tool, which fails the test file as it loads.
 */
export function toolSkip(available: boolean, reason: string): string | false {
  if (available) return false;
  if (inCi()) throw new Error(`${reason}; CI=true requires it (scripts/setup-editor-tests.sh installs the editor tools)`);
  return reason;
}
