// Release hygiene: CHANGELOG.md keeps the Keep a Changelog shape and has a section for the version in
// package.json (the one place the version lives), and the built CLI reports that same version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toolSkip } from '../toolSkip';

const ROOT = resolve(__dirname, '../..');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');

test('CHANGELOG.md: Unreleased first, a section for package.json\'s version, known subsections, link references', () => {
  const versions = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
  assert.equal(versions[0], 'Unreleased');
  assert.ok(versions.includes(VERSION), `no "## [${VERSION}]" section`);
  for (const m of changelog.matchAll(/^### (.+)$/gm)) {
    assert.ok(['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'].includes(m[1]), `unknown subsection "### ${m[1]}"`);
  }
  for (const v of versions) assert.match(changelog, new RegExp(`^\\[${v.replace(/\./g, '\\.')}\\]: \\S+`, 'm'), `no link reference for [${v}]`);
});

test('adapter-composer --version is package.json\'s version', { skip: toolSkip(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is not built (npm run build)') }, () => {
  assert.equal(execFileSync(process.execPath, [join(ROOT, 'dist/cli.js'), '--version'], { encoding: 'utf8' }).trim(), VERSION);
});
