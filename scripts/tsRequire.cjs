// A TypeScript require hook for mutation testing (scripts/mutate.mjs): `node -r ./scripts/tsRequire.cjs
// test/x.test.ts`. Stryker's tap runner starts one node process per test file per mutant, and `--import tsx`
// costs about 0.8 s of CPU per start (its ESM loader thread); this hook compiles each .ts file once with
// esbuild (the transpiler tsx uses), keeps the result in a cache keyed by path and content, and on a cache
// hit does not even load esbuild. The project is CommonJS (tsconfig "module": "commonjs"), so a
// require.extensions hook is all the tests need. Not for anything but mutate.mjs.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const cacheDir = path.join(os.tmpdir(), `adapter-composer-ts-require-${process.getuid ? process.getuid() : 0}`);
let esbuild;

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    esbuild ??= require('esbuild');
    code = esbuild.transformSync(source, {
      loader: 'ts', format: 'cjs', target: 'node20', sourcefile: filename, sourcemap: 'inline',
      tsconfigRaw: { compilerOptions: { target: 'ES2022', esModuleInterop: true } },
    }).code;
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached);
  }
  module._compile(code, filename);
};
