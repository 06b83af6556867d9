/**
 * Rows of synthetic adapters for the library benchmarks (bench/library.ts, bench/libraryScale.ts and
 * bench/bigLibrary.ts): an Arrow table in the adapters table's own schema (library/schema.ts), built
 * column by column so that a million rows cost no per-row objects. One builder, so a column added to the
 * schema is added here once (both copies once lacked `prototype64`, and every add failed).
 */
import * as arrow from 'apache-arrow';
import { adaptersSchema, PROTOTYPE64 } from '../server/src/engine/library/schema';

/** What row i (its index in the whole library) holds in each column but the prototypes and the fixed ones. */
export interface AdapterColumns {
  name: (i: number) => string;
  base: (i: number) => string;
  rank: (i: number) => number;
  alpha: (i: number) => number;
  path: (i: number) => string;
  sha256: (i: number) => string;
  description: (i: number) => string;
  details: (i: number) => string;
  createdAt: string;
}

/**
 * Rows start … start + n − 1 in the adapters table's schema: the columns from `columns`, target modules
 * q_proj / v_proj, format peft, every fifth row tagged `math`, and the prototypes as float32 and float64.
 */
export function adapterRows(dim: number, start: number, n: number, columns: AdapterColumns, prototype: Float32Array, prototype64: Float64Array): arrow.Table {
  const schema = adaptersSchema(dim);
  const strings = (f: (i: number) => string) => arrow.vectorFromArray(Array.from({ length: n }, (_, i) => f(start + i)), new arrow.Utf8()).data[0];
  const listType = new arrow.List(new arrow.Field('item', new arrow.Utf8(), true));
  const lists = (f: (i: number) => string[]) => arrow.vectorFromArray(Array.from({ length: n }, (_, i) => f(start + i)), listType).data[0];
  const fixed = (name: string, type: arrow.Float32 | arrow.Float64, data: Float32Array | Float64Array) => {
    const listType = schema.fields.find((f) => f.name === name)!.type as arrow.FixedSizeList;
    return arrow.makeData({ type: listType, length: n, nullCount: 0, child: arrow.makeData({ type, length: n * dim, data }) });
  };
  const children = [
    strings(columns.name),
    strings(columns.base),
    arrow.makeData({ type: new arrow.Int32(), length: n, data: Int32Array.from({ length: n }, (_, i) => columns.rank(start + i)) }),
    arrow.makeData({ type: new arrow.Float64(), length: n, data: Float64Array.from({ length: n }, (_, i) => columns.alpha(start + i)) }),
    lists(() => ['q_proj', 'v_proj']),
    strings(() => 'peft'),
    strings(columns.path),
    strings(columns.sha256),
    fixed('prototype', new arrow.Float32(), prototype),
    strings(columns.description),
    lists((i) => (i % 5 === 0 ? ['math'] : [])),
    strings(() => columns.createdAt),
    strings(columns.details),
    fixed(PROTOTYPE64, new arrow.Float64(), prototype64),
  ];
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

/** bench/library.ts's and bench/libraryScale.ts's rows: names `adapter-` and the index padded to `nameDigits`. */
export function syntheticAdapters(dim: number, start: number, n: number, vectors: Float32Array, nameDigits: number): arrow.Table {
  return adapterRows(dim, start, n, {
    name: (i) => `adapter-${String(i).padStart(nameDigits, '0')}`,
    base: (i) => (i % 3 === 0 ? 'llama-3-8b' : 'mistral-7b'),
    rank: (i) => [4, 8, 16, 32][i % 4],
    alpha: () => 16,
    path: (i) => `/adapters/${i}`,
    sha256: (i) => i.toString(16).padStart(64, '0'),
    description: () => 'synthetic',
    details: () => '{}',
    createdAt: '2024-06-01T00:00:00.000Z',
  }, vectors, Float64Array.from(vectors));
}
