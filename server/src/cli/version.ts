// Injected at bundle time would be nicer; reading package.json keeps one source of truth.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const version: string = require('../../../package.json').version;
