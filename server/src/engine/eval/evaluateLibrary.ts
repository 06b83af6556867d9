/**
 * `eval --leave-one-out` on a library URI: opens the library, runs the protocol with the Gram products
 * on ONNX Runtime (double Gemm; JS when ORT cannot load or the products are tiny), closes everything.
 * A row's adapter path is data: with `confine`, one outside the workspace and the read roots is
 * refused by name before any adapter is read, as compose refuses it.
 */
import { openLibrary } from '../library/library';
import { jsProducts, ortProducts, type PanelProducts } from '../lora/panelProducts';
import { createMatMulEngine } from '../onnx/matmul';
import { leaveOneOut, type LeaveOneOutOptions, type LeaveOneOutResult } from './leaveOneOut';
import { ComposerError } from '../errors';
import { adapterEscapes, LIBRARY_OUTSIDE_HINT } from '../recipe/workspaceConfinement';

export interface LibraryEvaluation extends LeaveOneOutResult {
  library: { uri: string; version: number; size: number };
  warnings: string[];
}

export interface EvaluateLibraryOptions extends Omit<LeaveOneOutOptions, 'products'> {
  /** 'onnx' (default: ONNX Runtime for the large products) or 'js'. */
  products?: 'onnx' | 'js';
  /** Read adapters only inside this workspace (or a read root). */
  confine?: { workspaceRoot: string; readRoots?: readonly string[] };
}

export async function evaluateLibrary(libraryUri: string, options: EvaluateLibraryOptions = {}): Promise<LibraryEvaluation> {
  const library = await openLibrary(libraryUri);
  const warnings: string[] = [];
  let dispose: (() => Promise<void>) | undefined;
  try {
    const [records, version] = await Promise.all([library.list(), library.version()]);
    const escape = options.confine ? adapterEscapes(records, options.confine.workspaceRoot, options.confine.readRoots)[0] : undefined;
    if (escape) throw new ComposerError('library', escape.message, { file: libraryUri }, LIBRARY_OUTSIDE_HINT);
    let products: PanelProducts = jsProducts;
    if (options.products !== 'js') {
      const engine = await createMatMulEngine({ provider: 'cpu' });
      if (engine.provider === 'js') {
        if (engine.fallback) warnings.push(engine.fallback);
        await engine.dispose();
      } else {
        products = ortProducts(engine);
        dispose = () => engine.dispose();
      }
    }
    const result = await leaveOneOut(records, { ...options, products });
    return { library: { uri: libraryUri, version, size: records.length }, ...result, warnings };
  } finally {
    library.close();
    await dispose?.();
  }
}
