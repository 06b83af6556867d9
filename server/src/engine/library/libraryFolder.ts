/**
 * A local LanceDB folder (a library, a run history) comes from a repository like any committed file,
 * and LanceDB reads and writes whatever its entries are: a data fragment that is a FIFO hung every
 * read (`library ls`, `check`, the editor's diagnostics) forever, and a `data/` or `_versions/` folder
 * that is a symbolic link out of the library had `library add`, `rm`, `verify --fix` and compose's
 * run record write their files wherever it pointed. LanceDB itself writes only folders and regular
 * files, so before anything connects, every entry of its tables (`*.lance`) and of `__manifest` must
 * be one of those (a symbolic link that resolves to one inside the folder is left alone); anything
 * else is refused by name. The library's other files (encoder.onnx, encoder.json, a tokenizer) are
 * not LanceDB's: the plan confines them (`encoderEscapes`, with the read roots).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError } from '../errors';

/** At most this many entries are looked at (a library of millions of rows holds tens of thousands). */
const MAX_ENTRIES = 1_000_000;

/** What is wrong with the first entry of `folder` (walked without following links) that is not LanceDB's own, or undefined. */
export function foreignEntry(folder: string): string | undefined {
  let root: string;
  try {
    root = fs.realpathSync.native(folder);
  } catch {
    return undefined; // missing: the caller says so
  }
  const inside = (p: string) => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
  };
  let seen = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable: LanceDB's own error names it
    }
    // at the top, LanceDB's entries only: its tables and its manifest
    if (dir === root) entries = entries.filter((e) => e.name === '__manifest' || e.name.endsWith('.lance'));
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (++seen > MAX_ENTRIES) return undefined;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) pending.push(p);
      else if (e.isFile()) continue;
      else if (e.isSymbolicLink()) {
        let real: string;
        try {
          real = fs.realpathSync.native(p);
        } catch {
          return `${p} is a symbolic link to a missing ${fs.readlinkSync(p)}`;
        }
        if (!inside(real)) return `${p} is a symbolic link out of ${root} (to ${real})`;
        const st = fs.statSync(real);
        if (!st.isFile() && !st.isDirectory()) return `${p} links to ${real}, ${kindOf(st)}`;
      } else {
        let st: fs.Stats | undefined;
        try {
          st = fs.lstatSync(p);
        } catch {
          continue;
        }
        return `${p} is ${kindOf(st)}`;
      }
    }
  }
  return undefined;
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe), not a regular file';
  if (st.isCharacterDevice()) return 'a character device, not a regular file';
  if (st.isBlockDevice()) return 'a block device, not a regular file';
  if (st.isSocket()) return 'a socket, not a regular file';
  return 'not a regular file';
}

/** Refuses a LanceDB folder holding anything LanceDB does not write (see above). */
export function requireOwnEntries(folder: string, what: string): void {
  const problem = foreignEntry(folder);
  if (problem) {
    throw new ComposerError('library', `${what} ${folder} holds a file LanceDB did not write: ${problem}`, { file: folder }, 'LanceDB writes only folders and regular files: a link out of the folder or a pipe or device inside it would be read from or written through; remove it (or restore the folder from its source)');
  }
}
