/**
 * `library verify [--fix]`: re-hash every adapter of a library and compare it (hash, per-module rank
 * and α, rsLoRA) with its row, so drift is found before a compose refuses it. `--fix` re-records the
 * rows of changed adapters from their files (name, base, tags, description and prototype are kept).
 * A row's path is data (a committed library can name `/elsewhere/adapter`, `../../…`, or a folder
 * that is a symbolic link out): with `confine`, an adapter outside the workspace and the read roots
 * is reported (`outside`) and neither opened nor re-recorded, as compose refuses to read it.
 */
import { isComposerError } from '../errors';
import { detailsOf } from '../addToLibrary';
import { describeOpened } from '../lora/describe';
import { openAdapter } from '../lora/formats';
import { isUri } from '../recipe/paths';
import { adapterEscapes } from '../recipe/workspaceConfinement';
import type { AdapterRecord } from '../types';
import { adapterDrift, recordedFacts, type FactDrift } from './integrity';
import type { Library } from './library';
import { parseDetails } from './schema';

export interface VerifyEntry {
  name: string;
  path: string;
  /** ok: matches its row; changed: drift lists how; unreadable: the files are gone or broken; remote: not checked; outside: not read (outside the workspace and the read roots). */
  status: 'ok' | 'changed' | 'unreadable' | 'remote' | 'outside';
  drift?: FactDrift[];
  message?: string;
  /** --fix re-recorded this row. */
  fixed?: boolean;
}

export interface VerifyReport {
  adapters: VerifyEntry[];
  changed: number;
  unreadable: number;
  /** Rows whose adapter lies outside the workspace and the read roots (not read). */
  outside: number;
  fixed: number;
  /** The library version after --fix wrote (absent when nothing was written). */
  version?: number;
}

export async function verifyLibrary(library: Library, options: { fix?: boolean; /** Read adapters only inside this workspace (or a read root). */ confine?: { workspaceRoot: string; readRoots?: readonly string[] } } = {}): Promise<VerifyReport> {
  const rows = await library.list({ prototypes: options.fix === true });
  const entries: VerifyEntry[] = [];
  const replacements: AdapterRecord[] = [];
  for (const row of rows) {
    if (isUri(row.path)) {
      entries.push({ name: row.name, path: row.path, status: 'remote', message: 'a remote adapter is not re-hashed' });
      continue;
    }
    const escape = options.confine ? adapterEscapes([row], options.confine.workspaceRoot, options.confine.readRoots)[0] : undefined;
    if (escape) {
      entries.push({ name: row.name, path: row.path, status: 'outside', message: escape.message });
      continue;
    }
    let adapter;
    try {
      adapter = openAdapter(row.path, { pin: true });
    } catch (e) {
      entries.push({ name: row.name, path: row.path, status: 'unreadable', message: isComposerError(e) ? e.message : String(e) });
      continue;
    }
    try {
      const drift = adapterDrift(adapter, adapter.file.pinned!.sha256, recordedFacts(row));
      if (drift.length === 0) {
        entries.push({ name: row.name, path: row.path, status: 'ok' });
        continue;
      }
      const entry: VerifyEntry = { name: row.name, path: row.path, status: 'changed', drift };
      if (options.fix) {
        const facts = describeOpened(adapter);
        const previous = parseDetails(row.details) ?? {};
        const kept = Object.fromEntries(Object.entries(previous).filter(([k]) => k.startsWith('base_')));
        replacements.push({ ...row, rank: facts.rank, alpha: facts.alpha, target_modules: facts.target_modules, format: facts.format, sha256: facts.sha256, details: JSON.stringify({ ...detailsOf(facts), ...kept }) });
        entry.fixed = true;
      }
      entries.push(entry);
    } finally {
      adapter.file.close();
    }
  }
  const report: VerifyReport = {
    adapters: entries,
    changed: entries.filter((e) => e.status === 'changed').length,
    unreadable: entries.filter((e) => e.status === 'unreadable').length,
    outside: entries.filter((e) => e.status === 'outside').length,
    fixed: replacements.length,
  };
  if (replacements.length > 0) report.version = (await library.add(replacements, { replace: true })).version;
  return report;
}
