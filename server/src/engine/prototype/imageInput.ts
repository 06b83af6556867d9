/**
 * An image file (PNG, JPEG, WebP, …) as one encoder input: decoded by sharp (libvips), EXIF
 * orientation applied, converted to 3-channel sRGB (alpha dropped), resized and cropped as the
 * encoder config says, then scaled and normalised per channel into NCHW or NHWC float32.
 *
 * Resize modes:
 *   stretch                   resize to exactly height×width (aspect ratio not kept)
 *   shorter-side-center-crop  scale so the shorter side is `shorter_side` (default: just covering the
 *                             crop), then crop the center height×width. The crop offset is
 *                             floor((resized − crop) / 2). A scale of 1 skips resampling entirely.
 */
import * as path from 'node:path';
import { ComposerError } from '../errors';
import type { ImagePreprocessing } from './encoderConfig';
import { readFileSafe } from '../safeRead';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

type Sharp = typeof import('sharp');
let sharpModule: Sharp | undefined;

/** sharp is loaded on first use: a features-only workflow never needs libvips. */
export function loadSharp(): Sharp {
  if (sharpModule) return sharpModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see above), synchronously
    sharpModule = require('sharp') as Sharp;
  } catch (e) {
    throw new ComposerError('encoder', `cannot load the image decoder (sharp): ${firstLine((e as Error).message)}`, undefined,
      'reinstall with `npm install` on this platform (sharp ships prebuilt libvips for linux/macOS/windows x64 and arm64)');
  }
  return sharpModule;
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? s;
}

const KERNEL: Record<ImagePreprocessing['interpolation'], 'nearest' | 'linear' | 'cubic' | 'lanczos3'> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

/** Where the resize lands and which window is cropped, for an image of w×h. */
export function resizePlan(width: number, height: number, p: ImagePreprocessing): { resizeWidth: number; resizeHeight: number; left: number; top: number } {
  if (p.resize === 'stretch') return { resizeWidth: p.width, resizeHeight: p.height, left: 0, top: 0 };
  const scale = p.shorterSide !== undefined ? p.shorterSide / Math.min(width, height) : Math.max(p.width / width, p.height / height);
  // Never below the crop (rounding could otherwise leave it a pixel short).
  const resizeWidth = Math.max(p.width, Math.round(width * scale));
  const resizeHeight = Math.max(p.height, Math.round(height * scale));
  return { resizeWidth, resizeHeight, left: Math.floor((resizeWidth - p.width) / 2), top: Math.floor((resizeHeight - p.height) / 2) };
}

/**
 * Decodes, resizes/crops, normalises one image into `out` at `offset` (height·width·3 floats in
 * `layout`). Throws a located ComposerError for a file that cannot be decoded.
 */
export async function imageToTensor(file: string, p: ImagePreprocessing, layout: 'NCHW' | 'NHWC', out: Float32Array, offset: number): Promise<void> {
  const sharp = loadSharp();
  const pixels = await decodeForEncoder(sharp, file, p);
  const plane = p.height * p.width;
  // Model channel c reads colour `from`; mean/std are given per colour, in RGB order.
  const source = p.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const from = source[c];
    const mean = p.mean[from];
    const std = p.std[from];
    for (let i = 0; i < plane; i++) {
      const v = (pixels[i * 3 + from] * p.scale - mean) / std;
      if (layout === 'NCHW') out[offset + c * plane + i] = v;
      else out[offset + i * 3 + c] = v;
    }
  }
}

/** The cropped, resized 8-bit RGB pixels (height·width·3, interleaved). */
export async function decodeForEncoder(sharp: Sharp, file: string, p: ImagePreprocessing): Promise<Uint8Array> {
  const fail = (e: unknown): never => {
    throw new ComposerError('io', `cannot decode the image ${file}: ${firstLine((e as Error).message ?? String(e))}`, { file },
      'the image samples must be PNG, JPEG, WebP, GIF, TIFF or AVIF files');
  };
  // The bytes are read here (a regular file, bounded), not by sharp from a path that may be a device.
  const bytes = readFileSafe(file, 'image', 'image sample');
  const meta = await sharp(bytes).metadata().catch(fail);
  if (!meta.width || !meta.height) fail(new Error('no image size in the header'));
  // Orientations 5–8 swap width and height once rotated.
  const swapped = (meta.orientation ?? 1) >= 5;
  const width = swapped ? meta.height : meta.width;
  const height = swapped ? meta.width : meta.height;
  const plan = resizePlan(width, height, p);
  let pipeline = sharp(bytes).rotate().toColourspace('srgb').removeAlpha();
  if (plan.resizeWidth !== width || plan.resizeHeight !== height) {
    pipeline = pipeline.resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', kernel: KERNEL[p.interpolation] });
  }
  if (plan.resizeWidth !== p.width || plan.resizeHeight !== p.height) {
    pipeline = pipeline.extract({ left: plan.left, top: plan.top, width: p.width, height: p.height });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true }).catch(fail);
  if (info.width !== p.width || info.height !== p.height || info.channels !== 3) {
    fail(new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${p.width}×${p.height}×3`));
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}
