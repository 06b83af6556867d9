// The product's one version, from package.json (esbuild inlines the JSON): the CLI's --version, the
// language server's serverInfo, and the tool_version of every lock and run-history row.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const toolVersion: string = require('../../../package.json').version;
