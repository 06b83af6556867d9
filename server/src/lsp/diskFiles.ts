/** The file-system questions the language service asks, answered from the local disk. */
import * as fs from 'node:fs';
import type { FileSystemView } from '../service/recipeView';

export const diskFiles: FileSystemView = {
  readDirectory(dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
  },
  isFile(p) {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  isDirectory(p) {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};
