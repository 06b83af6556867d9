/**
 * `check --format github` and `--format sarif` against `check --json` (the same problems, located the
 * same way): GitHub workflow commands with the escaping of @actions/core (data: % CR LF; properties
 * also : and ,), and a SARIF 2.1.0 log validated against the key parts of the 2.1.0 schema.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import { escapeData, escapeProperty, githubCommands, sarifLog } from '../../server/src/cli/checkReport';
import type { Problem } from '../../server/src/engine/recipe/problem';
import { buildFixture, removeFixture, type Fixture } from '../lsp/fixture';
import { cli, ensureBuilt } from '../hardening/workspace';

// A file name and a key with every character GitHub's command syntax reserves.
const ODD_FILE = 'recipes/odd,name:1%.compose.yaml';
const ODD_RECIPE = `compose: 1
name: odd
base: demo/sam
library: ../library
target:
  prototype: ../data/target.proto.npy
retrieve: { k: 4 }
weights:
  strategy: avg
  lambda: 0.05
output: ../out/odd
"a,b:c%\\r\\n": 1
`;

/** Inverse of the escaping, written from GitHub's documentation. */
const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string) => s.replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

// The key parts of https://json.schemastore.org/sarif-2.1.0.json (draft-07), by hand: the shapes,
// required properties, enums and minimums of the objects this tool writes, with
// additionalProperties: false where the standard has it.
const multiformat = { type: 'object', required: ['text'], properties: { text: { type: 'string' }, markdown: { type: 'string' } } };
const artifactLocation = { type: 'object', additionalProperties: false, properties: { uri: { type: 'string', format: 'uri-reference' }, uriBaseId: { type: 'string' }, index: { type: 'integer', minimum: -1 }, description: {}, properties: {} } };
const SARIF_SUBSET = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'runs'],
  properties: {
    $schema: { type: 'string', format: 'uri' },
    version: { enum: ['2.1.0'] },
    runs: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['tool'],
        properties: {
          tool: {
            type: 'object',
            additionalProperties: false,
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'version', 'informationUri', 'rules'],
                properties: {
                  name: { type: 'string' },
                  version: { type: 'string' },
                  informationUri: { type: 'string', format: 'uri' },
                  rules: {
                    type: 'array',
                    uniqueItems: true,
                    items: {
                      type: 'object',
                      additionalProperties: false,
                      required: ['id', 'shortDescription'],
                      properties: { id: { type: 'string', minLength: 1 }, name: { type: 'string' }, shortDescription: multiformat, fullDescription: multiformat, helpUri: { type: 'string', format: 'uri' } },
                    },
                  },
                },
              },
            },
          },
          originalUriBaseIds: { type: 'object', additionalProperties: artifactLocation },
          columnKind: { enum: ['utf16CodeUnits', 'unicodeCodePoints'] },
          results: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['message', 'ruleId', 'level', 'locations'],
              properties: {
                ruleId: { type: 'string' },
                ruleIndex: { type: 'integer', minimum: -1 },
                level: { enum: ['none', 'note', 'warning', 'error'] },
                message: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
                locations: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        additionalProperties: false,
                        required: ['artifactLocation', 'region'],
                        properties: {
                          artifactLocation,
                          region: {
                            type: 'object',
                            additionalProperties: false,
                            required: ['startLine', 'startColumn', 'endLine', 'endColumn'],
                            properties: {
                              startLine: { type: 'integer', minimum: 1 },
                              startColumn: { type: 'integer', minimum: 1 },
                              endLine: { type: 'integer', minimum: 1 },
                              endColumn: { type: 'integer', minimum: 1 },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

describe('check --format github | sarif', () => {
  let fixture: Fixture | undefined;
  let problems: Map<string, Problem[]>;

  before(async () => {
    ensureBuilt();
    fixture = await buildFixture('ac-check-formats-');
    fs.writeFileSync(path.join(fixture.root, ODD_FILE), ODD_RECIPE);
    const json = JSON.parse(cli(['check', 'recipes', '--json'], { cwd: fixture.root }).stdout) as { files: { file: string; problems: Problem[] }[] };
    problems = new Map(json.files.map((f) => [f.file, f.problems]));
    assert.ok(problems.get(ODD_FILE)!.some((p) => p.severity === 'error'));
    assert.ok(problems.get(ODD_FILE)!.some((p) => p.severity === 'warning'));
  });
  after(() => removeFixture(fixture));

  it('escapes data and properties as GitHub documents', () => {
    assert.equal(escapeData('50% done\r\nnext: a, b'), '50%25 done%0D%0Anext: a, b');
    assert.equal(escapeProperty('50% done\r\nnext: a, b'), '50%25 done%0D%0Anext%3A a%2C b');
  });

  it('github and SARIF show invisible and reordering characters (a row another tool wrote) as escapes', () => {
    // `grammar-01` with a right-to-left override and a zero-width space, as a name in a message
    const message = 'no adapter `gram\u202emar-01\u200b` in the library\nsecond line\u0007';
    const problem = { severity: 'error', code: 'unknown-adapter', message, range: { start: { line: 3, character: 2 }, end: { line: 3, character: 9 } } } as Problem;
    const [line] = githubCommands([{ file: path.join(fixture!.root, 'r.compose.yaml'), problems: [problem] }], fixture!.root);
    assert.ok(![...line].some((c) => c === '\u202e' || c === '\u200b' || c === '\u0007'), line);
    assert.ok(line.endsWith('::no adapter `gram\\u202emar-01\\u200b` in the library%0Asecond line\\u0007'), line);
    const sarif = JSON.stringify(sarifLog([{ file: path.join(fixture!.root, 'r.compose.yaml'), problems: [problem] }], { cwd: fixture!.root, version: '0', informationUri: 'https://example.invalid' }));
    assert.ok(!/[\u202e\u200b]/.test(sarif));
    assert.ok(sarif.includes('gram\\\\u202emar-01\\\\u200b'), sarif);
  });

  it('github: one workflow command per problem, located and titled, that unescapes to the JSON problem', () => {
    const r = cli(['check', 'recipes', '--format', 'github'], { cwd: fixture!.root });
    assert.equal(r.status, 1);
    const lines = r.stdout.split('\n').filter(Boolean);
    const expected = [...problems].flatMap(([file, ps]) => ps.filter((p) => p.severity !== 'hint').map((p) => ({ file, p })));
    assert.equal(lines.length, expected.length);
    for (const [i, line] of lines.entries()) {
      const m = /^::(error|warning|notice) ([^:]*)::(.*)$/.exec(line);
      assert.ok(m, line);
      const props = Object.fromEntries(m[2].split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), unescapeProperty(kv.slice(kv.indexOf('=') + 1))]));
      const { file, p } = expected[i];
      assert.equal(m[1], { error: 'error', warning: 'warning', information: 'notice' }[p.severity as 'error']);
      assert.deepEqual(props, {
        file,
        line: String(p.range.start.line + 1),
        col: String(p.range.start.character + 1),
        endLine: String(p.range.end.line + 1),
        endColumn: String(p.range.end.character + 1),
        title: `adapter-composer ${p.code}`,
      });
      assert.equal(unescapeData(m[3]), p.message);
    }
    // The reserved characters really were escaped (the odd name and key are in the output).
    assert.ok(lines.some((l) => l.includes('file=recipes/odd%2Cname%3A1%25.compose.yaml')));
    assert.ok(lines.some((l) => l.includes('%25%0D%0A') || l.includes('%25\\r\\n')), lines.join('\n'));
  });

  it('sarif: a valid 2.1.0 log whose results are the JSON problems, with rules for every code', () => {
    const r = cli(['check', 'recipes', '--format', 'sarif'], { cwd: fixture!.root });
    assert.equal(r.status, 1);
    const log = JSON.parse(r.stdout) as { runs: { tool: { driver: { rules: { id: string; shortDescription: { text: string } }[] } }; originalUriBaseIds: Record<string, { uri: string }>; results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: unknown } }[] }[] }[] };
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addFormat('uri', (s: string) => URL.canParse(s));
    ajv.addFormat('uri-reference', (s: string) => URL.canParse(s, 'file:///base/'));
    const validate = ajv.compile(SARIF_SUBSET);
    const valid = validate(log);
    assert.ok(valid, JSON.stringify(validate.errors, null, 2));
    const run = log.runs[0];
    const rules = run.tool.driver.rules;
    assert.equal(new Set(rules.map((x) => x.id)).size, rules.length);
    const root = run.originalUriBaseIds['%SRCROOT%'].uri;
    assert.equal(fileURLToPath(root), fixture!.root + path.sep);
    const expected = [...problems].flatMap(([file, ps]) => ps.map((p) => ({ file, p })));
    assert.equal(run.results.length, expected.length);
    for (const [i, result] of run.results.entries()) {
      const { file, p } = expected[i];
      assert.equal(result.ruleId, p.code);
      assert.equal(rules[result.ruleIndex].id, p.code);
      assert.equal(result.level, { error: 'error', warning: 'warning', information: 'note', hint: 'note' }[p.severity]);
      assert.equal(result.message.text, p.message);
      const loc = result.locations[0].physicalLocation;
      assert.equal(loc.artifactLocation.uriBaseId, '%SRCROOT%');
      assert.equal(fileURLToPath(new URL(loc.artifactLocation.uri, root)), path.join(fixture!.root, file));
      assert.deepEqual(loc.region, { startLine: p.range.start.line + 1, startColumn: p.range.start.character + 1, endLine: p.range.end.line + 1, endColumn: p.range.end.character + 1 });
    }
    // Known codes carry their own description, not the generic fallback.
    const unknownKey = rules.find((x) => x.id === 'unknown-key')!;
    assert.doesNotMatch(unknownKey.shortDescription.text, /Adapter Composer problem/);
  });
});
