/**
 * The bodies of the kernels that run over whole rows of length D (the weights' cost matrix and the
 * λ-paths' row sums): dot/dist (R rows against four), addRows4, subtractRows and products4. They are
 * here, apart from the triangular ones (triangularBodies.ts), because each is a loop over pairs of
 * float64 in its own lanes whose summation order must match a JavaScript twin (scalarKernels.ts).
 */
import { F64, I32, V128, f64Access, functionBody, loopUntil, op, signed, simd, unsigned, v128Access, vector } from './assembler';

/**
 * The body of dotRx4(x₀ … x_{R−1}, y₀ … y₃, n, out): out[4·r + c] = x_r·y_c over n float64 (byte
 * addresses), R = 1 or 2 rows against four; with `squares`, distRx4: out[4·r + c] = ‖x_r − y_c‖².
 * Parameters: the R + 4 addresses, n, out; locals: t (the byte offset), end (of the paired part), 4R
 * v128 accumulators, R v128 row pairs, one v128 column pair, one v128 difference, one f64 sum (and one
 * f64 difference).
 */
export function dotBody(rows: number, squares: boolean, columns = 4): number[] {
  const y0 = rows;
  const n = rows + columns;
  const out = n + 1;
  const t = out + 1;
  const end = t + 1;
  const acc0 = end + 1;
  const pair0 = acc0 + columns * rows;
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
  for (let c = 0; c < columns; c++) {
    // One load of y_c's pair serves every row.
    emit(op.localGet, y0 + c, op.localGet, t, op.i32Add, simd.load, v128Access, op.localSet, column);
    for (let r = 0; r < rows; r++) {
      const acc = acc0 + columns * r + c;
      if (squares) emit(op.localGet, acc, op.localGet, pair0 + r, op.localGet, column, simd.sub, op.localTee, difference, op.localGet, difference, simd.mul, simd.add, op.localSet, acc);
      else emit(op.localGet, acc, op.localGet, pair0 + r, op.localGet, column, simd.mul, simd.add, op.localSet, acc);
    }
  }
  emit(op.localGet, t, op.i32Const, 16, op.i32Add, op.localSet, t, op.br, 0);
  emit(op.end, op.end);
  // out[4r + c] = lane 0 + lane 1, then + the last term when n is odd
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const acc = acc0 + columns * r + c;
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
  const locals = vector([[...unsigned(2), I32], [...unsigned((columns + 1) * rows + 2), V128], [...unsigned(2), F64]]);
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
export function addRowsBody(): number[] {
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
export function subtractRowsBody(): number[] {
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

/**
 * products4(target, x₀, x₁, x₂, x₃, n, out): for four rows of n float64, out = [b₀ b₁ b₂ b₃ e₀ e₁ e₂ e₃
 * s₀ s₁ s₂ s₃] with bᵢ = Σ xᵢ·t, eᵢ = Σ (t − xᵢ)·t, sᵢ = Σ xᵢ·xᵢ, each summed in ascending order in
 * its own lane (rows 0, 1 share one accumulator, rows 2, 3 another): as lassoPath.ts's loop sums them.
 */
export function productsBody(): number[] {
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

/** Opcodes the shared assembler does not list. */

/**
 * The body of a whole symmetric pass over k rows of dim float64 at address 0 (a zero row after them):
 * symmetric(k, dim, out, results) writes the k×k matrix at `out` (row-major), entry (r, c) and (c, r)
 * from `pair` (dotRx4 or distRx4 with R = 2, function index) on rows i, i + 1 against columns j … j + 3
 * (j = i, i + 4, …; a column past k reads the zero row and is dropped; when exactly two columns are
 * left, `narrow` (R = 2 against two columns, the same sums per entry) instead), then the last row of an odd k
 * against itself by `single` (R = 1). The blocks, their order and the entries kept are those of
 * simdKernels.ts's symmetricPass when it called the kernel once per block from JavaScript ((i + 1, i)
 * is taken from (i, i + 1)): the same bits, without one op.call and eight reads per block.
 * Locals: i, j, rowBytes, zero (the zero row's address), the two rows' addresses.
 */
export function symmetricPassBody(pair: number, single: number, narrow: number): number[] {
  const [k, dim, out, results] = [0, 1, 2, 3];
  const [i, j, rowBytes, zero, rowI, rowNext] = [4, 5, 6, 7, 8, 9];
  return functionBody([[6, I32]], (emit) => {
    emit(op.localGet, dim, op.i32Const, 3, op.i32Shl, op.localSet, rowBytes);
    emit(op.localGet, k, op.localGet, rowBytes, op.i32Mul, op.localSet, zero);
    // The address of column row x (x an expression on the stack builder): x < k ? x·rowBytes : zero.
    const column = (q: number) => {
      emit(op.localGet, j, op.i32Const, q, op.i32Add, op.localGet, rowBytes, op.i32Mul, op.localGet, zero);
      emit(op.localGet, j, op.i32Const, q, op.i32Add, op.localGet, k, op.i32LtS, op.select);
    };
    // out + ((r·k + c)·8) for locals/expressions r, c emitted by the callers.
    const store = (row: () => void, col: () => void, value: () => void) => {
      row(); emit(op.localGet, k, op.i32Mul); col(); emit(op.i32Add, op.i32Const, 3, op.i32Shl, op.localGet, out, op.i32Add);
      value();
      emit(op.f64Store, ...f64Access);
    };
    const local = (x: number, plus = 0) => () => { emit(op.localGet, x); if (plus) emit(op.i32Const, plus, op.i32Add); };
    const result = (slot: number) => () => emit(op.localGet, results, op.f64Load, 3, ...unsigned(8 * slot));
    loopUntil(emit, () => emit(op.localGet, i, op.i32Const, 1, op.i32Add, op.localGet, k, op.i32GeS), () => {
      emit(op.localGet, i, op.localGet, rowBytes, op.i32Mul, op.localTee, rowI, op.localGet, rowBytes, op.i32Add, op.localSet, rowNext);
      emit(op.localGet, i, op.localSet, j);
      loopUntil(emit, () => emit(op.localGet, j, op.localGet, k, op.i32GeS), () => {
        // Two columns left (k − j = 2): the 2×2 kernel (`narrow`), not a 2×4 padded with the zero row.
        emit(op.localGet, k, op.localGet, j, op.i32Sub, op.i32Const, 2, 0x46 /* i32.eq */, op.if, 0x40);
        emit(op.localGet, rowI, op.localGet, rowNext);
        for (let q = 0; q < 2; q++) column(q);
        emit(op.localGet, dim, op.localGet, results, op.call, ...unsigned(narrow));
        emit(0x05); // else
        emit(op.localGet, rowI, op.localGet, rowNext);
        for (let q = 0; q < 4; q++) column(q);
        emit(op.localGet, dim, op.localGet, results, op.call, ...unsigned(pair));
        emit(op.end);
        for (let q = 0; q < 4; q++) {
          // Column j + q inside the matrix: (i, j + q) and its mirror, then (i + 1, j + q) and its
          // mirror, except (i + 1, i) (the block on the diagonal's first column), kept from (i, i + 1).
          emit(op.localGet, j, op.i32Const, q, op.i32Add, op.localGet, k, op.i32LtS, op.if, 0x40);
          store(local(i), local(j, q), result(q));
          store(local(j, q), local(i), result(q));
          if (q === 0) emit(op.localGet, j, op.localGet, i, op.i32GtS, op.if, 0x40);
          store(local(i, 1), local(j, q), result(4 + q));
          store(local(j, q), local(i, 1), result(4 + q));
          if (q === 0) emit(op.end);
          emit(op.end);
        }
        emit(op.localGet, j, op.i32Const, 4, op.i32Add, op.localSet, j);
      });
      emit(op.localGet, i, op.i32Const, 2, op.i32Add, op.localSet, i);
    });
    // The last row of an odd k against itself.
    emit(op.localGet, i, op.localGet, k, op.i32LtS, op.if, 0x40);
    emit(op.localGet, i, op.localGet, rowBytes, op.i32Mul, op.localTee, rowI, op.localGet, rowI, op.localGet, zero, op.localGet, zero, op.localGet, zero);
    emit(op.localGet, dim, op.localGet, results, op.call, ...unsigned(single));
    store(local(i), local(i), result(0));
    emit(op.end);
  });
}

/**
 * The body of addRowsOf(out, rows, count, v, scale, rowBytes, list, values, zero, pairs): the group
 * list of addRows4 built in the module, then addRows4 (function index `addRows4`) itself. For a = 0 …
 * count − 1, j = rows[a] (i32 candidate indices) and x = v[j] (f64 by candidate): x = 0 (either sign)
 * is skipped, else the row address j·rowBytes and the value scale·x are appended; the list is padded to
 * whole groups of four with the zero row and −0. This is simdKernels.ts's list loop for addRows, entry
 * for entry, so the sums are the same bits. Locals: a, n (entries so far), j (i32), x (f64).
 */
export function addRowsOfBody(addRows4: number): number[] {
  const [out, rows, count, v, scale, rowBytes, list, values, zero, pairs] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [a, n, j, x] = [10, 11, 12, 13];
  const negativeZero = [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0x80];
  return functionBody([[3, I32], [1, F64]], (emit) => {
    loopUntil(emit, () => emit(op.localGet, a, op.localGet, count, op.i32GeS), () => {
      emit(op.localGet, rows, op.localGet, a, op.i32Const, 2, op.i32Shl, op.i32Add, op.i32Load, 2, 0, op.localSet, j);
      emit(op.localGet, v, op.localGet, j, op.i32Const, 3, op.i32Shl, op.i32Add, op.f64Load, ...f64Access, op.localTee, x);
      emit(op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, op.f64Eq, op.i32Eqz, op.if, 0x40);
      emit(op.localGet, list, op.localGet, n, op.i32Const, 2, op.i32Shl, op.i32Add, op.localGet, j, op.localGet, rowBytes, op.i32Mul, op.i32Store, 2, 0);
      emit(op.localGet, values, op.localGet, n, op.i32Const, 3, op.i32Shl, op.i32Add, op.localGet, scale, op.localGet, x, op.f64Mul, op.f64Store, ...f64Access);
      emit(op.localGet, n, op.i32Const, 1, op.i32Add, op.localSet, n);
      emit(op.end);
      emit(op.localGet, a, op.i32Const, 1, op.i32Add, op.localSet, a);
    });
    emit(op.localGet, n, op.i32Eqz, op.if, 0x40, op.return, op.end);
    loopUntil(emit, () => emit(op.localGet, n, op.i32Const, 3, op.i32And, op.i32Eqz), () => {
      emit(op.localGet, list, op.localGet, n, op.i32Const, 2, op.i32Shl, op.i32Add, op.localGet, zero, op.i32Store, 2, 0);
      emit(op.localGet, values, op.localGet, n, op.i32Const, 3, op.i32Shl, op.i32Add, ...negativeZero, op.f64Store, ...f64Access);
      emit(op.localGet, n, op.i32Const, 1, op.i32Add, op.localSet, n);
    });
    emit(op.localGet, out, op.localGet, list, op.localGet, values, op.localGet, n, op.i32Const, 2, 0x76 /* i32.shr_u */, op.localGet, pairs, op.call, ...unsigned(addRows4));
  });
}
