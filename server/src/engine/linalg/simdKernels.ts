/**
 * The dense kernels over the instantiated WebAssembly module (wasm/kernelModule.ts): the symmetric
 * passes behind gramOfRows / gramOfDifferences / squaredDistances, the λ-paths' RowSums workspace in the
 * module's memory, and the pivoted Cholesky solve (one module call). It exists to keep
 * the memory layouts and the calls into the module in one place; simdDot.ts chooses between these and
 * the scalar twins (scalarKernels.ts).
 */
import { ComposerError } from '../errors';
import { SINGULAR_TOLERANCE } from './eigen';
import type { RowSums, SimdKernels } from './kernelContract';
import { moduleBytes, type AddRows4, type AddRowsOf, type AppendRow, type PathEvents, type RefinedSolve, type GramRefinedSolve, type PathBoundary, type PathUpdate, type LassoStep, type Products4, type Residual, type Substitute, type CholeskySolve, type SubtractRows, type SymmetricPass } from './wasm/kernelModule';

let kernels: SimdKernels | null | undefined;
/** Bumped by every use of the module's memory: a RowSums workspace checks it is still the latest. */
let memoryClaims = 0;
interface PathExports { addRows4: AddRows4; addRowsOf: AddRowsOf; appendRow: AppendRow; pathEvents: PathEvents; refinedSolve: RefinedSolve; gramRefinedSolve: GramRefinedSolve; pathBoundary: PathBoundary; pathUpdate: PathUpdate; lassoStep: LassoStep; forwardU: Substitute; backwardL: Substitute; residual: Residual }

/**
 * Layout (float64 slots): the matrix (k² and one slot of padding: an odd k's last pair reads one past
 * its row), a zero row, the vectors (each padded to whole pairs), the scratch matrices, then the group
 * list: row addresses (i32) and values. The list is padded to whole groups of four with the zero row
 * and the value −0: 0·(−0) = −0 and x + (−0) = x for every x, so padding changes no bit.
 */
function simdRowSums(memory: WebAssembly.Memory, kernels: PathExports, matrix: Float64Array, k: number, vectorCount: number, matrixCount: number, listCount: number): RowSums {
  const pairs = (k + 1) >> 1;
  const zeroRow = k * k + 1;
  const firstVector = zeroRow + 2 * pairs;
  const firstMatrix = firstVector + vectorCount * 2 * pairs;
  const listAt = firstMatrix + matrixCount * (k * k + 2);
  const slots = k + 4;
  const valuesAt = listAt + slots;
  const listsAt = valuesAt + slots;
  const needed = (listsAt + listCount * pairs) * 8;
  memoryClaims++;
  const claim = memoryClaims;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const buffer = memory.buffer;
  const heap = new Float64Array(buffer);
  heap.set(matrix, 0);
  // The zero row and the vectors start at 0; the scratch matrices keep whatever was there (their
  // users write every entry they read: up to ~170 KB less to clear per solve at k = 64).
  heap.fill(0, k * k, firstMatrix);
  const list = new Int32Array(memory.buffer, listAt * 8, slots);
  const values = heap.subarray(valuesAt, valuesAt + slots);
  const vectors = Array.from({ length: vectorCount }, (_, v) => heap.subarray(firstVector + v * 2 * pairs, firstVector + v * 2 * pairs + k));
  const matrices = Array.from({ length: matrixCount }, (_, v) => heap.subarray(firstMatrix + v * (k * k + 2), firstMatrix + v * (k * k + 2) + k * k));
  const lists = Array.from({ length: listCount }, (_, v) => new Int32Array(buffer, (listsAt + v * pairs) * 8, k));
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
    lists,
    addRows(out, rows, count, v, scale = 1) {
      own();
      if (rows instanceof Int32Array && rows.buffer === buffer && v instanceof Float64Array && v.buffer === buffer) {
        // Both in the workspace: the same list built in the module (wasm/rowBodies.ts addRowsOfBody).
        kernels.addRowsOf(out.byteOffset, rows.byteOffset, count, v.byteOffset, scale, stride, listAt * 8, valuesAt * 8, zeroRow * 8, pairs);
        return;
      }
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
    appendRow(members, m, reference, j, factor, transposed, system, l, dependentBelow) {
      own();
      return kernels.appendRow(k, members.byteOffset, m, reference, j, factor.byteOffset, transposed.byteOffset, system ? system.byteOffset : 0, l.byteOffset, dependentBelow) === 1;
    },
    pathBoundary(b) {
      own();
      return kernels.pathBoundary(b.active.byteOffset, b.count, b.inactive.byteOffset, k, b.sign.byteOffset, b.justLeft.byteOffset, b.joined.byteOffset, b.w.byteOffset, b.g.byteOffset, b.out.byteOffset, b.toleranceOut.byteOffset, b.lambda, b.base, b.slope) === 1;
    },
    pathUpdate(e, moved, tie) {
      own();
      kernels.pathUpdate(e.active.byteOffset, e.count, e.inactive.byteOffset, k, e.w.byteOffset, e.direction.byteOffset, e.sign.byteOffset, e.justLeft.byteOffset, e.joined.byteOffset, e.leaveAt.byteOffset, e.joinAt.byteOffset, e.joinSign.byteOffset, moved, tie);
    },
    pathEvents(e) {
      own();
      return kernels.pathEvents(e.active.byteOffset, e.count, e.inactive.byteOffset, k, e.sign.byteOffset, e.justLeft.byteOffset, e.w.byteOffset, e.direction.byteOffset, e.g.byteOffset, e.gDirection.byteOffset, e.leaveAt.byteOffset, e.joinAt.byteOffset, e.joinSign.byteOffset, e.dNu.byteOffset, e.nu, e.lambda, e.tolerance);
    },
    lassoStep(s) {
      own();
      return kernels.lassoStep(k, s.w.byteOffset, s.direction.byteOffset, s.correlation.byteOffset, s.gd.byteOffset, s.leaveAt.byteOffset, s.marks.byteOffset, s.moving.byteOffset, s.now.byteOffset, s.rhs.byteOffset, s.b.byteOffset, s.out.byteOffset, stride, listAt * 8, valuesAt * 8, zeroRow * 8, pairs, s.lambda, s.boundaryLevel, s.slack);
    },
    refinedSolve(l, u, a, m, z, rhs, correction) {
      own();
      kernels.refinedSolve(l.byteOffset, u.byteOffset, a.byteOffset, stride, m, z.byteOffset, rhs.byteOffset, correction.byteOffset);
    },
    gramRefinedSolve(l, u, members, m, rhs, x, byCandidate, full, r) {
      own();
      kernels.gramRefinedSolve(l.byteOffset, u.byteOffset, stride, m, members.byteOffset, rhs.byteOffset, x.byteOffset, byCandidate.byteOffset, full.byteOffset, r.byteOffset, listAt * 8, valuesAt * 8, zeroRow * 8, pairs);
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

interface SolverExports { memory: WebAssembly.Memory; choleskySolve: CholeskySolve }

/** The solver instance's memory as float64 (made again when it grows), kept across calls. */
let solverViews: { buffer: ArrayBuffer | null; heap: Float64Array } = { buffer: null, heap: new Float64Array(0) };

/**
 * cholesky.ts's choleskySolve (its JavaScript twin) in one module call (wasm/choleskyBodies.ts
 * choleskySolveBody): the pivot choice, each column (eight entries' chains of subtractions per pass),
 * its divisions and the Schur diagonal, the transpose and both substitutions, each entry with the same
 * operations in the same order. JavaScript only finds the largest diagonal (the singularity floor, and
 * the early answers), copies A and b in and x out.
 */
function simdCholeskySolve(ex: SolverExports, matrix: Float64Array, n: number, b: Float64Array, referenceScale: number, tolerance: number): Float64Array | null {
  let largestDiagonal = referenceScale;
  for (let i = 0; i < n; i++) largestDiagonal = Math.max(largestDiagonal, matrix[i * n + i]);
  if (!(largestDiagonal > 0)) return n === 0 ? new Float64Array(0) : null;
  if (n === 0) return new Float64Array(0);
  // Layout (float64 slots): A, b, perm (i32, two per slot), schur (n + 1 used), Lt and L (n rows of
  // `stride`), y (stride), x. Nothing needs clearing: the kernel writes every entry before reading it
  // (a pair run over slot n reads whatever is there into slots nothing reads).
  const stride = n + 2;
  const bAt = n * n;
  const permAt = bAt + n;
  const schurAt = permAt + ((n + 1) >> 1);
  const ltAt = schurAt + stride;
  const lAt = ltAt + n * stride;
  const yAt = lAt + n * stride;
  const xAt = yAt + stride;
  const needed = (xAt + n) * 8;
  const memory = ex.memory;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  if (solverViews.buffer !== memory.buffer) solverViews = { buffer: memory.buffer, heap: new Float64Array(memory.buffer) };
  const heap = solverViews.heap;
  heap.set(matrix.length === n * n ? matrix : matrix.subarray(0, n * n), 0);
  heap.set(b.length === n ? b : b.subarray(0, n), bAt);
  if (ex.choleskySolve(0, n, bAt * 8, tolerance * largestDiagonal, permAt * 8, schurAt * 8, ltAt * 8, lAt * 8, yAt * 8, xAt * 8) === 0) return null;
  return heap.slice(xAt, xAt + n);
}

/** The kernels, or null where this runtime has no WebAssembly SIMD. */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const module = new WebAssembly.Module(moduleBytes());
    const instance = new WebAssembly.Instance(module);
    const solver = new WebAssembly.Instance(module).exports as unknown as SolverExports;
    const exports = instance.exports as { memory: WebAssembly.Memory; gram: SymmetricPass; distances: SymmetricPass; subtractRows: SubtractRows; products4: Products4; addRows4: AddRows4; addRowsOf: AddRowsOf; appendRow: AppendRow; pathEvents: PathEvents; refinedSolve: RefinedSolve; gramRefinedSolve: GramRefinedSolve; pathBoundary: PathBoundary; pathUpdate: PathUpdate; lassoStep: LassoStep; forwardU: Substitute; backwardL: Substitute; residual: Residual };
    kernels = {
      choleskySolve: (matrix, n, b, referenceScale = 0, tolerance = SINGULAR_TOLERANCE) => simdCholeskySolve(solver, matrix, n, b, referenceScale, tolerance),
      rowSums: (matrix, k, vectors, matrices = 0, lists = 0) => simdRowSums(exports.memory, exports, matrix, k, vectors, matrices, lists),
      gramOfRows: (rows, k, dim) => symmetricPass(exports.memory, exports.gram, (heap) => heap.set(rows, 0), k, dim),
      gramOfDifferences: (target, prototypes, products) => symmetricPass(exports.memory, exports.gram, (heap) => {
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
      squaredDistances: (rows, k, dim) => symmetricPass(exports.memory, exports.distances, (heap) => heap.set(rows, 0), k, dim),
    };
  } catch {
    kernels = null;
  }
  return kernels;
}

/**
 * The symmetric matrix of k rows' dot products (or squared distances), by the module's whole pass
 * (wasm/rowBodies.ts symmetricPassBody): rows i, i+1 against columns j … j+3 (j from i up), eight
 * entries per block; a block that runs past k pairs with a zero row, whose results are dropped. (i+1, i)
 * is kept from (row i, row i+1) (the same terms in the same order as (row i+1, row i): x·y = y·x and
 * (x − y)² = (y − x)² exactly), so the matrix is exactly symmetric.
 */
function symmetricPass(memory: WebAssembly.Memory, pass: SymmetricPass, writeRows: (heap: Float64Array) => void, k: number, dim: number, scratch = 0): Float64Array {
  // Layout: the rows, one zero row, eight results, `scratch` slots for writeRows, then the matrix.
  const zeroRow = k * dim;
  const outAt = (k + 1) * dim;
  const matrixAt = outAt + 8 + scratch;
  const needed = (matrixAt + k * k) * 8;
  memoryClaims++;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
  const heap = new Float64Array(memory.buffer);
  writeRows(heap);
  heap.fill(0, zeroRow, zeroRow + dim);
  pass(k, dim, matrixAt * 8, outAt * 8);
  return heap.slice(matrixAt, matrixAt + k * k);
}
