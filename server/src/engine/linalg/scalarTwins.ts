/**
 * One switch for every WebAssembly kernel set (the weights step's `denseKernels()`, the svd merge's
 * `mixKernels()`): inside `withScalarTwins` each answers as a runtime without WebAssembly SIMD would, with
 * its JavaScript twin — the same sums in the same order. The tests that compare bits run the same code
 * both ways through it.
 */
let scalarOnly = false;

/** True inside withScalarTwins: the kernel entries give their JavaScript twins. */
export function scalarTwinsOnly(): boolean {
  return scalarOnly;
}

/** Runs `run` with the JavaScript twins instead of the WebAssembly kernels (nested calls keep the mode). */
export function withScalarTwins<T>(run: () => T): T {
  const before = scalarOnly;
  scalarOnly = true;
  try {
    return run();
  } finally {
    scalarOnly = before;
  }
}
