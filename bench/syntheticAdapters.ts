/**
 * Rows of synthetic adapters for the library benchmarks (bench/library.ts, bench/libraryScale.ts): an
 * Arrow table in the adapters table's own schema (library/schema.ts), built column by column so that
 * a million rows cost no per-row objects. Names are `adapter-` and the index padded to `nameDigits`.
 */
import * as arrow from 'apache-arrow';
import { adaptersSchema, PROTOTYPE64 } from '../server/src/engine/library/schema';

export function syntheticAdapters(dim: number, start: number, n: number, vectors: Float32Array, nameDigits: number): arrow.Table {
  const schema = adaptersSchema(dim);
  const strings = (f: (i: number) => string) => arrow.vectorFromArray(Array.from({ length: n }, (_, i) => f(start + i)), new arrow.Utf8()).data[0];
  const listType = new arrow.List(new arrow.Field('item', new arrow.Utf8(), true));
  const lists = (f: (i: number) => string[]) => arrow.vectorFromArray(Array.from({ length: n }, (_, i) => f(start + i)), listType).data[0];
  const protoType = schema.fields.find((f) => f.name === 'prototype')!.type as arrow.FixedSizeList<arrow.Float32>;
  const proto64Type = schema.fields.find((f) => f.name === PROTOTYPE64)!.type as arrow.FixedSizeList<arrow.Float64>;
  const children = [
    strings((i) => `adapter-${String(i).padStart(nameDigits, '0')}`),
    strings((i) => (i % 3 === 0 ? 'llama-3-8b' : 'mistral-7b')),
    arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => [4, 8, 16, 32][(start + i) % 4]) }),
    arrow.makeData({ type: new arrow.Float64(), length: n, data: Float64Array.from({ length: n }, () => 16) }),
    lists(() => ['q_proj', 'v_proj']),
    strings(() => 'peft'),
    strings((i) => `/adapters/${i}`),
    strings((i) => i.toString(16).padStart(64, '0')),
    arrow.makeData({ type: protoType, length: n, nullCount: 0, child: arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: vectors }) }),
    strings(() => 'synthetic'),
    lists((i) => (i % 5 === 0 ? ['math'] : [])),
    strings(() => '2024-06-01T00:00:00.000Z'),
    strings(() => '{}'),
    // the float64 copy of each prototype (the column both benches lacked since it was added: the add failed)
    arrow.makeData({ type: proto64Type, length: n, nullCount: 0, child: arrow.makeData({ type: new arrow.Float64(), length: n * dim, data: Float64Array.from(vectors) }) }),
  ];
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}
