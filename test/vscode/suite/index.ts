// Extension-host test entries (the extensionTestsPath contract of @vscode/test-electron): VS Code loads the
// bundled entry inside the extension host and calls run(). index.js runs the trusted suite.
import * as path from 'node:path';
import Mocha from 'mocha';

export async function runSuite(file: string): Promise<void> {
  // MOCHA_GREP (reaches the extension host through code-server's environment) runs only the matching tests
  const mocha = new Mocha({ ui: 'bdd', timeout: 60000, color: false, reporter: 'spec', ...(process.env.MOCHA_GREP ? { grep: process.env.MOCHA_GREP } : {}) });
  mocha.addFile(path.join(__dirname, file));
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve()));
  });
}

export function run(): Promise<void> {
  return runSuite('extension.suite.js');
}
