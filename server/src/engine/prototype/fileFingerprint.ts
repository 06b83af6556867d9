/**
 * A cheap identity for an input file: path, size and modification time. Hashing every sample file on
 * every keystroke would cost more than the plan; a changed file changes its mtime or size.
 */
import * as fs from 'node:fs';
import { ComposerError } from '../errors';

export function fileFingerprint(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${file}\u0000${st.size}\u0000${st.mtimeMs}`;
  } catch {
    throw new ComposerError('io', `cannot read ${file}`, { file });
  }
}
