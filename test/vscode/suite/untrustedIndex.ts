// Entry of the restricted-mode suite (the workspace is opened without trust).
import { runSuite } from './index';

export function run(): Promise<void> {
  return runSuite('untrusted.suite.js');
}
