import * as path from 'node:path';
import { removeZeroAdapter, writeZeroAdapter } from '../../engine/lora/zeroAdapter';
import { adapterRecord, type PrototypeSource } from '../../engine/addToLibrary';
import { ComposerError } from '../../engine/errors';
import { initLibrary, isRemoteUri, withLibrary, type Library } from '../../engine/library/library';
import { DEFAULT_INDEX_MIN_ROWS } from '../../engine/library/annIndex';
import { describeDrift } from '../../engine/library/integrity';
import { verifyLibrary } from '../../engine/library/verify';
import { parseDetails } from '../../engine/library/schema';
import { oneLine } from '../../engine/recipe/problem';
import { baseOverride, sameBase } from '../../engine/library/baseModels';
import { defaultWorkspaceRoot, encoderEscapes, LIBRARY_OUTSIDE_HINT } from '../../engine/recipe/workspaceConfinement';
import { workspaceOptionsOf, WORKSPACE_OPTIONS } from '../workspaceOptions';
import { listOption, numberOption, requirePositional, stringOption, toJson, type Command, type ParsedArgs, type CliIO } from '../command';

const HELP = `Usage: adapter-composer library <action> <uri> [arguments] [options]

The adapter library: an embedded LanceDB database (a folder, or s3://bucket/prefix) with one row per
adapter and the encoder that made the prototypes.

Actions:
  init <uri> (--encoder model.onnx [--encoder-config encoder.json] | --dim D)
                                                create a library (the encoder, its encoder.json and
                                                tokenizer.json are copied into it; encoder.json says
                                                how images/texts become inputs; default: the
                                                encoder.json beside the encoder, else .npy rows)
  add <uri> <adapter-path> --name N [--base B [--override-base]] [--tags a,b] [--description T]
        (--prototype p.npy | --features f.npy | --samples 'glob') [--replace]
                                                (samples: .npy rows, or images / texts when the
                                                library has an encoder.json)
                                                add one adapter; rank, alpha, modules, format and
                                                sha256 are read from the adapter itself;
                                                --replace re-records an existing name;
                                                --override-base records --base over the
                                                base the adapter names (shown as overridden);
                                                with --samples, an encoder (or its config or
                                                tokenizer) the library places outside the
                                                workspace is refused (--workspace, --read-root,
                                                --allow-outside-workspace as for verify)
  add-base <uri> <folder> --like <adapter> [--name base-model] [--base B]
        (--prototype p.npy | --features f.npy | --samples 'glob')
                                                the base model as a candidate: writes a zero adapter
                                                (ΔW = 0, the modules of --like) to <folder> and adds it
                                                tagged \`base\`, with the prototype of the base model's
                                                own data; retrieved like any adapter, it lets convex /
                                                sparse shrink a composite toward the base model
  verify <uri> [--fix]                          re-hash every adapter and compare hash, rank, α
                                                and rsLoRA with its row; exit 1 on drift.
                                                --fix re-records the changed rows from their
                                                files (prototype, tags, base kept). An adapter a
                                                row places outside the workspace is not read
                                                (reported \`outside\`, exit 1), as compose refuses it:
                                                --workspace DIR (default: the current folder, or
                                                for a library outside it the nearest folder above
                                                it with .git/.vscode, else the folder above the
                                                library), --read-root DIR (repeatable),
                                                --allow-outside-workspace
  ls <uri> [--base B] [--tag T] [--offset N --limit M]
                                                list adapters (sorted by name); with --offset/--limit,
                                                one page in storage order (the editor's library view)
  show <uri> <name> [--prototype]               one adapter's row; --prototype adds the stored prototype
                                                (float64, bit for bit what was added; --json: an array)
  rm <uri> <name>                               remove an adapter
  info <uri>                                    encoder, dimension, size, version, index
  index <uri> [--kind K] [--force]              build the ANN index (automatic from 50k adapters); K:
                                                ivf_flat (automatic below 400k), ivf_rq (from 400k), hnsw_sq, ivf_pq

Options:
  --json          machine-readable output
  --provider P    encoder execution provider for --samples: auto | cpu | cuda | tensorrt | webgpu
  --debug         show stack traces of internal errors
  -h, --help      this help`;

/** `B`, or `B (overridden; the adapter names X)` when `library add --base` overrode the adapter's own. */
function baseShown(record: { base: string; details?: string }): string {
  const declared = baseOverride(record);
  return declared === undefined ? record.base : `${record.base} (overridden; the adapter names ${declared})`;
}

function resolveUri(uri: string, io: CliIO): string {
  return isRemoteUri(uri) ? uri : path.resolve(io.cwd, uri);
}

function prototypeSource(args: ParsedArgs): PrototypeSource {
  const given = (['prototype', 'features', 'samples'] as const).filter((k) => args.values[k] !== undefined);
  if (given.length !== 1) {
    throw new ComposerError('usage', given.length === 0 ? 'give the adapter\'s prototype: --prototype p.npy, --features f.npy or --samples \'glob\'' : `give one of --prototype, --features, --samples (got ${given.map((g) => '--' + g).join(', ')})`);
  }
  if (given[0] === 'samples') return { samples: listOption(args, 'samples') };
  return given[0] === 'prototype' ? { prototype: stringOption(args, 'prototype')! } : { features: stringOption(args, 'features')! };
}

/**
 * Where a library's own data may lead this command (`verify`'s adapters, `add --samples`' encoder):
 * the workspace (--workspace, else found from the library as a recipe's is) and the read roots;
 * undefined with --allow-outside-workspace. A row or a committed encoder.json is data, never the user.
 */
function libraryConfinement(args: ParsedArgs, io: CliIO, uri: string): { workspaceRoot: string; readRoots: readonly string[] } | undefined {
  const options = workspaceOptionsOf(args, io);
  if (options.allowOutsideWorkspace) return undefined;
  const workspaceRoot = options.workspaceRoot ?? (isRemoteUri(uri) ? io.cwd : defaultWorkspaceRoot(path.join(uri, '__manifest'), io.cwd));
  return { workspaceRoot, readRoots: options.readRoots ?? [] };
}

/** Refuses samples encoded by an encoder (or its config, its tokenizer) the library places outside the workspace. */
function requireEncoderInside(library: Library, source: PrototypeSource, confine: ReturnType<typeof libraryConfinement>): void {
  const encoderFile = library.encoderFile();
  if (!confine || !('samples' in source) || !encoderFile || isRemoteUri(library.uri)) return;
  const escape = encoderEscapes(encoderFile, confine.workspaceRoot, confine.readRoots)[0];
  if (escape) throw new ComposerError('library', `${escape}; it was not loaded`, { file: library.folder ?? library.uri }, LIBRARY_OUTSIDE_HINT);
}

export const libraryCommand: Command = {
  name: 'library',
  summary: 'create and edit an adapter library (init, add, ls, show, rm, info, index, verify)',
  help: HELP,
  options: {
    encoder: { type: 'string' },
    'encoder-config': { type: 'string' },
    dim: { type: 'string' },
    name: { type: 'string' },
    base: { type: 'string' },
    tags: { type: 'string', multiple: true },
    description: { type: 'string' },
    prototype: { type: 'string' },
    features: { type: 'string' },
    samples: { type: 'string', multiple: true },
    provider: { type: 'string' },
    kind: { type: 'string' },
    like: { type: 'string' },
    force: { type: 'boolean' },
    replace: { type: 'boolean' },
    fix: { type: 'boolean' },
    'override-base': { type: 'boolean' },
    'show-prototype': { type: 'boolean' },
    tag: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
    ...WORKSPACE_OPTIONS,
  },
  // `show --prototype` is a flag; `add --prototype FILE` takes a value.
  rewriteArgs: (argv) => (argv.find((a) => !a.startsWith('-')) === 'show' ? argv.map((a) => (a === '--prototype' ? '--show-prototype' : a)) : argv),
  async run(args, io) {
    const action = requirePositional(args, 0, 'an action (init, add, ls, show, rm, info, index, verify)', 'library');
    const uri = resolveUri(requirePositional(args, 1, 'the library URI', 'library'), io);
    const json = Boolean(args.values.json);
    switch (action) {
      case 'init': {
        const encoder = stringOption(args, 'encoder');
        const dim = numberOption(args, 'dim');
        if (!encoder && dim === undefined) throw new ComposerError('usage', 'give --encoder model.onnx or --dim D');
        const encoderConfig = stringOption(args, 'encoder-config');
        const library = await initLibrary(uri, {
          encoderPath: encoder ? path.resolve(io.cwd, encoder) : undefined,
          dim,
          encoderConfigPath: encoderConfig ? path.resolve(io.cwd, encoderConfig) : undefined,
        });
        const info = await library.info();
        library.close();
        io.out(json ? toJson(info) : `created library ${uri} (${info.dim}-d prototypes${info.encoder.sha256 ? `, encoder sha256 ${info.encoder.sha256.slice(0, 12)}…` : ''})`);
        return 0;
      }
      case 'add': {
        const adapterPath = requirePositional(args, 2, 'the adapter path', 'library');
        const name = stringOption(args, 'name');
        if (!name) throw new ComposerError('usage', 'give the adapter a --name');
        return withLibrary(uri, async (library) => {
          const source = prototypeSource(args);
          requireEncoderInside(library, source, libraryConfinement(args, io, uri));
          const record = await adapterRecord(library, {
            adapterPath,
            name,
            base: stringOption(args, 'base'),
            overrideBase: Boolean(args.values['override-base']),
            tags: listOption(args, 'tags'),
            description: stringOption(args, 'description'),
            source,
            provider: stringOption(args, 'provider'),
            cwd: io.cwd,
          });
          const { version } = await library.add(record, { replace: Boolean(args.values.replace) });
          const { prototype: _omit, ...shown } = record;
          io.out(json ? toJson({ ...shown, version }) : `added ${record.name} (${record.format}, base ${baseShown(record)}, rank ${record.rank}, α ${record.alpha}, ${record.target_modules.join('/')}) — library version ${version}`);
          // A library that just grew past the brute-force threshold gets its ANN index now (and says so).
          const info = await library.info();
          if (!info.index && info.size >= DEFAULT_INDEX_MIN_ROWS) {
            io.err(`the library has ${info.size} adapters: building an ANN index for fast retrieval…`);
            io.err((await library.ensureIndex()).message);
          }
          return 0;
        });
      }
      case 'add-base': {
        const folder = path.resolve(io.cwd, requirePositional(args, 2, 'the folder to write the zero adapter to', 'library'));
        const like = stringOption(args, 'like');
        if (!like) throw new ComposerError('usage', 'give --like <adapter>: the zero adapter gets its modules and shapes');
        const name = stringOption(args, 'name') ?? 'base-model';
        return withLibrary(uri, async (library) => {
          const source = prototypeSource(args);
          requireEncoderInside(library, source, libraryConfinement(args, io, uri));
          const zero = writeZeroAdapter(path.resolve(io.cwd, like), folder, stringOption(args, 'base'));
          let record: Awaited<ReturnType<typeof adapterRecord>>;
          let version: number;
          try {
            record = await adapterRecord(library, {
              adapterPath: folder,
              name,
              base: zero.base,
              tags: ['base', ...listOption(args, 'tags')],
              description: stringOption(args, 'description') ?? 'the base model itself (zero adapter)',
              source,
              provider: stringOption(args, 'provider'),
              cwd: io.cwd,
            });
            ({ version } = await library.add(record));
          } catch (e) {
            removeZeroAdapter(zero); // only what writeZeroAdapter just made: an empty folder the user had stays
            throw e;
          }
          const { prototype: _omit, ...shown } = record;
          io.out(json ? toJson({ ...shown, version }) : `added ${record.name}: the base model as a candidate (zero adapter in ${folder}, ${zero.modules} modules) — library version ${version}`);
          return 0;
        });
      }
      case 'ls': {
        return withLibrary(uri, async (library) => {
          const base = stringOption(args, 'base');
          const tag = stringOption(args, 'tag');
          const offset = numberOption(args, 'offset');
          const limit = numberOption(args, 'limit');
          for (const [flag, v] of [['--offset', offset], ['--limit', limit]] as const) {
            if (v !== undefined && !(Number.isInteger(v) && v >= (flag === '--limit' ? 1 : 0))) throw new ComposerError('usage', `${flag} expects a ${flag === '--limit' ? 'positive' : 'non-negative'} integer, got ${v}`);
          }
          const paged = offset !== undefined || limit !== undefined;
          const rows = paged
            ? await library.page({ base, tag, offset: offset ?? 0, limit: limit ?? 100 })
            : (await library.list({ prototypes: false })).filter((r) => (base === undefined || sameBase(r.base, base)) && (tag === undefined || r.tags.includes(tag)));
          // Listed without prototypes: omit the key rather than print an empty (wrong) one.
          if (json) io.out(toJson(rows.map(({ prototype: _omit, ...row }) => row)));
          else if (rows.length === 0) io.out('(empty library)');
          else {
            // Rows written by older versions (or other tools) may hold control characters: escaped, one row per adapter.
            const table = rows.map((r) => [r.name, baseShown(r), String(r.rank), String(r.alpha), r.format, r.tags.join(',')].map(oneLine));
            const header = ['name', 'base', 'rank', 'alpha', 'format', 'tags'];
            const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
            for (const row of [header, ...table]) io.out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
          }
          return 0;
        });
      }
      case 'show':
      case 'rm': {
        const name = requirePositional(args, 2, 'the adapter name', 'library');
        return withLibrary(uri, async (library) => {
          if (action === 'rm') {
            const { version } = await library.remove(name);
            io.out(json ? toJson({ removed: name, version }) : `removed ${name} — library version ${version}`);
            return 0;
          }
          const record = await library.get(name);
          if (!record) throw new ComposerError('library', `no adapter named '${name}' in the library at ${uri}`, undefined, '`library ls` lists the names');
          const { prototype, details, ...rest } = record;
          const withPrototype = Boolean(args.values['show-prototype']);
          const shown = { ...rest, base: json ? rest.base : baseShown(record), prototype_dim: prototype.length, prototype_norm: Math.sqrt(prototype.reduce((t, x) => t + x * x, 0)), details: details ? (parseDetails(details) ?? (json ? null : '(not a JSON object nested at most 32 levels deep; not shown)')) : undefined, ...(withPrototype ? { prototype_precision: library.exactPrototypes ? 'float64' : 'float32', prototype } : {}) };
          // JSON numbers print the shortest decimal that round-trips: float64 bit for bit.
          io.out(json ? toJson(shown) : fieldLines(shown, (k, v) => (k === 'prototype' ? (v as number[]).map(String).join(' ') : undefined)));
          return 0;
        });
      }
      case 'info': {
        return withLibrary(uri, async (library) => {
          const info = await library.info();
          io.out(json ? toJson(info) : fieldLines(info));
          return 0;
        });
      }
      case 'verify': {
        return withLibrary(uri, async (library) => {
          // a row's path is data: read where compose would (a local library's workspace is found as a recipe's)
          const report = await verifyLibrary(library, { fix: Boolean(args.values.fix), confine: libraryConfinement(args, io, uri) });
          if (json) io.out(toJson(report));
          else {
            // names, paths and messages come from the library's rows: each on one line, escaped
            for (const e of report.adapters) {
              if (e.status === 'ok') io.out(`ok         ${oneLine(e.name)}`);
              else if (e.status === 'changed') io.out(`${e.fixed ? 'fixed  ' : 'changed'}    ${oneLine(e.name)}: ${oneLine(describeDrift(e.drift ?? []))}`);
              else io.out(`${e.status.padEnd(10)} ${oneLine(e.name)}: ${oneLine(e.message ?? '')}`);
            }
            io.err(`${report.adapters.length} adapter${report.adapters.length === 1 ? '' : 's'} verified: ${report.changed} changed${report.fixed ? ` (${report.fixed} re-recorded, library version ${report.version})` : ''}, ${report.unreadable} unreadable${report.outside ? `, ${report.outside} outside the workspace (not read)` : ''}`);
            if (report.changed > report.fixed) io.err('  hint: `library verify --fix` re-records the changed adapters from their files (or restore the files)');
            if (report.outside > 0) io.err(`  hint: ${LIBRARY_OUTSIDE_HINT}`);
          }
          return report.changed > report.fixed || report.unreadable > 0 || report.outside > 0 ? 1 : 0;
        });
      }
      case 'index': {
        return withLibrary(uri, async (library) => {
          const report = await library.ensureIndex({ kind: stringOption(args, 'kind') as never, force: Boolean(args.values.force), minRows: args.values.force ? 0 : undefined });
          io.out(json ? toJson(report) : report.message);
          return 0;
        });
      }
      default:
        throw new ComposerError('usage', `unknown library action '${action}'`, undefined, 'actions: init, add, ls, show, rm, info, index, verify');
    }
  },
};

/** A field of `library show`: objects as JSON, the rest as text. */
/** A field of a row, on one line with visible escapes (rows may come from another tool). */
/**
 * An object as `key  value` lines, the values in one column after the longest key, each value on one
 * line with its control characters shown (cellText): what a committed library holds is data.
 * `special` may render a field itself (undefined: cellText).
 */
function fieldLines(fields: object, special?: (key: string, value: unknown) => string | undefined): string {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...entries.map(([k]) => k.length)) + 1;
  return entries.map(([k, v]) => `${k.padEnd(width)} ${special?.(k, v) ?? cellText(v)}`).join('\n');
}

function cellText(v: unknown): string {
  if (typeof v === 'string') return oneLine(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined) return String(v);
  return oneLine(JSON.stringify(v));
}

