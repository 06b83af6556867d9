/**
 * The dense kernels' WebAssembly module: its types, functions, memory and export names, assembled
 * from the bodies in rowBodies.ts, triangularBodies.ts, pathBodies.ts, lassoBodies.ts and choleskyBodies.ts, and the JavaScript signature of each
 * export. It exists so the one place that says which body is which export is small and apart from the
 * code that calls them (linalg/simdKernels.ts).
 */
import { F64, I32, section, text, vector } from './assembler';
import { addRowsBody, addRowsOfBody, dotBody, productsBody, subtractRowsBody, symmetricPassBody } from './rowBodies';
import { appendRowBody, backwardBody, forwardBody, gramRefinedSolveBody, refinedSolveBody, residualBody } from './triangularBodies';
import { pathBoundaryBody, pathEventsBody, pathUpdateBody } from './pathBodies';
import { lassoStepBody } from './lassoBodies';
import { choleskySolveBody } from './choleskyBodies';

export function moduleBytes(): Uint8Array<ArrayBuffer> {
  const signature = (rows: number) => [0x60, ...vector(Array.from({ length: rows + 6 }, () => [I32])), ...vector([])];
  const fiveAddresses = [0x60, ...vector(Array.from({ length: 5 }, () => [I32])), ...vector([])];
  const fourAddresses = [0x60, ...vector(Array.from({ length: 4 }, () => [I32])), ...vector([])];
  const sixAddresses = [0x60, ...vector(Array.from({ length: 6 }, () => [I32])), ...vector([])];
  const sevenAddresses = [0x60, ...vector(Array.from({ length: 7 }, () => [I32])), ...vector([])];
  const addRowsOf = [0x60, ...vector([[I32], [I32], [I32], [I32], [F64], [I32], [I32], [I32], [I32], [I32]]), ...vector([])];
  const appendRow = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32], [F64]]), ...vector([[I32]])];
  const pathEvents = [0x60, ...vector([...Array.from({ length: 14 }, () => [I32]), [F64], [F64], [F64]]), ...vector([[F64]])];
  const eightAddresses = [0x60, ...vector(Array.from({ length: 8 }, () => [I32])), ...vector([])];
  const fourteenAddresses = [0x60, ...vector(Array.from({ length: 14 }, () => [I32])), ...vector([])];
  const pathBoundary = [0x60, ...vector([...Array.from({ length: 11 }, () => [I32]), [F64], [F64], [F64]]), ...vector([[I32]])];
  const pathUpdate = [0x60, ...vector([...Array.from({ length: 12 }, () => [I32]), [F64], [F64]]), ...vector([])];
  const lassoStep = [0x60, ...vector([...Array.from({ length: 17 }, () => [I32]), [F64], [F64], [F64]]), ...vector([[I32]])];
  const choleskySolve = [0x60, ...vector([[I32], [I32], [I32], [F64], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vector([[I32]])];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([signature(1), signature(2), fiveAddresses, fourAddresses, sixAddresses, sevenAddresses, addRowsOf, appendRow, pathEvents, eightAddresses, fourteenAddresses, pathBoundary, pathUpdate, lassoStep, choleskySolve])),
    ...section(3, vector([[0], [1], [0], [1], [2], [3], [3], [3], [4], [5], [3], [3], [6], [7], [8], [9], [10], [11], [12], [4], [4], [13], [14]])),
    ...section(5, vector([[0x00, 1]])),
    ...section(7, vector([[...text('dot1x4'), 0x00, 0], [...text('dot2x4'), 0x00, 1], [...text('dist1x4'), 0x00, 2], [...text('dist2x4'), 0x00, 3], [...text('addRows4'), 0x00, 4], [...text('subtractRows'), 0x00, 5], [...text('forwardU'), 0x00, 6], [...text('backwardL'), 0x00, 7], [...text('residual'), 0x00, 8], [...text('products4'), 0x00, 9], [...text('gram'), 0x00, 10], [...text('distances'), 0x00, 11], [...text('addRowsOf'), 0x00, 12], [...text('appendRow'), 0x00, 13], [...text('pathEvents'), 0x00, 14], [...text('refinedSolve'), 0x00, 15], [...text('gramRefinedSolve'), 0x00, 16], [...text('pathBoundary'), 0x00, 17], [...text('pathUpdate'), 0x00, 18], [...text('dot2x2'), 0x00, 19], [...text('dist2x2'), 0x00, 20], [...text('lassoStep'), 0x00, 21], [...text('choleskySolve'), 0x00, 22], [...text('memory'), 0x02, 0]])),
    ...section(10, vector([dotBody(1, false), dotBody(2, false), dotBody(1, true), dotBody(2, true), addRowsBody(), subtractRowsBody(), forwardBody(), backwardBody(), residualBody(), productsBody(), symmetricPassBody(1, 0, 19), symmetricPassBody(3, 2, 20), addRowsOfBody(4), appendRowBody(6), pathEventsBody(), refinedSolveBody(6, 7, 8), gramRefinedSolveBody(6, 7, 12), pathBoundaryBody(), pathUpdateBody(), dotBody(2, false, 2), dotBody(2, true, 2), lassoStepBody(12), choleskySolveBody(6, 7)])),
  ];
  return Uint8Array.from(bytes);
}

export type OneByFour = (x: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
export type TwoByFour = (x0: number, x1: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
export type Products4 = (target: number, x0: number, x1: number, x2: number, x3: number, n: number, out: number) => void;
/** A whole symmetric pass (rows at address 0, a zero row after them): the k×k matrix at `out`. */
export type SymmetricPass = (k: number, dim: number, out: number, results: number) => void;
export type SubtractRows = (target: number, rows: number, k: number, dim: number) => void;
/** addRows4 with its group list built in the module from candidate indices and values by candidate. */
export type AddRowsOf = (out: number, rows: number, count: number, v: number, scale: number, rowBytes: number, list: number, values: number, zero: number, pairs: number) => void;
/** A kept factor's new row from the matrix at address 0 (wasm/triangularBodies.ts appendRowBody): 1, or 0 when refused. */
export type AppendRow = (k: number, members: number, m: number, reference: number, j: number, factor: number, transposed: number, system: number, l: number, dependentBelow: number) => number;
/** The constrained λ-path's next-event search (wasm/pathBodies.ts pathEventsBody): δ. */
export type PathEvents = (active: number, count: number, inactive: number, k: number, sign: number, justLeft: number, w: number, direction: number, g: number, gDirection: number, leaveAt: number, joinAt: number, joinSign: number, dNuOut: number, nu: number, lambda: number, tolerance: number) => number;
/** The direction system's solve with one step of refinement (wasm/triangularBodies.ts refinedSolveBody). */
export type RefinedSolve = (l: number, u: number, a: number, stride: number, m: number, z: number, rhs: number, correction: number) => void;
/** The lasso's kept-factor solve with its refinement residual (wasm/triangularBodies.ts gramRefinedSolveBody). */
export type GramRefinedSolve = (l: number, u: number, stride: number, m: number, members: number, rhs: number, x: number, byCandidate: number, full: number, r: number, list: number, values: number, zero: number, pairs: number) => void;
/** The constrained λ-path's ν and boundary (wasm/pathBodies.ts pathBoundaryBody): 1 when none joined. */
export type PathBoundary = (active: number, count: number, inactive: number, k: number, sign: number, justLeft: number, joined: number, w: number, g: number, out: number, toleranceOut: number, lambda: number, base: number, slope: number) => number;
/** The constrained λ-path's step to its next breakpoint (wasm/pathBodies.ts pathUpdateBody). */
export type PathUpdate = (active: number, count: number, inactive: number, k: number, w: number, direction: number, sign: number, justLeft: number, joined: number, leaveAt: number, joinAt: number, joinSign: number, moved: number, tie: number) => void;
/** The lasso λ-path's step to its next breakpoint (wasm/lassoBodies.ts lassoStepBody): the support's size after it. */
export type LassoStep = (k: number, w: number, d: number, correlation: number, gd: number, leaveAt: number, marks: number, moving: number, now: number, rhs: number, b: number, out: number, stride: number, list: number, values: number, zero: number, pairs: number, lambda: number, boundaryLevel: number, slack: number) => number;
export type AddRows4 = (out: number, rows: number, values: number, groups: number, pairs: number) => void;
export type Substitute = (factor: number, stride: number, m: number, y: number) => void;
/** The affine-hull solves' pivoted Cholesky and substitutions in one call (wasm/choleskyBodies.ts): 1, or 0 when singular. */
export type CholeskySolve = (a: number, n: number, b: number, floor: number, perm: number, schur: number, lt: number, l: number, y: number, x: number) => number;
export type Residual = (a: number, stride: number, m: number, z: number, rhs: number, out: number) => void;
