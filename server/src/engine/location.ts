/**
 * The one reader of locations written by users (a recipe's `library:`/`output:`/paths, the
 * `libraryUri` setting, CLI arguments): a remote URI (s3://, gs://, az://, memory://…) stays a URI;
 * everything else is a folder of this machine. `file://` URIs are local paths: `file:///abs/lib`
 * is absolute (and so subject to the workspace checks like any absolute path), and a relative one
 * (`file://lib`, `file://../lib`) resolves against the same folder as a plain relative path (the
 * recipe's folder), never against the process's current folder. Imports node:path and node:url only,
 * so the VS Code client can use it too.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `scheme://` with a scheme of two characters at least (so `C:\…` stays a Windows path). */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):\/\//;

/** The URI scheme, lower-cased, or undefined for a plain path. */
export function uriScheme(location: string): string | undefined {
  return SCHEME.exec(location)?.[1].toLowerCase();
}

/** True for a `file://` URI. */
export function isFileUri(location: string): boolean {
  return uriScheme(location) === 'file';
}

/** True for a URI that is not a folder of this machine (any scheme but `file`). */
export function isRemoteUri(location: string): boolean {
  const scheme = uriScheme(location);
  return scheme !== undefined && scheme !== 'file';
}

/**
 * The absolute local path `location` names, relative ones resolved against `baseDir`; undefined for
 * a remote URI.
 */
export function localPath(location: string, baseDir: string): string | undefined {
  if (isRemoteUri(location)) return undefined;
  if (!isFileUri(location)) return path.resolve(baseDir, location);
  const rest = location.slice(location.indexOf('://') + 3);
  if (rest.startsWith('/') || /^localhost\//i.test(rest)) {
    try {
      return path.resolve(fileURLToPath(location));
    } catch {
      // an undecodable file URI: read what follows the slashes as a path
      return path.resolve(rest.replace(/^localhost/i, ''));
    }
  }
  let relative = rest;
  try {
    relative = decodeURIComponent(rest);
  } catch {
    // keep it as written
  }
  return path.resolve(baseDir, relative);
}

/** `location` made absolute against `baseDir` when local; a remote URI untouched. */
export function resolveLocation(location: string, baseDir: string): string {
  return localPath(location, baseDir) ?? location;
}
