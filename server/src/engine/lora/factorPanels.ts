/**
 * The shape of one module's concatenated LoRA factors, shared by the products (panelProducts.ts)
 * and the ONNX graphs that compute them (panelGraphs.ts); a file of its own so neither imports the other.
 */
export type PanelArray = Float32Array | Float64Array;

/** One module's factors, concatenated over the contributions, unscaled; the coefficients carry wᵢ·sᵢ. */
export interface FactorPanels {
  /** Rows of ΔW (out features). */
  m: number;
  /** Columns of ΔW (in features). */
  n: number;
  /** A [R, n], row-major: the contributions' A stacked. */
  a: PanelArray;
  /** B [m, R], row-major: the contributions' B side by side; with `bTransposed`, Bᵀ [R, m] (their B stacked as rows). */
  b: PanelArray;
  /**
   * `b` holds Bᵀ [R, m]: both panels are then R rows, so each Gram is a product of contiguous row
   * blocks (the svd path reads them so; cat and the entry-wise methods read B as it is stored).
   */
  bTransposed?: boolean;
  /** c per inner direction [R]. */
  coefficients: Float64Array;
}

/** Precision of the output products: float32 when the output dtype is far coarser (bf16, f16). */
export type ProductPrecision = 'f32' | 'f64';
