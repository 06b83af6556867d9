/**
 * A tiny WebAssembly assembler for the dense kernels (linalg/simdKernels.ts): the opcodes they use,
 * LEB128 integers, vectors, sections and names, and function bodies written through `Emit`. It exists
 * so the module can be built from its instructions in TypeScript (no binary blob, no toolchain), and
 * so the kernel bodies (rowBodies.ts, triangularBodies.ts) read as instructions, not bytes.
 */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export const op = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f64Load: 0x2b, i32Store: 0x36, f64Store: 0x39, i32Const: 0x41,
  i32Eqz: 0x45, i32Ne: 0x47, i32LtS: 0x48, i32GtS: 0x4a, i32GeS: 0x4e, i32GeU: 0x4f, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Shl: 0x74,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  f64Const: 0x44, f64Abs: 0x99, f64Neg: 0x9a, f64Sqrt: 0x9f, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3, f64Min: 0xa4, f64Max: 0xa5,
  f64FromI32: 0xb7,
} as const;
/** SIMD instructions: the 0xfd prefix, then the opcode as unsigned LEB128. */
export const simd = {
  load: [0xfd, 0x00],
  load64Splat: [0xfd, 0x0a],
  replaceLane: [0xfd, 0x22],
  store: [0xfd, 0x0b],
  splat: [0xfd, 0x14],
  extractLane: [0xfd, 0x21],
  add: [0xfd, 0xf0, 0x01],
  sub: [0xfd, 0xf1, 0x01],
  mul: [0xfd, 0xf2, 0x01],
} as const;

export function unsigned(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function signed(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

export function section(id: number, body: number[]): number[] {
  return [id, ...unsigned(body.length), ...body];
}

export function text(s: string): number[] {
  return vector([...Buffer.from(s, 'utf8')].map((b) => [b]));
}

/** memarg: alignment exponent, then offset. */
export const f64Access = [3, 0];
export const v128Access = [3, 0];

export type Emit = (...bytes: (number | readonly number[])[]) => void;

/** A function body from its locals (count, type) and the code `write` emits. */
export function functionBody(locals: [number, number][], write: (emit: Emit) => void): number[] {
  const code: number[] = [];
  write((...bytes) => { for (const b of bytes) if (typeof b === 'number') code.push(b); else code.push(...b); });
  const body = [...vector(locals.map(([n, type]) => [...unsigned(n), type])), ...code, op.end];
  return [...unsigned(body.length), ...body];
}

/**
 * `while (!(stop)) { body }`: stop and body emit their own code (stop leaves an i32 on the stack).
 */
export function loopUntil(emit: Emit, stop: () => void, body: () => void): void {
  emit(op.block, 0x40, op.loop, 0x40);
  stop();
  emit(op.brIf, 1);
  body();
  emit(op.br, 0, op.end, op.end);
}
