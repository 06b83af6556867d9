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
  /**
   * k×k scratch matrices (row-major): a Cholesky factor, its transpose, a system. Their contents at
   * first are unspecified (the SIMD ones keep the module memory's old values): write each entry
   * before reading it.
   */
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
