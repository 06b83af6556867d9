import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import composeSchema from '../../schemas/compose.schema.json';
import lockSchema from '../../schemas/lock.schema.json';
import { RECIPE_DEFAULTS, checkRecipe } from '../../server/src/engine/recipe';
import { MERGE_METHODS } from '../../server/src/engine/recipe/spec';
import { SPARSE_FORMS, STRATEGIES } from '../../server/src/engine/types';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema walked key by key; its shape is what these tests check
type Schema = Record<string, any>;

/** Every schema that describes a field: properties, items, additionalProperties and anyOf branches. */
function fields(schema: Schema, where = '#'): [string, Schema][] {
  const out: [string, Schema][] = [];
  for (const [k, sub] of Object.entries<Schema>(schema.properties ?? {})) out.push([`${where}/${k}`, sub], ...fields(sub, `${where}/${k}`));
  if (schema.items && typeof schema.items === 'object') out.push([`${where}[]`, schema.items], ...fields(schema.items, `${where}[]`));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.push([`${where}/*`, schema.additionalProperties], ...fields(schema.additionalProperties, `${where}/*`));
  }
  (schema.anyOf ?? []).forEach((b: Schema, i: number) => out.push([`${where}|${i}`, b], ...fields(b, `${where}|${i}`)));
  return out;
}

let shared: Ajv2020 | undefined;
function ajv(): Ajv2020 {
  if (!shared) {
    shared = new Ajv2020({ strict: true, allErrors: true });
    shared.addKeyword('markdownDescription');
    shared.addKeyword('markdownEnumDescriptions');
  }
  return shared;
}

test('every recipe field has a title, a description and examples that validate', () => {
  const all = fields(composeSchema);
  assert.ok(all.length > 30, `only ${all.length} fields`);
  for (const [where, sub] of [['#', composeSchema] as [string, Schema], ...all]) {
    assert.equal(typeof sub.title, 'string', `${where} title`);
    assert.equal(typeof sub.description, 'string', `${where} description`);
    assert.ok(Array.isArray(sub.examples) && sub.examples.length > 0, `${where} examples`);
    const { examples, ...rest } = sub;
    const validate = ajv().compile(rest);
    for (const ex of examples) assert.ok(validate(ex), `${where} example ${JSON.stringify(ex)}: ${JSON.stringify(validate.errors)}`);
  }
  // The top-level properties also carry markdown for hovers.
  for (const [k, sub] of Object.entries<Schema>(composeSchema.properties)) assert.equal(typeof sub.markdownDescription, 'string', k);
});

test('schema enums and defaults match the engine', () => {
  const p = composeSchema.properties as Schema;
  assert.deepEqual(p.weights.properties.strategy.enum, [...STRATEGIES]);
  assert.deepEqual(p.merge.properties.method.enum, [...MERGE_METHODS]);
  assert.deepEqual(
    [RECIPE_DEFAULTS.density, RECIPE_DEFAULTS.seed, RECIPE_DEFAULTS.normalize],
    [p.merge.properties.density.default, p.merge.properties.seed.default, p.merge.properties.normalize.default],
  );
  assert.deepEqual(p.merge.properties.dtype.enum, ['auto', 'f32', 'f16', 'bf16']);
  assert.equal(p.retrieve.properties.k.default, 5);
  assert.equal(p.weights.properties.strategy.default, 'sparse');
  assert.equal(p.weights.properties.lambda.default, undefined, 'λ is absolute: its default is ρ·λ*, not a number');
  assert.deepEqual(p.weights.properties.form.enum, [...SPARSE_FORMS]);
  assert.equal(p.merge.properties.method.default, 'cat', 'the default merge is exact');
  assert.equal(p.merge.properties.rank.default, 16);
  assert.deepEqual(
    [RECIPE_DEFAULTS.k, RECIPE_DEFAULTS.strategy, RECIPE_DEFAULTS.rho, RECIPE_DEFAULTS.form, RECIPE_DEFAULTS.method, RECIPE_DEFAULTS.rank, RECIPE_DEFAULTS.dtype],
    [p.retrieve.properties.k.default, p.weights.properties.strategy.default, p.weights.properties.rho.default, p.weights.properties.form.default, p.merge.properties.method.default, p.merge.properties.rank.default, p.merge.properties.dtype.default],
  );
  for (const section of ['target', 'retrieve', 'weights', 'merge', 'evaluate']) assert.equal(p[section].additionalProperties, false, section);
  assert.equal(composeSchema.additionalProperties, false);
});

test('the schema example, written as YAML, passes checkRecipe', () => {
  const example = composeSchema.examples[0] as Schema;
  const yaml = Object.entries(example).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n';
  assert.deepEqual(checkRecipe(yaml, '/w/x.compose.yaml').problems, []);
});

test('lock schema: documented fields, a valid example, no timestamp', () => {
  const all = fields(lockSchema);
  for (const [where, sub] of all) {
    if (where.endsWith('/*')) continue; // name → number maps
    assert.equal(typeof sub.title, 'string', `${where} title`);
    assert.equal(typeof sub.description, 'string', `${where} description`);
  }
  const props = Object.keys(lockSchema.properties);
  assert.deepEqual(props, ['format', 'tool_version', 'recipe', 'library', 'encoder', 'target', 'candidates', 'strategy', 'parameters', 'weights', 'merge', 'output', 'provider']);
  assert.ok(!JSON.stringify(lockSchema).includes('created_at'));
  const validate = ajv().compile(lockSchema);
  assert.ok(validate(lockSchema.examples[0]), JSON.stringify(validate.errors));
  const withTime = { ...lockSchema.examples[0], created_at: '2025-01-01' };
  assert.equal(validate(withTime), false);
});

test('the recipe and lock schemas are valid JSON Schema 2020-12 (the engine compiles the recipe schema without this check)', () => {
  for (const [name, schema] of [['compose', composeSchema], ['lock', lockSchema]] as const) {
    const valid = ajv().validateSchema(schema);
    assert.equal(valid, true, `${name}.schema.json: ${ajv().errorsText()}`);
  }
  // and a broken schema is caught by that check
  assert.equal(ajv().validateSchema({ type: 'strin' }), false);
});
