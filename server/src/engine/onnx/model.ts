/**
 * A small ONNX model writer: hand-encodes the protobuf messages of onnx.proto3 (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto) so that graphs can be built
 * by code without a protobuf dependency. Only the fields we need are written.
 *
 * Field numbers follow onnx/onnx.proto3:
 *   ModelProto      ir_version=1 producer_name=2 producer_version=3 doc_string=6 graph=7 opset_import=8
 *   OperatorSetId   domain=1 version=2
 *   GraphProto      node=1 name=2 initializer=5 doc_string=10 input=11 output=12
 *   NodeProto       input=1 output=2 name=3 op_type=4 attribute=5 domain=7
 *   AttributeProto  name=1 f=2 i=3 s=4 t=5 floats=7 ints=8 strings=9 type=20
 *   TensorProto     dims=1 data_type=2 name=8 raw_data=9
 *   ValueInfoProto  name=1 type=2;  TypeProto tensor_type=1;  TypeProto.Tensor elem_type=1 shape=2
 *   TensorShapeProto dim=1;  Dimension dim_value=1 dim_param=2
 */

export type ElementType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

/** ONNX TensorProto.DataType codes. */
export const ONNX_DATA_TYPE: Record<ElementType, number> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

/** A graph input or output: a number is a fixed dimension, a string a symbolic one ("batch"). */
export interface ValueInfo {
  name: string;
  type: ElementType;
  shape: (number | string)[];
}

/** A constant tensor stored in the graph (weights). Data is written as little-endian raw_data. */
export interface TensorInit {
  name: string;
  type: ElementType;
  dims: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
}

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorInit };

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  ints: (value: number[]): AttributeValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttributeValue => ({ kind: 'floats', value }),
  strings: (value: string[]): AttributeValue => ({ kind: 'strings', value }),
  tensor: (value: TensorInit): AttributeValue => ({ kind: 'tensor', value }),
};

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface ModelSpec {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: TensorInit[];
  /** Default opset 17 (IR version 8 covers opsets up to 17). */
  opset?: number;
  irVersion?: number;
  graphName?: string;
  producerName?: string;
  docString?: string;
}

export function float32Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorInit {
  checkElementCount(name, dims, data.length);
  return { name, type: 'float32', dims, data: Float32Array.from(data) };
}

export function float64Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorInit {
  checkElementCount(name, dims, data.length);
  return { name, type: 'float64', dims, data: Float64Array.from(data) };
}

export function int64Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorInit {
  checkElementCount(name, dims, data.length);
  return { name, type: 'int64', dims, data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))) };
}

function checkElementCount(name: string, dims: number[], length: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) throw new RangeError(`tensor ${name}: dims ${JSON.stringify(dims)} need ${expected} values, got ${length}`);
}

/** Serialises a model to ONNX protobuf bytes, ready for `InferenceSession.create(bytes)`. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, spec.irVersion ?? 8);
  model.string(2, spec.producerName ?? 'adapter-composer');
  if (spec.docString) model.string(6, spec.docString);
  model.message(7, graph(spec));
  const opset = new ProtoWriter();
  opset.string(1, '');
  opset.int(2, spec.opset ?? 17);
  model.message(8, opset);
  return model.finish();
}

function graph(spec: ModelSpec): ProtoWriter {
  const g = new ProtoWriter();
  spec.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, spec.graphName ?? 'graph');
  for (const t of spec.initializers ?? []) g.message(5, tensor(t));
  for (const v of spec.inputs) g.message(11, valueInfo(v));
  for (const v of spec.outputs) g.message(12, valueInfo(v));
  return g;
}

function node(n: NodeSpec, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, attribute(name, value));
  if (n.domain) w.string(7, n.domain);
  return w;
}

// AttributeProto.AttributeType codes.
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function attribute(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.bytes(4, utf8(a.value)); break;
    case 'tensor': w.message(5, tensor(a.value)); break;
    case 'floats': for (const v of a.value) w.float(7, v); break;
    case 'ints': w.packedInts(8, a.value); break;
    case 'strings': for (const v of a.value) w.bytes(9, utf8(v)); break;
  }
  w.int(20, ATTRIBUTE_TYPE[a.kind]);
  return w;
}

function tensor(t: TensorInit): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, ONNX_DATA_TYPE[t.type]);
  w.string(8, t.name);
  w.bytes(9, littleEndianBytes(t.data));
  return w;
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, ONNX_DATA_TYPE[v.type]);
  tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType);
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: TensorInit['data']): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Accumulates protobuf fields (wire types 0 varint, 2 length-delimited, 5 fixed32). */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  /** int64/int32 varint; negative values use the 10-byte two's-complement form, as protobuf does. */
  private varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }

  int(field: number, value: number | bigint): void {
    this.key(field, 0);
    this.varint(BigInt(value));
  }

  float(field: number, value: number): void {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  bytes(field: number, value: Uint8Array): void {
    this.key(field, 2);
    this.varint(BigInt(value.length));
    this.push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, utf8(value));
  }

  packedInts(field: number, values: number[]): void {
    if (values.length === 0) return;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(BigInt(v));
    this.bytes(field, inner.finish());
  }

  message(field: number, m: ProtoWriter): void {
    this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
