/**
 * The target prototype of a recipe (features, prototype, samples or text), cached: encoder sessions
 * per (encoder, provider), prototypes per content fingerprint in the process, and across processes a
 * content-addressed disk cache keyed by the sha256 of the encoder, its config and every sample file.
 */
import * as fs from 'node:fs';
import { isComposerError } from '../errors';
import type { Recipe } from '../recipe/parse';
import type { RecipePaths } from '../recipe/paths';
import type { RecipePath } from '../recipe/problem';
import { sampleFiles } from '../recipe/workspaceConfinement';
import { targetSource } from '../recipe/spec';
import { openEncoder, prototypeFromFeatures, prototypeFromFile, prototypeFromSamples, type Encoder, type PrototypeResult } from '../prototype/encoder';
import { prototypeCacheKey, sha256Bytes, sha256FileSync } from '../prototype/contentHash';
import { defaultPrototypeCacheDir, PrototypeCache } from '../prototype/prototypeCache';
import { fileFingerprint } from '../prototype/fileFingerprint';
import { encoderSessionKey } from '../prototype/encoderSessionKey';
import { prototypeFromText } from '../prototype/sampleSources';
import { assertRegularFile } from '../safeRead';
import type { TargetSource } from '../types';
import type { PlanOptions } from './api';
import { checkAborted, RecipeProblem, type ReportProblem } from './recipeProblem';

export class TargetPrototypes {
  private encoders = new Map<string, Promise<Encoder>>();
  private prototypes = new Map<string, PrototypeResult>();
  private fileHashes = new Map<string, string>();
  private diskCache = new PrototypeCache(defaultPrototypeCacheDir());
  private provider: string | undefined;

  /** The execution provider the encoder ran on last (cpu, cuda, …). */
  lastProvider(): string | undefined {
    return this.provider;
  }

  /** Forget the prototypes computed in this process (the disk cache is keyed by content and stays). */
  clear(): void {
    this.prototypes.clear();
  }

  async dispose(): Promise<void> {
    const encoders = [...this.encoders.values()];
    this.encoders.clear();
    for (const e of encoders) await e.then((x) => x.dispose()).catch(() => undefined);
  }

  private async encoder(file: string, provider: string | undefined): Promise<Encoder> {
    const key = `${encoderSessionKey(file)}\u0000${provider ?? 'auto'}`;
    let opening = this.encoders.get(key);
    if (!opening) {
      opening = openEncoder(file, { provider: (provider ?? 'auto') as never });
      this.encoders.set(key, opening);
      opening.catch(() => this.encoders.delete(key));
    }
    return opening;
  }

  async compute(
    recipe: Recipe,
    paths: RecipePaths,
    encoderFile: string | undefined,
    dim: number,
    options: PlanOptions,
    report?: ReportProblem,
  ): Promise<PrototypeResult & { source: TargetSource; provider?: string }> {
    const source = targetSource(recipe.spec.target);
    const where: RecipePath = ['target', source ?? 'samples'];
    const located = (e: unknown): never => {
      if (isComposerError(e) && e.code === 'cancelled') throw e;
      throw new RecipeProblem('error', isComposerError(e) ? e.code : 'target', isComposerError(e) ? e.message : String(e), where);
    };
    if (source === 'features' || source === 'prototype') {
      const file = paths.target.file!;
      if (!fs.existsSync(file)) throw new RecipeProblem('error', 'missing-file', `${source} file not found: ${file}`, where);
      const fp = fileFingerprint(file);
      const key = prototypeCacheKey({ encoderSha256: '', source, inputSha256s: [fp] });
      let result = this.prototypes.get(key);
      if (!result) {
        // async wrapper: prototypeFromFile throws synchronously, and the error must still get its location.
        const read = async () => (source === 'features' ? prototypeFromFeatures(file, { dim, signal: options.signal }) : prototypeFromFile(file, { dim }));
        result = await read().catch(located);
        this.remember(key, result);
      }
      return { ...result, source };
    }
    if (source === 'samples' || source === 'text') {
      // The same walk as the workspace check's: it never follows a link out of the workspace (that check
      // reported it already), and a newer plan stops it.
      const files = source === 'samples' ? (await sampleFiles(paths.target.globs ?? [], options, options.signal)).files : [];
      checkAborted(options.signal); // a stopped walk lists only part of the files
      if (source === 'samples' && files.length === 0) {
        throw new RecipeProblem('error', 'missing-file', `no sample files match ${(paths.target.patterns ?? []).map((p) => `\`${p}\``).join(', ')} (relative to ${paths.recipeDir})`, where);
      }
      // Before anything reads them (fingerprints, hashes, the encoder): regular files only — a link to
      // /dev/zero or a FIFO would never end.
      for (const f of files) {
        try {
          assertRegularFile(f, 'sample file');
        } catch (e) {
          located(e);
        }
      }
      if (!encoderFile) {
        throw new RecipeProblem('error', 'no-encoder', `the library has no encoder (it was created with \`--dim\`), so ${source === 'text' ? 'a text' : 'samples'} cannot be encoded`, where, 'value', {
          hint: 'give `features:` or `prototype:` instead, or create the library with `--encoder model.onnx`',
        });
      }
      // The encoder session is cached; its config (encoder.json beside it) is part of the key.
      const encoder = await this.encoder(encoderFile, options.provider).catch(located);
      this.provider = encoder.provider;
      if (encoder.fallback) report?.(new RecipeProblem('warning', 'provider-fallback', encoder.fallback, where, 'key'));
      const text = source === 'text' ? (paths.target.text ?? recipe.spec.target.text ?? '') : '';
      if (source === 'text' && encoder.inputKind !== 'text') {
        throw new RecipeProblem('error', 'text-target', `\`target.text\` needs an encoder with a text input; this library's encoder takes ${encoder.inputKind === 'image' ? 'images' : 'feature vectors'}`, where, 'value', {
          hint: 'give `samples:`, `features:` or `prototype:` instead, or use a library whose encoder.json has "kind": "text"',
        });
      }
      const key = prototypeCacheKey({
        encoderSha256: `${fileFingerprint(encoderFile)}\u0000${encoder.config?.sha256 ?? ''}`,
        source,
        inputSha256s: source === 'text' ? [sha256Bytes(text)] : files.map(fileFingerprint),
      });
      const hit = this.prototypes.get(key);
      if (hit) return { ...hit, source, provider: encoder.provider };
      // Across processes (CLI runs, CI, editor restarts) the disk cache, keyed by content, saves re-encoding.
      const contentKey = source === 'samples' ? this.contentKey(encoderFile, encoder.config?.sha256, files) : undefined;
      const stored = contentKey ? this.diskCache.get(contentKey) : undefined;
      const storedCount = contentKey && stored ? this.diskCache.count(contentKey) : undefined;
      if (stored && storedCount && stored.length === dim) {
        const result = { prototype: stored, count: storedCount, dim };
        this.remember(key, result);
        return { ...result, source, provider: encoder.provider };
      }
      const result = await (source === 'text'
        ? prototypeFromText(encoder, text)
        : prototypeFromSamples(encoder, files, {
            signal: options.signal,
            onProgress: options.onProgress ? (p) => options.onProgress!(p.done, p.total) : undefined,
          })).catch(located);
      if (result.dim !== dim) {
        throw new RecipeProblem('error', 'dimension', `the encoder produced ${result.dim}-d prototypes but the library holds ${dim}-d ones`, ['library']);
      }
      this.remember(key, result);
      if (contentKey) {
        try {
          this.diskCache.putWithCount(contentKey, result.prototype, result.count);
        } catch {
          // A read-only or full cache folder only costs the next run an encode.
        }
      }
      return { ...result, source, provider: encoder.provider };
    }
    throw new RecipeProblem('error', 'no-target', 'the recipe gives no target', ['target'], 'key');
  }

  /** sha256 over (encoder bytes, encoder config, every input's bytes); file hashes memoised by fingerprint. */
  private contentKey(encoderFile: string, configSha256: string | undefined, files: string[]): string {
    const hash = (file: string) => {
      const fp = fileFingerprint(file);
      let sha = this.fileHashes.get(fp);
      if (!sha) {
        sha = sha256FileSync(file);
        if (this.fileHashes.size >= 100_000) this.fileHashes.clear();
        this.fileHashes.set(fp, sha);
      }
      return sha;
    };
    return prototypeCacheKey({ encoderSha256: `${hash(encoderFile)}:${configSha256 ?? ''}`, source: 'samples', inputSha256s: files.map(hash) });
  }

  private remember(key: string, result: PrototypeResult): void {
    // Bounded: an editing session touches a handful of targets; drop the oldest beyond that.
    if (this.prototypes.size >= 64) this.prototypes.delete(this.prototypes.keys().next().value!);
    this.prototypes.set(key, result);
  }
}
