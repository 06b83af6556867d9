/**
 * The weights step's dense kernels in WebAssembly SIMD (f64x2), and the entry callers import them
 * from. The module is assembled from its instructions in wasm/ (about 4 KB; no binary blob, no
 * toolchain):
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
import { scalarKernels } from './scalarKernels';
import { simdKernels } from './simdKernels';
import { scalarTwinsOnly } from './scalarTwins';
import type { SimdKernels } from './kernelContract';

// The public entry: callers import the kernels and their types from here. The module's assembler and
// bodies are in wasm/, the calls into it in simdKernels.ts, the JavaScript twins in scalarKernels.ts.
export type { LassoStepInput, RowSums, SimdKernels, TargetProducts } from './kernelContract';
export { scalarKernels, targetProducts } from './scalarKernels';
export { simdKernels } from './simdKernels';

/** The kernels callers use: SIMD where the runtime has it, else (or inside withScalarTwins) the scalar twin (the same bits). */
export function denseKernels(): SimdKernels {
  return scalarTwinsOnly() ? scalarKernels : simdKernels() ?? scalarKernels;
}
