/**
 * The weights step's dense kernels in WebAssembly SIMD (f64x2). The module is assembled here from its
 * instructions (about 4 KB; no binary blob, no toolchain):
 * - `dot2x4`/`dot1x4`: the O(k²·D) Gram that builds every problem's cost matrix (two rows against four,
 *   two lanes at a time: even-indexed terms in lane 0, odd in lane 1, then lane 0 + lane 1, then the
 *   last term of an odd length), about four times the scalar loop; `dist2x4`/`dist1x4` the squared
 *   distances ‖x − y‖² the plan shows between the candidates; `subtractRows` forms the differences
 *   t − pᵢ in place and `products4` the lasso's pᵢ·t, (t − pᵢ)·t, ‖pᵢ‖² in the same pass (two
 *   prototypes per instruction, each sum in its own lane);
 * - the λ-paths' per-breakpoint work: `addRows4` (out += Σ vᵢ·rowᵢ, four rows at a time, two entries
 *   per instruction), `forwardU`/`backwardL` (triangular solves with a Cholesky factor kept beside its
 *   transpose, so both run over contiguous rows) and `residual` (rhs − A·z in dense.ts's four partial
 *   sums). Each computes every entry with the same operations in the same order as the JavaScript loop
 *   it replaces, so the paths' bits are unchanged.
 * WebAssembly float arithmetic is IEEE and never fused or reordered, so each sum is the same on every
 * machine. Where WebAssembly SIMD is missing, `simdKernels()` answers null and `denseKernels()` gives
 * `scalarKernels`: the same sums in the same order in JavaScript (slower), so the bits do not depend on
 * the runtime (test/linalg/simdDot.test.ts checks every kernel against its scalar twin bit for bit).
 */
import { ComposerError } from '../errors';
import { addRows, dot } from './dense';
import { choleskySolve, substituteCholesky } from './cholesky';
import { SINGULAR_TOLERANCE } from './eigen';

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

const op = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, f64Load: 0x2b, f64Store: 0x39, i32Const: 0x41,
  i32Eqz: 0x45, i32LtS: 0x48, i32GeS: 0x4e, i32GeU: 0x4f, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Shl: 0x74,
  f64Const: 0x44, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
} as const;
/** SIMD instructions: the 0xfd prefix, then the opcode as unsigned LEB128. */
const simd = {
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

function unsigned(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signed(n: number): number[] {
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

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...unsigned(body.length), ...body];
}

function text(s: string): number[] {
  return vector([...Buffer.from(s, 'utf8')].map((b) => [b]));
}

/** memarg: alignment exponent, then offset. */
const f64Access = [3, 0];
const v128Access = [3, 0];

/**
 * The body of dotRx4(x₀ … x_{R−1}, y₀ … y₃, n, out): out[4·r + c] = x_r·y_c over n float64 (byte
 * addresses), R = 1 or 2 rows against four; with `squares`, distRx4: out[4·r + c] = ‖x_r − y_c‖².
 * Parameters: the R + 4 addresses, n, out; locals: t (the byte offset), end (of the paired part), 4R
 * v128 accumulators, R v128 row pairs, one v128 column pair, one v128 difference, one f64 sum (and one
 * f64 difference).
 */
function dotBody(rows: number, squares: boolean): number[] {
  const y0 = rows;
  const n = rows + 4;
  const out = n + 1;
  const t = out + 1;
  const end = t + 1;
  const acc0 = end + 1;
  const pair0 = acc0 + 4 * rows;
  const column = pair0 + rows;
  const difference = column + 1;
  const sum = difference + 1;
  const scalarDifference = sum + 1;
  const code: number[] = [];
  const emit = (...bytes: (number | readonly number[])[]) => { for (const b of bytes) if (typeof b === 'number') code.push(b); else code.push(...b); };
  // end = (n & −2) · 8
  emit(op.localGet, n, op.i32Const, ...signed(-2), op.i32And, op.i32Const, 3, op.i32Shl, op.localSet, end);
  emit(op.block, 0x40, op.loop, 0x40);
  emit(op.localGet, t, op.localGet, end, op.i32GeU, op.brIf, 1);
  for (let r = 0; r < rows; r++) emit(op.localGet, r, op.localGet, t, op.i32Add, simd.load, v128Access, op.localSet, pair0 + r);
  for (let c = 0; c < 4; c++) {
    // One load of y_c's pair serves every row.
    emit(op.localGet, y0 + c, op.localGet, t, op.i32Add, simd.load, v128Access, op.localSet, column);
    for (let r = 0; r < rows; r++) {
      const acc = acc0 + 4 * r + c;
      if (squares) emit(op.localGet, acc, op.localGet, pair0 + r, op.localGet, column, simd.sub, op.localTee, difference, op.localGet, difference, simd.mul, simd.add, op.localSet, acc);
      else emit(op.localGet, acc, op.localGet, pair0 + r, op.localGet, column, simd.mul, simd.add, op.localSet, acc);
    }
  }
  emit(op.localGet, t, op.i32Const, 16, op.i32Add, op.localSet, t, op.br, 0);
  emit(op.end, op.end);
  // out[4r + c] = lane 0 + lane 1, then + the last term when n is odd
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 4; c++) {
      const acc = acc0 + 4 * r + c;
      emit(op.localGet, acc, simd.extractLane, 0, op.localGet, acc, simd.extractLane, 1, op.f64Add, op.localSet, sum);
      emit(op.localGet, n, op.i32Const, 1, op.i32And, op.if, 0x40);
      const last = (base: number) => [op.localGet, base, op.localGet, end, op.i32Add, op.f64Load, ...f64Access];
      if (squares) emit(op.localGet, sum, last(r), last(y0 + c), op.f64Sub, op.localTee, scalarDifference, op.localGet, scalarDifference, op.f64Mul, op.f64Add, op.localSet, sum);
      else emit(op.localGet, sum, last(r), last(y0 + c), op.f64Mul, op.f64Add, op.localSet, sum);
      emit(op.end);
      emit(op.localGet, out, op.localGet, sum, op.f64Store, 3, ...unsigned(8 * (4 * r + c)));
    }
  }
  emit(op.end);
  const locals = vector([[...unsigned(2), I32], [...unsigned(5 * rows + 2), V128], [...unsigned(2), F64]]);
  const body = [...locals, ...code];
  return [...unsigned(body.length), ...body];
}

/**
 * The body of addRows4(out, rows, values, groups, pairs): for each of `groups` groups of four (row
 * address, value) entries (`rows`: i32 byte addresses, `values`: f64), over `pairs` f64 pairs t:
 * out[t] = out[t] + row₀[t]·v₀ + row₁[t]·v₁ + row₂[t]·v₂ + row₃[t]·v₃, summed left to right in both
 * lanes, as dense.ts's addRows sums each entry. Locals: t, end, the four row addresses (i32), the four
 * splatted values and the accumulator (v128).
 */
function addRowsBody(): number[] {
  const [out, rows, values, groups, pairs] = [0, 1, 2, 3, 4];
  const t = 5;
  const end = 6;
  const row0 = 7;
  const value0 = 11;
  const acc = 15;
  const code: number[] = [];
  const emit = (...bytes: (number | readonly number[])[]) => { for (const b of bytes) if (typeof b === 'number') code.push(b); else code.push(...b); };
  emit(op.localGet, pairs, op.i32Const, 4, op.i32Shl, op.localSet, end);
  emit(op.block, 0x40, op.loop, 0x40);
  emit(op.localGet, groups, op.i32Eqz, op.brIf, 1);
  for (let c = 0; c < 4; c++) {
    emit(op.localGet, rows, op.i32Load, 2, ...unsigned(4 * c), op.localSet, row0 + c);
    emit(op.localGet, values, op.f64Load, 3, ...unsigned(8 * c), simd.splat, op.localSet, value0 + c);
  }
  emit(op.localGet, rows, op.i32Const, 16, op.i32Add, op.localSet, rows);
  emit(op.localGet, values, op.i32Const, 32, op.i32Add, op.localSet, values);
  emit(op.localGet, groups, op.i32Const, 1, op.i32Sub, op.localSet, groups);
  emit(op.i32Const, 0, op.localSet, t);
  emit(op.block, 0x40, op.loop, 0x40);
  emit(op.localGet, t, op.localGet, end, op.i32GeU, op.brIf, 1);
  emit(op.localGet, out, op.localGet, t, op.i32Add, simd.load, v128Access, op.localSet, acc);
  for (let c = 0; c < 4; c++) {
    emit(op.localGet, acc, op.localGet, row0 + c, op.localGet, t, op.i32Add, simd.load, v128Access, op.localGet, value0 + c, simd.mul, simd.add, op.localSet, acc);
  }
  emit(op.localGet, out, op.localGet, t, op.i32Add, op.localGet, acc, simd.store, v128Access);
  emit(op.localGet, t, op.i32Const, 16, op.i32Add, op.localSet, t, op.br, 0);
  emit(op.end, op.end);
  emit(op.br, 0);
  emit(op.end, op.end);
  emit(op.end);
  const locals = vector([[...unsigned(6), I32], [...unsigned(5), V128]]);
  const body = [...locals, ...code];
  return [...unsigned(body.length), ...body];
}

/**
 * The body of subtractRows(target, rows, k, dim): each of k rows of dim float64 from `rows` on becomes
 * target − row (the cost matrix's differences), two entries per instruction, the last of an odd dim
 * alone. Locals: t, end (of the paired part), the row's address.
 */
function subtractRowsBody(): number[] {
  const [target, rows, k, dim] = [0, 1, 2, 3];
  const t = 4;
  const end = 5;
  const row = 6;
  const code: number[] = [];
  const emit = (...bytes: (number | readonly number[])[]) => { for (const b of bytes) if (typeof b === 'number') code.push(b); else code.push(...b); };
  emit(op.localGet, dim, op.i32Const, ...signed(-2), op.i32And, op.i32Const, 3, op.i32Shl, op.localSet, end);
  emit(op.localGet, rows, op.localSet, row);
  emit(op.block, 0x40, op.loop, 0x40);
  emit(op.localGet, k, op.i32Eqz, op.brIf, 1);
  emit(op.i32Const, 0, op.localSet, t);
  emit(op.block, 0x40, op.loop, 0x40);
  emit(op.localGet, t, op.localGet, end, op.i32GeU, op.brIf, 1);
  emit(op.localGet, row, op.localGet, t, op.i32Add);
  emit(op.localGet, target, op.localGet, t, op.i32Add, simd.load, v128Access);
  emit(op.localGet, row, op.localGet, t, op.i32Add, simd.load, v128Access);
  emit(simd.sub, simd.store, v128Access);
  emit(op.localGet, t, op.i32Const, 16, op.i32Add, op.localSet, t, op.br, 0);
  emit(op.end, op.end);
  emit(op.localGet, dim, op.i32Const, 1, op.i32And, op.if, 0x40);
  emit(op.localGet, row, op.localGet, end, op.i32Add);
  emit(op.localGet, target, op.localGet, end, op.i32Add, op.f64Load, ...f64Access);
  emit(op.localGet, row, op.localGet, end, op.i32Add, op.f64Load, ...f64Access);
  emit(op.f64Sub, op.f64Store, ...f64Access);
  emit(op.end);
  emit(op.localGet, row, op.localGet, dim, op.i32Const, 3, op.i32Shl, op.i32Add, op.localSet, row);
  emit(op.localGet, k, op.i32Const, 1, op.i32Sub, op.localSet, k);
  emit(op.br, 0);
  emit(op.end, op.end);
  emit(op.end);
  const locals = vector([[...unsigned(3), I32]]);
  const body = [...locals, ...code];
  return [...unsigned(body.length), ...body];
}

type Emit = (...bytes: (number | readonly number[])[]) => void;

/** A function body from its locals (count, type) and the code `write` emits. */
function functionBody(locals: [number, number][], write: (emit: Emit) => void): number[] {
  const code: number[] = [];
  write((...bytes) => { for (const b of bytes) if (typeof b === 'number') code.push(b); else code.push(...b); });
  const body = [...vector(locals.map(([n, type]) => [...unsigned(n), type])), ...code, op.end];
  return [...unsigned(body.length), ...body];
}

/**
 * `while (!(stop)) { body }`: stop and body emit their own code (stop leaves an i32 on the stack).
 */
function loopUntil(emit: Emit, stop: () => void, body: () => void): void {
  emit(op.block, 0x40, op.loop, 0x40);
  stop();
  emit(op.brIf, 1);
  body();
  emit(op.br, 0, op.end, op.end);
}

/**
 * forwardU(u, stride, m, y): solves L·y = b in place (y holds b) with U = Lᵀ row-major (row stride
 * `stride` bytes), two columns c, c + 1 per pass: y[c] /= U[c][c]; y[c+1] = (y[c+1] − U[c][c+1]·y[c]) /
 * U[c+1][c+1]; then y[i] = y[i] − U[c][i]·y[c] − U[c+1][i]·y[c+1] for i > c + 1, two entries per
 * instruction (the last of an odd count alone). Each y[i] subtracts its terms in ascending c, as
 * cholesky.ts's row-by-row forward substitution does: the same bits.
 */
function forwardBody(): number[] {
  const [u, stride, m, y] = [0, 1, 2, 3];
  const [c, row, i, end, endPair, next] = [4, 5, 6, 7, 8, 9];
  const [yc, yn] = [10, 11];
  const [ycPair, ynPair] = [12, 13];
  const load = (base: number, index: number, delta = 0) => [op.localGet, base, op.localGet, index, op.i32Add, op.f64Load, 3, ...unsigned(delta)];
  return functionBody([[6, I32], [2, F64], [2, V128]], (emit) => {
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, 8, op.i32Sub, op.localSet, endPair);
    emit(op.localGet, u, op.localSet, row);
    // Pairs of columns while c + 1 < m.
    loopUntil(emit, () => emit(op.localGet, c, op.localGet, endPair, op.i32GeS), () => {
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, next);
      emit(op.localGet, y, op.localGet, c, op.i32Add);
      emit(...load(y, c), ...load(row, c), op.f64Div, op.localTee, yc, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, c, op.i32Add);
      emit(...load(y, c, 8), ...load(row, c, 8), op.localGet, yc, op.f64Mul, op.f64Sub, ...load(next, c, 8), op.f64Div, op.localTee, yn, op.f64Store, 3, 8);
      emit(op.localGet, yc, simd.splat, op.localSet, ycPair, op.localGet, yn, simd.splat, op.localSet, ynPair);
      emit(op.localGet, c, op.i32Const, 16, op.i32Add, op.localSet, i);
      loopUntil(emit, () => emit(op.localGet, i, op.localGet, endPair, op.i32GeS), () => {
        emit(op.localGet, y, op.localGet, i, op.i32Add);
        emit(op.localGet, y, op.localGet, i, op.i32Add, simd.load, v128Access);
        emit(op.localGet, row, op.localGet, i, op.i32Add, simd.load, v128Access, op.localGet, ycPair, simd.mul, simd.sub);
        emit(op.localGet, next, op.localGet, i, op.i32Add, simd.load, v128Access, op.localGet, ynPair, simd.mul, simd.sub);
        emit(simd.store, v128Access);
        emit(op.localGet, i, op.i32Const, 16, op.i32Add, op.localSet, i);
      });
      emit(op.localGet, i, op.localGet, end, op.i32LtS, op.if, 0x40);
      emit(op.localGet, y, op.localGet, i, op.i32Add);
      emit(...load(y, i), ...load(row, i), op.localGet, yc, op.f64Mul, op.f64Sub, ...load(next, i), op.localGet, yn, op.f64Mul, op.f64Sub, op.f64Store, ...f64Access);
      emit(op.end);
      emit(op.localGet, c, op.i32Const, 16, op.i32Add, op.localSet, c);
      emit(op.localGet, next, op.localGet, stride, op.i32Add, op.localSet, row);
    });
    // The last column of an odd m: y[c] /= U[c][c] (nothing below it).
    emit(op.localGet, c, op.localGet, end, op.i32LtS, op.if, 0x40);
    emit(op.localGet, y, op.localGet, c, op.i32Add, ...load(y, c), ...load(row, c), op.f64Div, op.f64Store, ...f64Access);
    emit(op.end);
  });
}

/**
 * backwardL(l, stride, m, y): solves Lᵀ·x = y in place with L row-major (row stride `stride` bytes),
 * as cholesky.ts's substituteCholesky does: two rows i, i − 1 per pass, then
 * y[r] = y[r] − L[i][r]·xᵢ − L[i−1][r]·x_{i−1} for r < i − 1, two entries per instruction: the same
 * subtractions in the same order, the same bits.
 */
function backwardBody(): number[] {
  const [l, stride, m, y] = [0, 1, 2, 3];
  const [i, row, above, r, end] = [4, 5, 6, 7, 8];
  const [xi, xh] = [9, 10];
  const [xiPair, xhPair] = [11, 12];
  const load = (base: number, index: number, delta = 0) => [op.localGet, base, op.localGet, index, op.i32Add, op.f64Load, 3, ...unsigned(delta)];
  return functionBody([[5, I32], [2, F64], [2, V128]], (emit) => {
    // i (bytes) = 8(m − 1); row = l + (m − 1)·stride; above = row − stride
    emit(op.localGet, m, op.i32Const, 1, op.i32Sub, op.i32Const, 3, op.i32Shl, op.localSet, i);
    emit(op.localGet, l, op.localGet, m, op.i32Const, 1, op.i32Sub, op.localGet, stride, op.i32Mul, op.i32Add, op.localTee, row);
    emit(op.localGet, stride, op.i32Sub, op.localSet, above);
    loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 8, op.i32LtS), () => {
      // The address y + i − 8 is y[i − 1]: index i − 8 bytes, read with offset 0 from (y + i − 8).
      emit(op.localGet, i, op.i32Const, 8, op.i32Sub, op.localSet, end);
      emit(...load(y, i), ...load(row, i), op.f64Div, op.localSet, xi);
      emit(...load(y, end), ...load(row, end), op.localGet, xi, op.f64Mul, op.f64Sub, ...load(above, end), op.f64Div, op.localSet, xh);
      emit(op.localGet, y, op.localGet, i, op.i32Add, op.localGet, xi, op.f64Store, ...f64Access);
      emit(op.localGet, y, op.localGet, end, op.i32Add, op.localGet, xh, op.f64Store, ...f64Access);
      emit(op.localGet, xi, simd.splat, op.localSet, xiPair, op.localGet, xh, simd.splat, op.localSet, xhPair);
      // r over [0, i − 1): pairs while r + 8 < end (bytes), then the last one alone.
      emit(op.i32Const, 0, op.localSet, r);
      loopUntil(emit, () => emit(op.localGet, r, op.i32Const, 8, op.i32Add, op.localGet, end, op.i32GeS), () => {
        emit(op.localGet, y, op.localGet, r, op.i32Add);
        emit(op.localGet, y, op.localGet, r, op.i32Add, simd.load, v128Access);
        emit(op.localGet, row, op.localGet, r, op.i32Add, simd.load, v128Access, op.localGet, xiPair, simd.mul, simd.sub);
        emit(op.localGet, above, op.localGet, r, op.i32Add, simd.load, v128Access, op.localGet, xhPair, simd.mul, simd.sub);
        emit(simd.store, v128Access);
        emit(op.localGet, r, op.i32Const, 16, op.i32Add, op.localSet, r);
      });
      emit(op.localGet, r, op.localGet, end, op.i32LtS, op.if, 0x40);
      emit(op.localGet, y, op.localGet, r, op.i32Add);
      emit(...load(y, r), ...load(row, r), op.localGet, xi, op.f64Mul, op.f64Sub, ...load(above, r), op.localGet, xh, op.f64Mul, op.f64Sub);
      emit(op.f64Store, ...f64Access);
      emit(op.end);
      emit(op.localGet, i, op.i32Const, 16, op.i32Sub, op.localSet, i);
      emit(op.localGet, row, op.localGet, stride, op.i32Const, 1, op.i32Shl, op.i32Sub, op.localSet, row);
      emit(op.localGet, above, op.localGet, stride, op.i32Const, 1, op.i32Shl, op.i32Sub, op.localSet, above);
    });
    // i = 0 left: y[0] /= L[0][0]
    emit(op.localGet, i, op.i32Eqz, op.if, 0x40);
    emit(op.localGet, y, op.localGet, y, op.f64Load, ...f64Access, op.localGet, l, op.f64Load, ...f64Access, op.f64Div, op.f64Store, ...f64Access);
    emit(op.end);
  });
}

/**
 * residual(a, stride, m, z, rhs, out): out[p] = rhs[p] − Σ_q A[p][q]·z[q] for p < m (A row-major, row
 * stride `stride` bytes), each sum as dense.ts's dot: four interleaved partial sums (two lanes of two
 * accumulators), the rest into the first, then (s₀ + s₁) + (s₂ + s₃): the same bits.
 */
function residualBody(): number[] {
  const [a, stride, m, z, rhs, out] = [0, 1, 2, 3, 4, 5];
  const [p, row, t, end4, end] = [6, 7, 8, 9, 10];
  const [s0, s1, s2, s3] = [11, 12, 13, 14];
  const [acc0, acc1] = [15, 16];
  const zeroPair = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, ...simd.splat];
  return functionBody([[5, I32], [4, F64], [2, V128]], (emit) => {
    emit(op.localGet, m, op.i32Const, 3, op.i32Shl, op.localTee, end, op.i32Const, ...signed(-32), op.i32And, op.localSet, end4);
    emit(op.localGet, a, op.localSet, row);
    loopUntil(emit, () => emit(op.localGet, p, op.localGet, end, op.i32GeU), () => {
      emit(...zeroPair, op.localSet, acc0, ...zeroPair, op.localSet, acc1, op.i32Const, 0, op.localSet, t);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, end4, op.i32GeU), () => {
        emit(op.localGet, acc0, op.localGet, row, op.localGet, t, op.i32Add, simd.load, v128Access, op.localGet, z, op.localGet, t, op.i32Add, simd.load, v128Access, simd.mul, simd.add, op.localSet, acc0);
        emit(op.localGet, acc1, op.localGet, row, op.localGet, t, op.i32Add, simd.load, 3, 16, op.localGet, z, op.localGet, t, op.i32Add, simd.load, 3, 16, simd.mul, simd.add, op.localSet, acc1);
        emit(op.localGet, t, op.i32Const, 32, op.i32Add, op.localSet, t);
      });
      emit(op.localGet, acc0, simd.extractLane, 0, op.localSet, s0, op.localGet, acc0, simd.extractLane, 1, op.localSet, s1);
      emit(op.localGet, acc1, simd.extractLane, 0, op.localSet, s2, op.localGet, acc1, simd.extractLane, 1, op.localSet, s3);
      loopUntil(emit, () => emit(op.localGet, t, op.localGet, end, op.i32GeU), () => {
        emit(op.localGet, s0, op.localGet, row, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, op.localGet, z, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, op.f64Mul, op.f64Add, op.localSet, s0);
        emit(op.localGet, t, op.i32Const, 8, op.i32Add, op.localSet, t);
      });
      emit(op.localGet, out, op.localGet, p, op.i32Add);
      emit(op.localGet, rhs, op.localGet, p, op.i32Add, op.f64Load, ...f64Access);
      emit(op.localGet, s0, op.localGet, s1, op.f64Add, op.localGet, s2, op.localGet, s3, op.f64Add, op.f64Add, op.f64Sub, op.f64Store, ...f64Access);
      emit(op.localGet, p, op.i32Const, 8, op.i32Add, op.localSet, p);
      emit(op.localGet, row, op.localGet, stride, op.i32Add, op.localSet, row);
    });
  });
}

/**
 * products4(target, x₀, x₁, x₂, x₃, n, out): for four rows of n float64, out = [b₀ b₁ b₂ b₃ e₀ e₁ e₂ e₃
 * s₀ s₁ s₂ s₃] with bᵢ = Σ xᵢ·t, eᵢ = Σ (t − xᵢ)·t, sᵢ = Σ xᵢ·xᵢ, each summed in ascending order in
 * its own lane (rows 0, 1 share one accumulator, rows 2, 3 another): as lassoPath.ts's loop sums them.
 */
function productsBody(): number[] {
  const [target, x0, n, out] = [0, 1, 5, 6];
  const [t, end] = [7, 8];
  const [tPair, pair0, pair1, b0, b1, e0, e1, s0, s1] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  return functionBody([[2, I32], [9, V128]], (emit) => {
    emit(op.localGet, n, op.i32Const, 3, op.i32Shl, op.localSet, end);
    loopUntil(emit, () => emit(op.localGet, t, op.localGet, end, op.i32GeU), () => {
      emit(op.localGet, target, op.localGet, t, op.i32Add, simd.load64Splat, f64Access, op.localSet, tPair);
      for (const [pair, first] of [[pair0, x0], [pair1, x0 + 2]]) {
        emit(op.localGet, first, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, simd.splat);
        emit(op.localGet, first + 1, op.localGet, t, op.i32Add, op.f64Load, ...f64Access, simd.replaceLane, 1, op.localSet, pair);
      }
      for (const [pair, b, e, sq] of [[pair0, b0, e0, s0], [pair1, b1, e1, s1]]) {
        emit(op.localGet, b, op.localGet, pair, op.localGet, tPair, simd.mul, simd.add, op.localSet, b);
        emit(op.localGet, e, op.localGet, tPair, op.localGet, pair, simd.sub, op.localGet, tPair, simd.mul, simd.add, op.localSet, e);
        emit(op.localGet, sq, op.localGet, pair, op.localGet, pair, simd.mul, simd.add, op.localSet, sq);
      }
      emit(op.localGet, t, op.i32Const, 8, op.i32Add, op.localSet, t);
    });
    [b0, b1, e0, e1, s0, s1].forEach((acc, slot) => emit(op.localGet, out, op.localGet, acc, simd.store, 3, ...unsigned(16 * slot)));
  });
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const signature = (rows: number) => [0x60, ...vector(Array.from({ length: rows + 6 }, () => [I32])), ...vector([])];
  const fiveAddresses = [0x60, ...vector(Array.from({ length: 5 }, () => [I32])), ...vector([])];
  const fourAddresses = [0x60, ...vector(Array.from({ length: 4 }, () => [I32])), ...vector([])];
  const sixAddresses = [0x60, ...vector(Array.from({ length: 6 }, () => [I32])), ...vector([])];
  const sevenAddresses = [0x60, ...vector(Array.from({ length: 7 }, () => [I32])), ...vector([])];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([signature(1), signature(2), fiveAddresses, fourAddresses, sixAddresses, sevenAddresses])),
    ...section(3, vector([[0], [1], [0], [1], [2], [3], [3], [3], [4], [5]])),
    ...section(5, vector([[0x00, 1]])),
    ...section(7, vector([[...text('dot1x4'), 0x00, 0], [...text('dot2x4'), 0x00, 1], [...text('dist1x4'), 0x00, 2], [...text('dist2x4'), 0x00, 3], [...text('addRows4'), 0x00, 4], [...text('subtractRows'), 0x00, 5], [...text('forwardU'), 0x00, 6], [...text('backwardL'), 0x00, 7], [...text('residual'), 0x00, 8], [...text('products4'), 0x00, 9], [...text('memory'), 0x02, 0]])),
    ...section(10, vector([dotBody(1, false), dotBody(2, false), dotBody(1, true), dotBody(2, true), addRowsBody(), subtractRowsBody(), forwardBody(), backwardBody(), residualBody(), productsBody()])),
  ];
  return Uint8Array.from(bytes);
}

/**
 * The lasso's products with the target, computed in the cost matrix's pass when asked for (the rows
 * are in the kernel's memory then): bᵢ = pᵢ·t, eᵢ = (t − pᵢ)·t, squaresᵢ = pᵢ·pᵢ, each of length k,
 * each sum in ascending coordinate order (bit for bit targetProducts).
 */
export interface TargetProducts {
  b: Float64Array;
  e: Float64Array;
  squares: Float64Array;
}

/** TargetProducts in JavaScript, the reference order: each sum over d ascending, one term at a time. */
export function targetProducts(target: Float64Array, prototypes: readonly Float64Array[]): TargetProducts {
  const k = prototypes.length;
  const dim = target.length;
  const out = { b: new Float64Array(k), e: new Float64Array(k), squares: new Float64Array(k) };
  // Two prototypes per pass: six independent chains of additions instead of three (the same bits).
  let i = 0;
  for (; i + 1 < k; i += 2) {
    const p = prototypes[i];
    const q = prototypes[i + 1];
    let bp = 0, ep = 0, pp = 0, bq = 0, eq = 0, qq = 0;
    for (let d = 0; d < dim; d++) {
      const td = target[d];
      const pd = p[d];
      const qd = q[d];
      bp += pd * td; ep += (td - pd) * td; pp += pd * pd;
      bq += qd * td; eq += (td - qd) * td; qq += qd * qd;
    }
    out.b[i] = bp; out.e[i] = ep; out.squares[i] = pp;
    out.b[i + 1] = bq; out.e[i + 1] = eq; out.squares[i + 1] = qq;
  }
  for (; i < k; i++) {
    const p = prototypes[i];
    let bi = 0, ei = 0, pp = 0;
    for (let d = 0; d < dim; d++) { const pd = p[d]; const td = target[d]; bi += pd * td; ei += (td - pd) * td; pp += pd * pd; }
    out.b[i] = bi; out.e[i] = ei; out.squares[i] = pp;
  }
  return out;
}

export interface SimdKernels {
  /** G_ij = rᵢ·rⱼ for k rows of length dim (row i at i·dim): k×k, exactly symmetric. */
  gramOfRows(rows: Float64Array, k: number, dim: number): Float64Array;
  /**
   * The Gram of the rows t − pᵢ (the weights' cost matrix), formed where the kernel reads them: no
   * k·D array in between. The same bits as gramOfRows of those differences.
   */
  gramOfDifferences(target: Float64Array, prototypes: readonly Float64Array[], products?: TargetProducts): Float64Array;
  /** D_ij = ‖rᵢ − rⱼ‖², summed from the differences (no cancellation): k×k, exactly symmetric. */
  squaredDistances(rows: Float64Array, k: number, dim: number): Float64Array;
  /**
   * A workspace for sums of rows of one symmetric k×k matrix (a copy of `matrix`) into `vectors`
   * vectors of length k: the λ-paths' gradient and correlation updates. The SIMD one lives in the
   * module's memory, so it is valid only until the next call of any kernel here (using it later throws).
   */
  rowSums(matrix: Float64Array, k: number, vectors: number, matrices?: number): RowSums;
  /**
   * cholesky.ts's choleskySolve (pivoted Cholesky, then substitution), bit for bit: each entry of a
   * new factor column is the same chain of subtractions, summed for two rows per instruction. It runs
   * in a second instance of the module (its own memory), so it never disturbs a RowSums workspace.
   */
  choleskySolve(matrix: Float64Array, n: number, b: Float64Array, referenceScale?: number, tolerance?: number): Float64Array | null;
}

/**
 * A λ-path's working memory and its kernels. Every argument array must be one of its own `vectors`
 * or `matrices` (the SIMD kernels address them in the module's memory).
 */
export interface RowSums {
  /** The vectors to sum into, each of length k, zero at first. */
  readonly vectors: Float64Array[];
  /** k×k scratch matrices (row-major), zero at first: a Cholesky factor, its transpose, a system. */
  readonly matrices: Float64Array[];
  /**
   * out += scale·M·v for v zero off the first `count` entries of `rows` (out one of `vectors`): the
   * sums of dense.ts's addRows (rows with v = 0 skipped, four rows per pass, left to right), bit for bit.
   */
  addRows(out: Float64Array, rows: ArrayLike<number>, count: number, v: ArrayLike<number>, scale?: number): void;
  /**
   * y ← (L·Lᵀ)⁻¹·y for the m×m leading block of L (row stride k) given with its transpose `u`: bit for
   * bit cholesky.ts's substituteCholesky(l, k, m, y, y).
   */
  substitute(l: Float64Array, u: Float64Array, m: number, y: Float64Array): void;
  /** y ← L⁻¹·y (the forward half) from the transpose `u` alone: bit for bit the row-by-row substitution. */
  forward(u: Float64Array, m: number, y: Float64Array): void;
  /** out[p] = rhs[p] − dense.ts's dot(a, p·k, z, 0, m) for p < m: a residual, bit for bit. */
  residual(a: Float64Array, m: number, z: Float64Array, rhs: Float64Array, out: Float64Array): void;
}

let kernels: SimdKernels | null | undefined;
/** Bumped by every use of the module's memory: a RowSums workspace checks it is still the latest. */
let memoryClaims = 0;

type OneByFour = (x: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
type TwoByFour = (x0: number, x1: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
type Products4 = (target: number, x0: number, x1: number, x2: number, x3: number, n: number, out: number) => void;
type SubtractRows = (target: number, rows: number, k: number, dim: number) => void;
type AddRows4 = (out: number, rows: number, values: number, groups: number, pairs: number) => void;
type Substitute = (factor: number, stride: number, m: number, y: number) => void;
type Residual = (a: number, stride: number, m: number, z: number, rhs: number, out: number) => void;
interface PathExports { addRows4: AddRows4; forwardU: Substitute; backwardL: Substitute; residual: Residual }

/**
 * Layout (float64 slots): the matrix (k² and one slot of padding: an odd k's last pair reads one past
 * its row), a zero row, the vectors (each padded to whole pairs), the scratch matrices, then the group
 * list: row addresses (i32) and values. The list is padded to whole groups of four with the zero row
 * and the value −0: 0·(−0) = −0 and x + (−0) = x for every x, so padding changes no bit.
 */
function simdRowSums(memory: WebAssembly.Memory, kernels: PathExports, matrix: Float64Array, k: number, vectorCount: number, matrixCount: number): RowSums {
  const pairs = (k + 1) >> 1;
  const zeroRow = k * k + 1;
  const firstVector = zeroRow + 2 * pairs;
  const firstMatrix = firstVector + vectorCount * 2 * pairs;
  const listAt = firstMatrix + matrixCount * (k * k + 2);
  const slots = k + 4;
  const valuesAt = listAt + slots;
  const needed = (valuesAt + slots) * 8;
  memoryClaims++;
  const claim = memoryClaims;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const heap = new Float64Array(memory.buffer);
  heap.set(matrix, 0);
  heap.fill(0, k * k, listAt);
  const list = new Int32Array(memory.buffer, listAt * 8, slots);
  const values = heap.subarray(valuesAt, valuesAt + slots);
  const vectors = Array.from({ length: vectorCount }, (_, v) => heap.subarray(firstVector + v * 2 * pairs, firstVector + v * 2 * pairs + k));
  const matrices = Array.from({ length: matrixCount }, (_, v) => heap.subarray(firstMatrix + v * (k * k + 2), firstMatrix + v * (k * k + 2) + k * k));
  const stride = 8 * k;
  // Every array passed must be one of this workspace's (by contract; the tests check the results).
  const own = () => {
    if (claim !== memoryClaims) {
      throw new ComposerError('internal', 'a row-sum workspace was used after the kernel memory was reused');
    }
  };
  return {
    vectors,
    matrices,
    addRows(out, rows, count, v, scale = 1) {
      own();
      let n = 0;
      for (let a = 0; a < count; a++) {
        const j = rows[a];
        const x = v[j];
        if (x === 0) continue;
        list[n] = j * k * 8;
        values[n++] = scale * x;
      }
      if (n === 0) return;
      for (; n & 3; n++) { list[n] = zeroRow * 8; values[n] = -0; }
      kernels.addRows4(out.byteOffset, listAt * 8, valuesAt * 8, n >> 2, pairs);
    },
    substitute(l, u, m, y) {
      own();
      kernels.forwardU(u.byteOffset, stride, m, y.byteOffset);
      kernels.backwardL(l.byteOffset, stride, m, y.byteOffset);
    },
    forward(u, m, y) {
      own();
      kernels.forwardU(u.byteOffset, stride, m, y.byteOffset);
    },
    residual(a, m, z, rhs, out) {
      own();
      kernels.residual(a.byteOffset, stride, m, z.byteOffset, rhs.byteOffset, out.byteOffset);
    },
  };
}

interface SolverExports { memory: WebAssembly.Memory; addRows4: AddRows4; forwardU: Substitute; backwardL: Substitute }

/**
 * cholesky.ts's choleskySolve with its inner loop in the kernels. The factor is kept transposed
 * (Lt[c][i] = L[i][c], row stride n + 2): column j of L is then, for the rows i > j at once,
 * A[perm i][perm j] + Σ_{c<j} Lt[c][i]·(−L[j][c]), a sum of Lt's rows that addRows4 adds left to right
 * in ascending c (x + y·(−z) = x − y·z exactly): each entry the scalar loop's chain of subtractions.
 * Pivoting, the diagonal and the Schur complement stay in JavaScript, as there.
 */
function simdCholeskySolve(ex: SolverExports, matrix: Float64Array, n: number, b: Float64Array, referenceScale: number, tolerance: number): Float64Array | null {
  let largestDiagonal = referenceScale;
  for (let i = 0; i < n; i++) largestDiagonal = Math.max(largestDiagonal, matrix[i * n + i]);
  if (!(largestDiagonal > 0)) return n === 0 ? new Float64Array(0) : null;
  // Layout (float64 slots): Lt (n rows of `stride`), L row-major (the same stride) for the backward
  // substitution, a zero row, the column being built, y, then the group list (i32) and its values.
  const stride = n + 2;
  const ltAt = 0;
  const lAt = n * stride;
  const zeroAt = 2 * n * stride;
  const columnAt = zeroAt + stride;
  const yAt = columnAt + stride;
  const valuesAt = yAt + stride;
  const listAt = valuesAt + n + 4;
  const needed = (listAt + (n + 4) / 2 + 1) * 8;
  const memory = ex.memory;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const heap = new Float64Array(memory.buffer);
  heap.fill(0, 0, listAt);
  const list = new Int32Array(memory.buffer, listAt * 8, n + 4);
  const perm = new Int32Array(n);
  const schur = new Float64Array(n);
  for (let i = 0; i < n; i++) { perm[i] = i; schur[i] = matrix[i * n + i]; }
  for (let j = 0; j < n; j++) {
    let pivot = j;
    for (let i = j + 1; i < n; i++) if (schur[i] > schur[pivot]) pivot = i;
    if (!(schur[pivot] > tolerance * largestDiagonal)) return null;
    if (pivot !== j) {
      for (let c = 0; c < j; c++) {
        const row = ltAt + c * stride;
        const t = heap[row + j]; heap[row + j] = heap[row + pivot]; heap[row + pivot] = t;
      }
      const t = perm[j]; perm[j] = perm[pivot]; perm[pivot] = t;
      const u = schur[j]; schur[j] = schur[pivot]; schur[pivot] = u;
    }
    const d = Math.sqrt(schur[j]);
    heap[ltAt + j * stride + j] = d;
    const column = perm[j];
    for (let i = j + 1; i < n; i++) heap[columnAt + i] = matrix[perm[i] * n + column];
    if (j > 0 && j + 1 < n) {
      for (let c = 0; c < j; c++) {
        list[c] = (ltAt + c * stride + j + 1) * 8;
        heap[valuesAt + c] = -heap[ltAt + c * stride + j];
      }
      let count = j;
      for (; count & 3; count++) { list[count] = zeroAt * 8; heap[valuesAt + count] = -0; }
      ex.addRows4((columnAt + j + 1) * 8, listAt * 8, valuesAt * 8, count >> 2, (n - j) >> 1);
    }
    const row = ltAt + j * stride;
    for (let i = j + 1; i < n; i++) {
      const lij = heap[columnAt + i] / d;
      heap[row + i] = lij;
      schur[i] -= lij * lij;
    }
  }
  // L row-major from Lt, then L·Lᵀ·y = P·b as substituteCholesky does it, and x = Pᵀ·y.
  for (let i = 0; i < n; i++) for (let c = 0; c <= i; c++) heap[lAt + i * stride + c] = heap[ltAt + c * stride + i];
  for (let i = 0; i < n; i++) heap[yAt + i] = b[perm[i]];
  ex.forwardU(ltAt * 8, stride * 8, n, yAt * 8);
  ex.backwardL(lAt * 8, stride * 8, n, yAt * 8);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[perm[i]] = heap[yAt + i];
  return x;
}

/** The kernels, or null where this runtime has no WebAssembly SIMD. */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const module = new WebAssembly.Module(moduleBytes());
    const instance = new WebAssembly.Instance(module);
    const solver = new WebAssembly.Instance(module).exports as unknown as SolverExports;
    const exports = instance.exports as { memory: WebAssembly.Memory; dot1x4: OneByFour; dot2x4: TwoByFour; dist1x4: OneByFour; dist2x4: TwoByFour; subtractRows: SubtractRows; products4: Products4; addRows4: AddRows4; forwardU: Substitute; backwardL: Substitute; residual: Residual };
    kernels = {
      choleskySolve: (matrix, n, b, referenceScale = 0, tolerance = SINGULAR_TOLERANCE) => simdCholeskySolve(solver, matrix, n, b, referenceScale, tolerance),
      rowSums: (matrix, k, vectors, matrices = 0) => simdRowSums(exports.memory, exports, matrix, k, vectors, matrices),
      gramOfRows: (rows, k, dim) => symmetricPass(exports.memory, exports.dot1x4, exports.dot2x4, (heap) => heap.set(rows, 0), k, dim),
      gramOfDifferences: (target, prototypes, products) => symmetricPass(exports.memory, exports.dot1x4, exports.dot2x4, (heap) => {
        // The rows copied in (a memory copy each), the target after the results, the products with the
        // target when asked for, then t − pᵢ in place.
        const k = prototypes.length;
        const dim = target.length;
        const targetAt = (k + 1) * dim + 8;
        const productsAt = targetAt + dim;
        for (let i = 0; i < k; i++) heap.set(prototypes[i], i * dim);
        heap.set(target, targetAt);
        if (products) {
          // Four rows per call; past the last row, the target stands in (its results are dropped).
          const row = (i: number) => (i < k ? i * dim : targetAt) * 8;
          for (let i = 0; i < k; i += 4) {
            exports.products4(targetAt * 8, row(i), row(i + 1), row(i + 2), row(i + 3), dim, productsAt * 8);
            for (let r = 0; r < 4 && i + r < k; r++) {
              products.b[i + r] = heap[productsAt + r];
              products.e[i + r] = heap[productsAt + 4 + r];
              products.squares[i + r] = heap[productsAt + 8 + r];
            }
          }
        }
        exports.subtractRows(targetAt * 8, 0, k, dim);
      }, prototypes.length, target.length, target.length + 12),
      squaredDistances: (rows, k, dim) => symmetricPass(exports.memory, exports.dist1x4, exports.dist2x4, (heap) => heap.set(rows, 0), k, dim),
    };
  } catch {
    kernels = null;
  }
  return kernels;
}

/**
 * Rows i, i+1 against columns j … j+3 (j from i up): eight entries per pass over the rows. A block
 * that runs past k pairs with a zero row, whose results are dropped. (i+1, i) is summed both as
 * (row i+1, row i) and as (row i, row i+1): the same terms in the same order (x·y = y·x and
 * (x − y)² = (y − x)² exactly), so the matrix stays exactly symmetric.
 */
function symmetricPass(memory: WebAssembly.Memory, one: OneByFour, two: TwoByFour, writeRows: (heap: Float64Array) => void, k: number, dim: number, scratch = 0): Float64Array {
  // Layout: the rows, one zero row, eight results, then `scratch` slots for writeRows.
  const zeroRow = k * dim;
  const outAt = (k + 1) * dim;
  const needed = (outAt + 8 + scratch) * 8;
  memoryClaims++;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const heap = new Float64Array(memory.buffer);
  writeRows(heap);
  heap.fill(0, zeroRow, zeroRow + dim);
  const c = new Float64Array(k * k);
  const address = (row: number) => (row < k ? row : k) * dim * 8;
  const results = outAt * 8;
  const keep = (i: number, j: number, value: number) => {
    if (i >= k || j >= k) return;
    c[i * k + j] = value;
    c[j * k + i] = value;
  };
  let i = 0;
  for (; i + 1 < k; i += 2) {
    for (let j = i; j < k; j += 4) {
      two(address(i), address(i + 1), address(j), address(j + 1), address(j + 2), address(j + 3), dim, results);
      for (let q = 0; q < 4; q++) {
        keep(i, j + q, heap[outAt + q]);
        if (j + q > i) keep(i + 1, j + q, heap[outAt + 4 + q]);
      }
    }
  }
  if (i < k) {
    one(address(i), address(i), address(k), address(k), address(k), dim, results);
    keep(i, i, heap[outAt]);
  }
  return c;
}

/** Row i of `out` = t − pᵢ. */
function writeDifferences(out: Float64Array, target: Float64Array, prototypes: readonly Float64Array[]): void {
  const dim = target.length;
  for (let i = 0; i < prototypes.length; i++) {
    const p = prototypes[i];
    const offset = i * dim;
    for (let d = 0; d < dim; d++) out[offset + d] = target[d] - p[d];
  }
}

/**
 * Σ f(x_t, y_t) summed as the SIMD kernels do: even terms, odd terms, their sum, then the last term of
 * an odd length. f is x·y or (x − y)².
 */
function paired(v: Float64Array, x: number, y: number, n: number, squares: boolean): number {
  let even = 0;
  let odd = 0;
  const pairs = n & ~1;
  for (let t = 0; t < pairs; t += 2) {
    if (squares) {
      const a = v[x + t] - v[y + t];
      const b = v[x + t + 1] - v[y + t + 1];
      even += a * a;
      odd += b * b;
    } else {
      even += v[x + t] * v[y + t];
      odd += v[x + t + 1] * v[y + t + 1];
    }
  }
  let sum = even + odd;
  if (pairs < n) {
    const a = v[x + pairs];
    const b = v[y + pairs];
    sum += squares ? (a - b) * (a - b) : a * b;
  }
  return sum;
}

function scalarPass(rows: Float64Array, k: number, dim: number, squares: boolean): Float64Array {
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const value = paired(rows, i * dim, j * dim, dim, squares);
      c[i * k + j] = value;
      c[j * k + i] = value;
    }
  }
  return c;
}

/** forwardU in JavaScript: y ← L⁻¹·y from U = Lᵀ, column by column. */
function forwardByColumns(u: Float64Array, k: number, m: number, y: Float64Array): void {
  for (let c = 0; c < m; c++) {
    const row = c * k;
    const yc = y[c] / u[row + c];
    y[c] = yc;
    for (let i = c + 1; i < m; i++) y[i] = y[i] - u[row + i] * yc;
  }
}

/** The kernels callers use: SIMD where the runtime has it, else the scalar twin (the same bits). */
export function denseKernels(): SimdKernels {
  return scalarOnly ? scalarKernels : simdKernels() ?? scalarKernels;
}

let scalarOnly = false;

/**
 * Runs `run` as a runtime without WebAssembly SIMD would (denseKernels() gives the scalar twin), for
 * the tests that check the whole solver gives the same bits either way.
 */
export function withScalarKernels<T>(run: () => T): T {
  const before = scalarOnly;
  scalarOnly = true;
  try {
    return run();
  } finally {
    scalarOnly = before;
  }
}

/** The kernels in plain JavaScript, bit for bit the SIMD ones. */
export const scalarKernels: SimdKernels = {
  gramOfRows: (rows, k, dim) => scalarPass(rows, k, dim, false),
  choleskySolve,
  rowSums: (matrix, k, vectors, matrices = 0) => ({
    vectors: Array.from({ length: vectors }, () => new Float64Array(k)),
    matrices: Array.from({ length: matrices }, () => new Float64Array(k * k)),
    addRows: (out, rows, count, v, scale) => addRows(out, matrix, k, rows, count, v, scale),
    substitute: (l, _u, m, y) => { substituteCholesky(l, k, m, y, y); },
    forward: (u, m, y) => { forwardByColumns(u, k, m, y); },
    residual: (a, m, z, rhs, out) => { for (let p = 0; p < m; p++) out[p] = rhs[p] - dot(a, p * k, z, 0, m); },
  }),
  gramOfDifferences: (target, prototypes, products) => {
    if (products) {
      const { b, e, squares } = targetProducts(target, prototypes);
      products.b.set(b);
      products.e.set(e);
      products.squares.set(squares);
    }
    const differences = new Float64Array(prototypes.length * target.length);
    writeDifferences(differences, target, prototypes);
    return scalarPass(differences, prototypes.length, target.length, false);
  },
  squaredDistances: (rows, k, dim) => scalarPass(rows, k, dim, true),
};
