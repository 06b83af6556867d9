import * as path from 'node:path';
import { adapterRecord, type PrototypeSource } from '../../engine/addToLibrary';
import { ComposerError } from '../../engine/errors';
import { initLibrary, openLibrary, isRemoteUri } from '../../engine/library/library';
import { DEFAULT_INDEX_MIN_ROWS } from '../../engine/library/annIndex';
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
  add <uri> <adapter-path> --name N [--base B] [--tags a,b] [--description T]
        (--prototype p.npy | --features f.npy | --samples 'glob')
                                                (samples: .npy rows, or images / texts when the
                                                library has an encoder.json)
                                                add one adapter; rank, alpha, modules, format and
                                                sha256 are read from the adapter itself
  ls <uri> [--base B] [--tag T] [--offset N --limit M]
                                                list adapters (sorted by name); with --offset/--limit,
                                                one page in storage order (the editor's library view)
  show <uri> <name>                             one adapter's row
  rm <uri> <name>                               remove an adapter
  info <uri>                                    encoder, dimension, size, version, index
  index <uri> [--kind ivf_flat|hnsw_sq] [--force]   build the ANN index (automatic for large tables)

Options:
  --json          machine-readable output
  --provider P    encoder execution provider for --samples: auto | cpu | cuda | tensorrt | webgpu
  --debug         show stack traces of internal errors
  -h, --help      this help`;

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

export const libraryCommand: Command = {
  name: 'library',
  summary: 'create and edit an adapter library (init, add, ls, show, rm, info, index)',
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
    force: { type: 'boolean' },
    tag: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(args, io) {
    const action = requirePositional(args, 0, 'an action (init, add, ls, show, rm, info, index)', 'library');
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
        const library = await openLibrary(uri);
        try {
          const record = await adapterRecord(library, {
            adapterPath,
            name,
            base: stringOption(args, 'base'),
            tags: listOption(args, 'tags'),
            description: stringOption(args, 'description'),
            source: prototypeSource(args),
            provider: stringOption(args, 'provider'),
            cwd: io.cwd,
          });
          const { version } = await library.add(record);
          const { prototype: _omit, ...shown } = record;
          io.out(json ? toJson({ ...shown, version }) : `added ${record.name} (${record.format}, base ${record.base}, rank ${record.rank}, α ${record.alpha}, ${record.target_modules.join('/')}) — library version ${version}`);
          // A library that just grew past the brute-force threshold gets its ANN index now (and says so).
          const info = await library.info();
          if (!info.index && info.size >= DEFAULT_INDEX_MIN_ROWS) {
            io.err(`the library has ${info.size} adapters: building an ANN index for fast retrieval…`);
            io.err((await library.ensureIndex()).message);
          }
        } finally {
          library.close();
        }
        return 0;
      }
      case 'ls': {
        const library = await openLibrary(uri);
        try {
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
            : (await library.list({ prototypes: false })).filter((r) => (base === undefined || r.base === base) && (tag === undefined || r.tags.includes(tag)));
          if (json) io.out(toJson(rows));
          else if (rows.length === 0) io.out('(empty library)');
          else {
            const table = rows.map((r) => [r.name, r.base, String(r.rank), String(r.alpha), r.format, r.tags.join(',')]);
            const header = ['name', 'base', 'rank', 'alpha', 'format', 'tags'];
            const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
            for (const row of [header, ...table]) io.out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
          }
        } finally {
          library.close();
        }
        return 0;
      }
      case 'show':
      case 'rm': {
        const name = requirePositional(args, 2, 'the adapter name', 'library');
        const library = await openLibrary(uri);
        try {
          if (action === 'rm') {
            const { version } = await library.remove(name);
            io.out(json ? toJson({ removed: name, version }) : `removed ${name} — library version ${version}`);
            return 0;
          }
          const record = await library.get(name);
          if (!record) throw new ComposerError('library', `no adapter named '${name}' in the library at ${uri}`, undefined, '`library ls` lists the names');
          const { prototype, details, ...rest } = record;
          const shown = { ...rest, prototype_dim: prototype.length, details: details ? JSON.parse(details) : undefined };
          io.out(json ? toJson(shown) : Object.entries(shown).map(([k, v]) => `${k.padEnd(15)} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n'));
        } finally {
          library.close();
        }
        return 0;
      }
      case 'info': {
        const library = await openLibrary(uri);
        try {
          const info = await library.info();
          io.out(json ? toJson(info) : Object.entries(info).map(([k, v]) => `${k.padEnd(14)} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n'));
        } finally {
          library.close();
        }
        return 0;
      }
      case 'index': {
        const library = await openLibrary(uri);
        try {
          const report = await library.ensureIndex({ kind: stringOption(args, 'kind') as never, force: Boolean(args.values.force), minRows: args.values.force ? 0 : undefined });
          io.out(json ? toJson(report) : JSON.stringify(report));
        } finally {
          library.close();
        }
        return 0;
      }
      default:
        throw new ComposerError('usage', `unknown library action '${action}'`, undefined, 'actions: init, add, ls, show, rm, info, index');
    }
  },
};
