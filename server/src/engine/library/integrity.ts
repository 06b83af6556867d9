/**
 * Does an adapter on disk still match its library row? The row records the sha256 of the weights
 * file and the per-module rank and α read from the config (α/r, rsLoRA: the scale). `compose` merges
 * what is on disk, so a weights file rewritten in place, or an adapter_config.json edited alone,
 * must be an error with the fix, not a composite the lock describes wrongly. One function decides
 * (`adapterDrift`); compose (on the bytes it merges), the planner (check, the editor) and
 * `library verify` call it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposerError, type SourceLocation } from '../errors';
import type { LoraAdapter } from '../lora/adapter';
import type { AdapterRecord } from '../types';
import { parseDetails } from './schema';

/** What a row says about the files it was made from. */
export interface RecordedFacts {
  name: string;
  path: string;
  sha256: string;
  ranks?: Record<string, number>;
  alphas?: Record<string, number>;
  rslora?: boolean;
  /** Fingerprint of the weights file at `library add` time (rows written since this field exists). */
  weightsSize?: number;
  weightsMtimeMs?: number;
}

export interface FactDrift {
  /** e.g. `sha256`, `alpha of model.layers.0.self_attn.q_proj`, `rslora`. */
  field: string;
  recorded: string;
  now: string;
}

export function recordedFacts(record: AdapterRecord): RecordedFacts {
  const details = parseDetails(record.details) ?? {};
  const numbers = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, number>) : undefined);
  return {
    name: record.name,
    path: record.path,
    sha256: record.sha256,
    ranks: numbers(details.ranks),
    alphas: numbers(details.alphas),
    rslora: typeof details.rslora === 'boolean' ? details.rslora : undefined,
    weightsSize: typeof details.weights_size === 'number' ? details.weights_size : undefined,
    weightsMtimeMs: typeof details.weights_mtime_ms === 'number' ? details.weights_mtime_ms : undefined,
  };
}

/**
 * Every way the opened adapter (and `sha256`, the hash of its weights file's bytes) differs from its
 * row: the hash, then per module rank and α (which give the scale α/r or α/√r), rsLoRA, and modules
 * added or removed.
 */
export function adapterDrift(adapter: LoraAdapter, sha256: string, recorded: RecordedFacts): FactDrift[] {
  const drift: FactDrift[] = [];
  if (sha256 !== recorded.sha256) drift.push({ field: 'sha256', recorded: recorded.sha256, now: sha256 });
  if (recorded.rslora !== undefined && recorded.rslora !== adapter.rslora) drift.push({ field: 'use_rslora', recorded: String(recorded.rslora), now: String(adapter.rslora) });
  const modules = [...adapter.modules.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  if (recorded.ranks) {
    for (const m of modules) {
      const r = recorded.ranks[m.name];
      if (r === undefined) drift.push({ field: `module ${m.name}`, recorded: 'absent', now: `rank ${m.rank}` });
      else if (r !== m.rank) drift.push({ field: `rank of ${m.name}`, recorded: String(r), now: String(m.rank) });
    }
    for (const name of Object.keys(recorded.ranks).sort()) if (!adapter.modules.has(name)) drift.push({ field: `module ${name}`, recorded: `rank ${recorded.ranks[name]}`, now: 'absent' });
  }
  if (recorded.alphas) {
    for (const m of modules) {
      const a = recorded.alphas[m.name];
      if (a !== undefined && a !== m.alpha) drift.push({ field: `alpha of ${m.name}`, recorded: String(a), now: String(m.alpha) });
    }
  }
  return drift;
}

/** Many modules usually drift together (one α edit): the first few lines and a count. */
export function describeDrift(drift: FactDrift[], limit = 4): string {
  // `alpha of m1`, `alpha of m2` with the same change read as one line: `alpha (2 modules: m1, m2)`
  const groups = new Map<string, { kind: string; modules: string[]; d: FactDrift }>();
  for (const d of drift) {
    const m = /^(rank|alpha) of (.*)$/.exec(d.field);
    const key = m ? `${m[1]}\u0000${d.recorded}\u0000${d.now}` : `\u0001${d.field}`;
    const g = groups.get(key) ?? { kind: m ? m[1] : d.field, modules: [], d };
    if (m) g.modules.push(m[2]);
    groups.set(key, g);
  }
  const lines = [...groups.values()].map((g) => {
    const where = g.modules.length === 0 ? '' : g.modules.length === 1 ? ` of ${g.modules[0]}` : ` of ${g.modules.length} modules (${g.modules[0]}, …)`;
    return `${g.kind}${where}: ${shortValue(g.d.recorded)} in the library, ${shortValue(g.d.now)} on disk`;
  });
  const shown = lines.slice(0, limit);
  if (lines.length > limit) shown.push(`and ${lines.length - limit} more`);
  return shown.join('; ');
}

function shortValue(v: string): string {
  return /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 12)}…` : v;
}

export function driftHint(libraryUri: string | undefined, name: string): string {
  const lib = libraryUri ?? 'LIBRARY';
  return `if the change is intended, re-record it: \`adapter-composer library verify ${lib} --fix\` (or \`library add ${lib} … --name ${name} --replace\`); otherwise restore the adapter's files`;
}

export function adapterChangedError(recorded: RecordedFacts, drift: FactDrift[], libraryUri: string | undefined, location?: SourceLocation): ComposerError {
  return new ComposerError(
    'library',
    `adapter \`${recorded.name}\` changed since it was added to the library (${describeDrift(drift)})`,
    location ?? { file: recorded.path },
    driftHint(libraryUri, recorded.name),
  );
}

/** The weights file of an adapter path (a folder or the file itself), as `openAdapter` picks it. */
export function weightsFileStat(weightsFile: string): { size: number; mtimeMs: number; ctimeMs: number } | undefined {
  try {
    const st = fs.statSync(weightsFile);
    return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  } catch {
    return undefined;
  }
}

/**
 * The cheap check (check, the editor): the config facts are always compared (a header and a JSON
 * read); the weights are hashed only when their size or mtime differ from the row's fingerprint (or
 * the row has none), and each hash is memoised per (path, size, mtime, ctime) for the process.
 */
export class AdapterVerifier {
  private hashes = new Map<string, string>();

  constructor(private readonly hashFile: (file: string) => string) {}

  /** The drift of one row's adapter (opened from its path); `unreadable` when its weights cannot be read. */
  verify(record: AdapterRecord, adapter: LoraAdapter): FactDrift[] | { unreadable: string } {
    const recorded = recordedFacts(record);
    const st = weightsFileStat(adapter.weightsFile);
    if (!st) return { unreadable: `cannot read ${adapter.weightsFile}` };
    let sha = recorded.sha256;
    if (st.size !== recorded.weightsSize || st.mtimeMs !== recorded.weightsMtimeMs) {
      const key = `${path.resolve(adapter.weightsFile)}\u0000${st.size}\u0000${st.mtimeMs}\u0000${st.ctimeMs}`;
      let hashed = this.hashes.get(key);
      if (!hashed) {
        try {
          hashed = this.hashFile(adapter.weightsFile);
        } catch (e) {
          return { unreadable: e instanceof Error ? e.message : String(e) };
        }
        if (this.hashes.size >= 10_000) this.hashes.clear();
        this.hashes.set(key, hashed);
      }
      sha = hashed;
    }
    return adapterDrift(adapter, sha, recorded);
  }
}
