/**
 * The dense kernels' WebAssembly module: its types, functions, memory and export names, assembled
 * from the bodies in rowBodies.ts and triangularBodies.ts, and the JavaScript signature of each
 * export. It exists so the one place that says which body is which export is small and apart from the
 * code that calls them (linalg/simdKernels.ts).
 */
import { I32, section, text, vector } from './assembler';
import { addRowsBody, dotBody, productsBody, subtractRowsBody } from './rowBodies';
import { backwardBody, forwardBody, residualBody } from './triangularBodies';

export function moduleBytes(): Uint8Array<ArrayBuffer> {
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

export type OneByFour = (x: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
export type TwoByFour = (x0: number, x1: number, y0: number, y1: number, y2: number, y3: number, n: number, out: number) => void;
export type Products4 = (target: number, x0: number, x1: number, x2: number, x3: number, n: number, out: number) => void;
export type SubtractRows = (target: number, rows: number, k: number, dim: number) => void;
export type AddRows4 = (out: number, rows: number, values: number, groups: number, pairs: number) => void;
export type Substitute = (factor: number, stride: number, m: number, y: number) => void;
export type Residual = (a: number, stride: number, m: number, z: number, rhs: number, out: number) => void;
