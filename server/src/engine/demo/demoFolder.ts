/**
 * The one rule for the folders `demo` and `demo --real` build: an empty or new folder is used; a
 * previous demo (its marker file present) is replaced as a whole only while it holds nothing but
 * what a demo (and composing its recipes) writes — a .git or a file of the user's makes it the
 * user's folder, and any other non-empty folder is refused. Nothing the user made is ever removed.
 * Also the library both demos write into that folder (`writeDemoLibrary`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { adapterRecord } from '../addToLibrary';
import { ComposerError } from '../errors';
import { initLibrary } from '../library/library';

export const DEMO_MARKER = '.adapter-composer-demo';

/** What a demo folder may hold: the demo's files, composites (`out/`) and the workspace run history. */
const DEMO_ENTRIES = new Set([DEMO_MARKER, 'README.md', 'adapters', 'data', 'encoder.onnx', 'model', 'library', 'recipes', 'out', '.adapter-composer']);

export function prepareDemoFolder(root: string, command: string, force = true): void {
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    if (!fs.existsSync(path.join(root, DEMO_MARKER)) || !force) {
      throw new ComposerError('io', `${root} exists and is not a demo folder made by this command`, { file: root }, 'choose another --out folder');
    }
    const foreign = fs.readdirSync(root).filter((e) => !DEMO_ENTRIES.has(e));
    if (foreign.length > 0) {
      throw new ComposerError('io', `${root} is a previous demo but now also holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}; only an untouched demo folder is replaced`, { file: root }, 'choose another --out folder, or move those out first');
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, DEMO_MARKER), `made by \`adapter-composer ${command}\`; safe to delete\n`);
}

/** One adapter of a demo library: `adapters/<name>` under the demo folder, its prototype from `samples` (a path). */
export interface DemoLibraryEntry {
  name: string;
  tags: string[];
  description: string;
  samples: string;
}

/**
 * The demo's library `<root>/library`: one row per entry, prototypes encoded on the CPU by
 * `encoderFile`, and fixed timestamps (the demo's bytes must not depend on when it ran).
 */
export async function writeDemoLibrary(root: string, encoderFile: string, entries: DemoLibraryEntry[]): Promise<string> {
  const libraryDir = path.join(root, 'library');
  const library = await initLibrary(libraryDir, { encoderPath: encoderFile });
  try {
    const records = [];
    for (const entry of entries) {
      records.push(await adapterRecord(library, {
        adapterPath: path.join(root, 'adapters', entry.name),
        name: entry.name,
        tags: entry.tags,
        description: entry.description,
        source: { samples: [entry.samples.split(path.sep).join('/')] },
        provider: 'cpu',
      }));
    }
    for (const r of records) r.created_at = '2026-01-01T00:00:00.000Z';
    await library.add(records);
  } finally {
    library.close();
  }
  return libraryDir;
}
