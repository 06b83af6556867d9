/**
 * What an encoder is and what a prototype computation returns, apart from the implementations
 * (encoder.ts opens .onnx files, configuredEncoder.ts wraps encoder.json, sampleSources.ts streams
 * image/text/npy samples), so that none of them imports another to learn a type.
 */
import type { ExecutionProvider } from '../onnx/session';
import type { EncoderConfig, EncoderInputKind } from './encoderConfig';

export interface Encoder {
  /** The .onnx file, when opened from one. */
  readonly file?: string;
  readonly inputName: string;
  readonly outputName: string;
  /** Input width d_in (last input dimension). */
  readonly inDim: number;
  readonly provider: ExecutionProvider;
  readonly fallback?: string;
  /** E(x) for n rows of d_in values: n rows of D values. */
  encodeBatch(rows: Float32Array, n: number): Promise<Float32Array>;
  /** D, from the output metadata or by running the encoder once on zeros. */
  outputDim(): Promise<number>;
  dispose(): Promise<void>;
  /** What one sample is: 'features' rows (the default), preprocessed 'image' tensors, or 'text'. */
  readonly inputKind?: EncoderInputKind;
  /** The encoder.json the encoder was opened with (absent: [batch, d_in] float rows). */
  readonly config?: EncoderConfig;
  /** n texts → n rows of D values (text encoders only). */
  encodeTexts?(texts: string[]): Promise<Float32Array>;
}

export interface PrototypeResult {
  /** The mean, float64. */
  prototype: Float64Array;
  /** Number of samples (rows) averaged. */
  count: number;
  dim: number;
}

export interface PrototypeProgress {
  done: number;
  total: number;
  file: string;
}

export interface StreamOptions {
  /** Rows per encoder call / per read (default 64). */
  batchSize?: number;
  onProgress?: (p: PrototypeProgress) => void;
  signal?: AbortSignal;
}
