/**
 * The `adapterCompose` settings section, with defaults and validation (bad values fall back): the one
 * reader, for the server and the VS Code client (client/src/settings.ts reads its configuration through
 * it). Imports only the location parser, so the client can share it.
 */
import { isRemoteUri, resolveLocation } from '../engine/location';

export interface ServerSettings {
  /** Library used when a recipe names none (the recipe's own `library:` wins). */
  libraryUri?: string;
  executionProvider: 'auto' | 'cpu' | 'cuda' | 'tensorrt' | 'webgpu';
  /** Quiet time after a keystroke before the recipe is re-planned. */
  debounceMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** How often the library folders of open recipes are checked for changes (0: never). */
  libraryPollMs: number;
  /**
   * Compose (writes adapter files) and `evaluate` commands run only when the client says the workspace
   * is trusted: `trusted: true` in initializationOptions (the VS Code client passes Workspace Trust;
   * other editors opt in in their own configuration). Default: untrusted. Settings read later
   * (workspace/configuration, which a cloned repository can supply) can only take it away.
   */
  trusted: boolean;
  /**
   * Folders outside the workspace that recipes may read, never write (a shared library or adapter
   * store): `adapterCompose.readRoots`. Machine-scoped in VS Code, so a cloned repository's
   * .vscode/settings.json cannot widen what its recipes read.
   */
  readRoots: string[];
}

export const DEFAULT_SETTINGS: ServerSettings = { executionProvider: 'auto', debounceMs: 150, logLevel: 'info', libraryPollMs: 2000, trusted: false, readRoots: [] };

const PROVIDERS = new Set(['auto', 'cpu', 'cuda', 'tensorrt', 'webgpu']);
const LEVELS = new Set(['error', 'warn', 'info', 'debug']);
const MAX_READ_ROOTS = 64;

/** Settings from `raw` (the section itself, or an object holding `adapterCompose`), over `base` for what it lacks. */
export function readSettings(raw: unknown, base: ServerSettings = DEFAULT_SETTINGS): ServerSettings {
  const s = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const nested = s.adapterCompose && typeof s.adapterCompose === 'object' ? (s.adapterCompose as Record<string, unknown>) : s;
  const out: ServerSettings = { ...base };
  if (typeof nested.libraryUri === 'string' && nested.libraryUri.trim()) out.libraryUri = nested.libraryUri.trim();
  if (typeof nested.executionProvider === 'string' && PROVIDERS.has(nested.executionProvider)) out.executionProvider = nested.executionProvider as ServerSettings['executionProvider'];
  if (typeof nested.debounceMs === 'number' && Number.isFinite(nested.debounceMs)) out.debounceMs = Math.min(5000, Math.max(0, nested.debounceMs));
  if (typeof nested.logLevel === 'string' && LEVELS.has(nested.logLevel)) out.logLevel = nested.logLevel as ServerSettings['logLevel'];
  if (typeof nested.libraryPollMs === 'number' && Number.isFinite(nested.libraryPollMs)) out.libraryPollMs = Math.max(0, nested.libraryPollMs);
  if (Array.isArray(nested.readRoots)) out.readRoots = nested.readRoots.filter((r): r is string => typeof r === 'string' && r.trim() !== '').map((r) => r.trim()).slice(0, MAX_READ_ROOTS);
  if (nested.trusted === false || s.trusted === false) out.trusted = false;
  else if (nested.trusted === true || s.trusted === true) out.trusted = true;
  return out;
}

/**
 * The library the `libraryUri` setting names: a relative path or `file://` URI resolved against the
 * workspace folder (as the setting's description says, never a recipe's folder), a remote URI as it is.
 */
export function settingLibrary(libraryUri: string | undefined, workspaceRoot: string | undefined): string | undefined {
  return libraryUri ? resolveLocation(libraryUri, workspaceRoot ?? process.cwd()) : undefined;
}

/** The read roots as local folders: relative ones (and `file://` URIs) resolved against the workspace folder; other URIs dropped (a URI is never confined). */
export function settingReadRoots(readRoots: readonly string[], workspaceRoot: string | undefined): string[] {
  return readRoots.map((r) => resolveLocation(r, workspaceRoot ?? process.cwd())).filter((r) => !isRemoteUri(r));
}
