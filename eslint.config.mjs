// ESLint flat config: typescript-eslint's recommended type-checked rules over every TypeScript file
// (server, client, webview, bench, test), the JavaScript recommended rules over the .mjs scripts.
// `npm run lint` runs it and .ci/run fails on any finding. Every rule turned off or changed here says why.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals for the .mjs scripts (no `globals` package in the tree; these are the ones used). */
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate',
    'AbortController', 'TextEncoder', 'TextDecoder', 'structuredClone', 'performance', 'fetch'].map((n) => [n, 'readonly']),
);

export default defineConfig(
  // Build outputs and generated folders (as .gitignore), Stryker's sandbox, the empty stub package, and
  // declaration files (hand-written shims of untyped packages, checked by tsc).
  { ignores: ['dist/**', 'out/**', 'demo/**', 'demo-real/**', '.bench/**', '.test-artifacts/**', '.tools/**', '.gpu-node/**', '.gpu/**', '.whl/**',
    '.stryker-tmp/**', 'reports/**', 'stubs/**', '**/*.d.ts'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // tsconfig.json covers every .ts file: server/src, client/src, webview/src, test, bench.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits; any other promise must be handled.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      // `async` without `await` is deliberate here: it turns a synchronous throw (a ComposerError on bad
      // input) into a rejection, the contract of every Promise-returning function and interface method.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter kept for its position, `{ omitted, ...rest }` is how the code drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The layering rule (also test/architecture.test.ts): the engine imports no editor, transport, service or CLI code.
    files: ['server/src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(vscode|vscode-languageserver|vscode-languageclient|vscode-jsonrpc)(/|$)', message: 'The engine imports no editor or transport code (DEVELOPERS.md, Layout).' },
          { regex: '^\\.\\.?/(.*/)?(lsp|service|cli|client|webview)(/|$)', message: 'The engine imports nothing from lsp/, service/, cli/, client/ or webview/ (DEVELOPERS.md, Layout).' },
        ],
      }],
    },
  },
  {
    // Tests read the program's own JSON (CLI --json output, locks, LSP replies, schemas) and assert on its
    // shape: `any` there is the value under test, and typing each probe would add unchecked casts, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Assertion messages print number arrays (`got ${w}`): Array's comma-joined text is the intent.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowArray: true, allowNumber: true, allowBoolean: true, allowNullish: true, allowAny: true, allowRegExp: true }],
    },
  },
  {
    // The .mjs scripts are in no tsconfig (no allowJs: their types would be mostly `any`), so they get
    // the rules that need no type information.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    // CommonJS scripts (scripts/tsRequire.cjs, a require hook node loads with -r): the same, plus require/module.
    files: ['**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', module: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // These functions run inside the browser page (Playwright's page.evaluate / addInitScript).
    files: ['test/vscode/e2e.mjs', 'test/vscode/codeServerHost.mjs'],
    languageOptions: { globals: { document: 'readonly', Element: 'readonly', location: 'readonly' } },
  },
);
