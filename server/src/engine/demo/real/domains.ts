/**
 * The real-data demo's domains (the paper's "sites"): deterministic shifts of the digit images that a
 * model trained on upright, clean digits handles badly — rotations, scale, stroke thickness, contrast,
 * inversion, blur, noise, translation and pairs of them. Each is applied at 28×28, then the image is
 * averaged down to 14×14 (196 features in [0, 1]) — the model's input.
 *
 * Inversion (1 − x) is left out on purpose: undoing it needs ΔW ≈ −2W on the first layer, which no
 * rank-4 LoRA can learn (its own adapter reached 13 % accuracy), so it has no meaningful upper bound.
 *
 * `between`: when held out, the domain lies between library domains (an angle between two library
 * angles, or a pair of two library shifts); the rest lie outside what the library spans.
 */
import { SeededRandom } from '../../random';

export const SIDE = 28;
export const FEATURE_SIDE = 14;
export const FEATURES = FEATURE_SIDE * FEATURE_SIDE;

export type Shift =
  | { op: 'rotate'; degrees: number }
  | { op: 'scale'; factor: number }
  | { op: 'translate'; dx: number; dy: number }
  | { op: 'dilate' }
  | { op: 'erode' }
  | { op: 'invert' }
  | { op: 'contrast'; gain: number; offset: number }
  | { op: 'blur' }
  | { op: 'noise'; sigma: number };

export interface Domain {
  name: string;
  shifts: Shift[];
  kind: 'between' | 'outside';
  description: string;
}

export const SOURCE_DOMAIN = 'source';

export const DOMAINS: readonly Domain[] = [
  { name: 'rot15', shifts: [{ op: 'rotate', degrees: 15 }], kind: 'outside', description: 'rotated 15° (near the source)' },
  { name: 'rot30', shifts: [{ op: 'rotate', degrees: 30 }], kind: 'between', description: 'rotated 30° (between rot15 and rot45)' },
  { name: 'rot45', shifts: [{ op: 'rotate', degrees: 45 }], kind: 'between', description: 'rotated 45° (between rot30 and rot60)' },
  { name: 'rot60', shifts: [{ op: 'rotate', degrees: 60 }], kind: 'between', description: 'rotated 60° (between rot45 and rot75)' },
  { name: 'rotm30', shifts: [{ op: 'rotate', degrees: -30 }], kind: 'outside', description: 'rotated −30°' },
  { name: 'shrink', shifts: [{ op: 'scale', factor: 0.7 }], kind: 'outside', description: 'scaled to 70 %' },
  { name: 'zoom', shifts: [{ op: 'scale', factor: 1.3 }], kind: 'outside', description: 'scaled to 130 %' },
  { name: 'thick', shifts: [{ op: 'dilate' }], kind: 'outside', description: 'strokes dilated (3×3)' },
  { name: 'thin', shifts: [{ op: 'erode' }], kind: 'outside', description: 'strokes eroded (cross)' },
  { name: 'rot75', shifts: [{ op: 'rotate', degrees: 75 }], kind: 'outside', description: 'rotated 75° (beyond every library angle)' },
  { name: 'contrast', shifts: [{ op: 'contrast', gain: 0.35, offset: 0.4 }], kind: 'outside', description: 'low contrast on a grey background' },
  { name: 'blur', shifts: [{ op: 'blur' }], kind: 'outside', description: 'Gaussian blur (near the source)' },
  { name: 'noise', shifts: [{ op: 'noise', sigma: 0.35 }], kind: 'outside', description: 'Gaussian pixel noise σ=0.35 (near the source)' },
  { name: 'shift', shifts: [{ op: 'translate', dx: 4, dy: 3 }], kind: 'outside', description: 'translated 4 px right, 3 px down' },
  { name: 'rot30-thick', shifts: [{ op: 'rotate', degrees: 30 }, { op: 'dilate' }], kind: 'between', description: 'rotated 30° and dilated (pair of rot30, thick)' },
  { name: 'shrink-shift', shifts: [{ op: 'scale', factor: 0.7 }, { op: 'translate', dx: 4, dy: 3 }], kind: 'between', description: 'scaled to 70 % and translated (pair of shrink, shift)' },
];

/** 28×28 grey levels (0..1) → the shifted 28×28 image. `noiseSeed` makes noise per sample deterministic. */
export function applyShifts(image: Float64Array, shifts: readonly Shift[], noiseSeed: number): Float64Array {
  let img = image;
  for (const s of shifts) {
    switch (s.op) {
      case 'rotate': {
        const t = (s.degrees * Math.PI) / 180;
        const c = Math.cos(t), n = Math.sin(t);
        img = warp(img, (x, y) => [c * x + n * y, -n * x + c * y]);
        break;
      }
      case 'scale':
        img = warp(img, (x, y) => [x / s.factor, y / s.factor]);
        break;
      case 'translate':
        img = warp(img, (x, y) => [x - s.dx, y - s.dy]);
        break;
      case 'dilate':
        img = morph(img, [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 0], [0, 1], [1, -1], [1, 0], [1, 1]], Math.max);
        break;
      case 'erode':
        img = morph(img, [[-1, 0], [0, -1], [0, 0], [0, 1], [1, 0]], Math.min);
        break;
      case 'invert':
        img = img.map((v) => 1 - v);
        break;
      case 'contrast':
        img = img.map((v) => s.gain * v + s.offset);
        break;
      case 'blur':
        img = convolve(img, [0.25, 0.5, 0.25]);
        img = convolve(img, [0.25, 0.5, 0.25]);
        break;
      case 'noise': {
        const rnd = new SeededRandom(noiseSeed);
        img = img.map((v) => Math.min(1, Math.max(0, v + s.sigma * rnd.gaussian())));
        break;
      }
    }
  }
  return img;
}

/** 28×28 → 14×14 by 2×2 means, as float32 features. */
export function downsample(image: Float64Array, into: Float32Array, offset: number): void {
  for (let r = 0; r < FEATURE_SIDE; r++) {
    for (let c = 0; c < FEATURE_SIDE; c++) {
      const i = 2 * r * SIDE + 2 * c;
      into[offset + r * FEATURE_SIDE + c] = (image[i] + image[i + 1] + image[i + SIDE] + image[i + SIDE + 1]) / 4;
    }
  }
}

/** Inverse mapping about the centre, bilinear, zero outside. */
function warp(img: Float64Array, inverse: (x: number, y: number) => [number, number]): Float64Array {
  const out = new Float64Array(SIDE * SIDE);
  const mid = (SIDE - 1) / 2;
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const [sx, sy] = inverse(c - mid, r - mid);
      out[r * SIDE + c] = bilinear(img, sx + mid, sy + mid);
    }
  }
  return out;
}

function bilinear(img: Float64Array, x: number, y: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const at = (xx: number, yy: number) => (xx >= 0 && xx < SIDE && yy >= 0 && yy < SIDE ? img[yy * SIDE + xx] : 0);
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}

function morph(img: Float64Array, offsets: number[][], pick: (...v: number[]) => number): Float64Array {
  const out = new Float64Array(SIDE * SIDE);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const values = offsets.map(([dr, dc]) => {
        const rr = r + dr, cc = c + dc;
        return rr >= 0 && rr < SIDE && cc >= 0 && cc < SIDE ? img[rr * SIDE + cc] : 0;
      });
      out[r * SIDE + c] = pick(...values);
    }
  }
  return out;
}

/** Separable convolution with a symmetric 1-D kernel (zero padding). */
function convolve(img: Float64Array, kernel: number[]): Float64Array {
  const h = (kernel.length - 1) / 2;
  const tmp = new Float64Array(SIDE * SIDE);
  const out = new Float64Array(SIDE * SIDE);
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) {
    let s = 0;
    for (let k = -h; k <= h; k++) if (c + k >= 0 && c + k < SIDE) s += kernel[k + h] * img[r * SIDE + c + k];
    tmp[r * SIDE + c] = s;
  }
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) {
    let s = 0;
    for (let k = -h; k <= h; k++) if (r + k >= 0 && r + k < SIDE) s += kernel[k + h] * tmp[(r + k) * SIDE + c];
    out[r * SIDE + c] = s;
  }
  return out;
}
