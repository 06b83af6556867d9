/**
 * What the dense kernels promise (types only): the SIMD kernels (simdKernels.ts) and their scalar
 * twins (scalarKernels.ts) both implement SimdKernels, and callers (weights/) see only these types
 * through simdDot.ts. Kept in a file of its own so the two implementations and the entry point share
 * it without importing one another.
 */
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

/**
 * The constrained λ-path's arrays for RowSums.pathEvents (lambdaPath.ts followDown): lists and signs
 * are `lists`, the others `vectors` of the same workspace.
 */
export interface PathEventsInput {
  active: Int32Array;
  count: number;
  inactive: Int32Array;
  sign: Int32Array;
  justLeft: Int32Array;
  w: Float64Array;
  direction: Float64Array;
  g: Float64Array;
  gDirection: Float64Array;
  leaveAt: Float64Array;
  joinAt: Float64Array;
  joinSign: Int32Array;
  /** Read by pathUpdate only. */
  joined: Int32Array;
  /** dν/dλ is written at dNu[0]. */
  dNu: Float64Array;
  nu: number;
  lambda: number;
  tolerance: number;
}

/** The constrained λ-path's arrays for RowSums.pathBoundary: lists, signs and marks are `lists`, the others `vectors`. */
export interface PathBoundaryInput {
  active: Int32Array;
  count: number;
  inactive: Int32Array;
  sign: Int32Array;
  justLeft: Int32Array;
  joined: Int32Array;
  w: Float64Array;
  g: Float64Array;
  /** ν is written at out[0], the boundary tolerance at toleranceOut[0]. */
  out: Float64Array;
  toleranceOut: Float64Array;
  lambda: number;
  /** The tolerance is base + slope·‖w‖₁. */
  base: number;
  slope: number;
}

/**
 * The lasso λ-path's arrays for RowSums.lassoStep (lassoPath.ts computeLassoPath): `marks`, `moving`
 * and `now` are `lists`, the others `vectors` of the same workspace.
 */
export interface LassoStepInput {
  w: Float64Array;
  direction: Float64Array;
  /** b − G·w before the step. */
  correlation: Float64Array;
  /** Written: G·d. */
  gd: Float64Array;
  /** Written: each candidate's leave step (∞ when it does not leave). */
  leaveAt: Float64Array;
  /** Written: 1 in the support, 2 on the boundary (both bits may be set). */
  marks: Int32Array;
  /** Written: the candidates with d ≠ 0, ascending. */
  moving: Int32Array;
  /** Written: the positive weights after the step, ascending (the count is returned). */
  now: Int32Array;
  /** Written: b[now[a]] − the next λ. */
  rhs: Float64Array;
  b: Float64Array;
  /** The next λ is written at out[0]. */
  out: Float64Array;
  lambda: number;
  /** A weight-0 candidate whose correlation is ≥ this is on the boundary (λ − the tie tolerance). */
  boundaryLevel: number;
  /** Steps within this of each other tie, and a λ within it of 0 is 0 (1e-11·λ*). */
  slack: number;
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
   * `lists`: index lists of length k in the same memory (see RowSums.lists).
   */
  rowSums(matrix: Float64Array, k: number, vectors: number, matrices?: number, lists?: number): RowSums;
  /**
   * cholesky.ts's choleskySolve (pivoted Cholesky, then substitution), bit for bit: one module call
   * (pivots, columns, divisions, substitutions), each entry of a new factor column the same chain of
   * subtractions, two rows per instruction. It runs in a second instance of the module (its own
   * memory), so it never disturbs a RowSums workspace.
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
  /**
   * k×k scratch matrices (row-major): a Cholesky factor, its transpose, a system. Their contents at
   * first are unspecified (the SIMD ones keep the module memory's old values): write each entry
   * before reading it.
   */
  readonly matrices: Float64Array[];
  /**
   * Int32 lists of length k (contents unspecified at first). addRows given one of them as `rows` and one
   * of `vectors` as `v` builds its group list inside the module (no JavaScript loop per row).
   */
  readonly lists: Int32Array[];
  /**
   * out += scale·M·v for v zero off the first `count` entries of `rows` (out one of `vectors`): the
   * sums of dense.ts's addRows (rows with v = 0 skipped, four rows per pass, left to right), bit for bit.
   */
  addRows(out: Float64Array, rows: ArrayLike<number>, count: number, v: ArrayLike<number>, scale?: number): void;
  /**
   * A kept Cholesky factor (row stride k, with its transpose) of the m members' system gains the row of
   * candidate j; false, with the factor untouched, when the new pivot² is not above `dependentBelow`.
   * With reference r ≥ 0 the system is the direction system's M_ij = A_ij − A_ir − A_rj + A_rr
   * (pathDirection.ts; written into `system`, row and column m, as the column is formed), with r < 0 it
   * is A itself (incrementalCholesky.ts). As cholesky.ts's appendBesideTranspose: l = L⁻¹·column by the
   * forward substitution, pivot² = M_jj − Σ l_p², bit for bit. `members` is one of `lists`, `l` one of
   * `vectors` (scratch: it holds l on return).
   */
  appendRow(members: Int32Array, m: number, reference: number, j: number, factor: Float64Array, transposed: Float64Array, system: Float64Array | null, l: Float64Array, dependentBelow: number): boolean;
  /**
   * The constrained λ-path's ν (the mean over the active of g_i + λ·s_i) and its boundary: every inactive
   * candidate not just left with |ν − g_j| ≥ λ − tolerance is signed like ν − g_j and marked joined.
   * True when none joined. Bit for bit the JavaScript loops (scalarKernels.ts pathBoundary).
   */
  pathBoundary(input: PathBoundaryInput): boolean;
  /**
   * The constrained λ-path's step by `moved` to its next breakpoint, after pathEvents on the same input:
   * justLeft and joined cleared; each active weight moves (w −= moved·d) and leaves (w = 0, sign 0,
   * justLeft) when its leave step is ≤ tie or it crossed 0; each inactive candidate whose join step is
   * ≤ tie joins with its sign (joined). Bit for bit the JavaScript loops (scalarKernels.ts pathUpdate).
   */
  pathUpdate(input: PathEventsInput, moved: number, tie: number): void;
  /**
   * The constrained λ-path's search for its next event, as lambdaPath.ts followDown describes it: dν/dλ
   * (into dNu[0]), each active candidate's leave step and each inactive one's join step and sign (into
   * leaveAt, joinAt, joinSign), and δ, their minimum with λ, returned: bit for bit the JavaScript loops
   * (scalarKernels.ts pathEvents).
   */
  pathEvents(input: PathEventsInput): number;
  /**
   * The lasso λ-path's breakpoint after its direction (lassoPath.ts): the support and the boundary
   * marks, G·d over the moving candidates, δ to the next event (a free weight reaching 0, an outside
   * correlation reaching λ), the step to it and the support after it with its right-hand side b − λ;
   * returns that support's size. Bit for bit the JavaScript loops (scalarKernels.ts lassoStep).
   */
  lassoStep(input: LassoStepInput): number;
  /**
   * z ← (L·Lᵀ)⁻¹·z, then one step of iterative refinement against A: correction = rhs − A·z (residual),
   * correction ← (L·Lᵀ)⁻¹·correction, z += correction (entry by entry): substitute, residual,
   * substitute and the sum in one call, bit for bit.
   */
  refinedSolve(l: Float64Array, u: Float64Array, a: Float64Array, m: number, z: Float64Array, rhs: Float64Array, correction: Float64Array): void;
  /**
   * The kept Gram factor's solve (incrementalCholesky.ts) from rhs in factor order: x = (L·Lᵀ)⁻¹·rhs, then
   * the refinement's residual as a sum of the members' rows of the matrix (byCandidate[members[q]] = x[q],
   * full[members[q]] = rhs[q], full −= M·byCandidate by addRows with scale −1) and r = (L·Lᵀ)⁻¹ times
   * full read in factor order: substitute, addRows, substitute and the loops between in one call, bit
   * for bit. `members` is one of `lists`, the vectors of `vectors`.
   */
  gramRefinedSolve(l: Float64Array, u: Float64Array, members: Int32Array, m: number, rhs: Float64Array, x: Float64Array, byCandidate: Float64Array, full: Float64Array, r: Float64Array): void;
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
