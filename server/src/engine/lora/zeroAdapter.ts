/**
 * The base model as a library candidate: a zero adapter (ΔW = 0 on every module of a reference
 * adapter, B = 0 as PEFT initialises it) whose prototype is the base model's own training domain.
 * Retrieved and weighted like any other adapter, it lets `convex`/`sparse` shrink a composite toward
 * the base model when the target lies near the base's domain (with Σw = 1, no other way backs off).
 */
import * as fs from 'node:fs';
import { ComposerError } from '../errors';
import { openAdapter } from './formats';
import { writePlainPeft } from './plainPeft';

export interface ZeroAdapterResult {
  dir: string;
  modules: number;
  base?: string;
  /** The files written (to undo them) and whether the folder itself was made here. */
  files: string[];
  createdDir: boolean;
}

/** Writes a PEFT folder with the modules and shapes of `like` and rank 1, A = 0 and B = 0. */
export function writeZeroAdapter(like: string, dir: string, base?: string): ZeroAdapterResult {
  const reference = openAdapter(like);
  const baseModel = base ?? reference.base;
  if (!baseModel) throw new ComposerError('usage', `the reference adapter names no base model`, { file: like }, 'pass --base MODEL');
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new ComposerError('io', `${dir} exists and is not empty`, { file: dir }, 'choose an empty or new folder for the zero adapter');
  const modules = [...reference.modules.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (modules.length === 0) throw new ComposerError('adapter-format', 'the reference adapter has no LoRA modules', { file: like });
  const createdDir = !fs.existsSync(dir);
  const files = writePlainPeft(dir, {
    base: baseModel,
    rank: 1,
    alpha: 1,
    targetModules: [...new Set(modules.map((m) => m.name.split('.').pop()!))],
    modules: modules.map((m) => ({ name: m.name, inFeatures: m.inFeatures, outFeatures: m.outFeatures, a: new Float32Array(m.inFeatures), b: new Float32Array(m.outFeatures) })),
    description: 'the base model as a candidate: a zero adapter (ΔW = 0)',
  });
  return { dir, modules: modules.length, base: baseModel, files, createdDir };
}

/** Undoes writeZeroAdapter: its two files, and the folder only when it made it (a folder the user had stays). */
export function removeZeroAdapter(result: ZeroAdapterResult): void {
  for (const f of result.files) fs.rmSync(f, { force: true });
  if (result.createdDir) {
    try {
      fs.rmdirSync(result.dir); // only while empty
    } catch {
      // something else appeared in it: leave it
    }
  }
}
