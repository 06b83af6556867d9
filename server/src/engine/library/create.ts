/**
 * Making a new library (`library init`): the prototype dimension read from the encoder (or given),
 * the encoder and its input config copied into a local library folder, an empty adapters table, and
 * the metadata row written last — its presence marks a complete library. Refuses an existing library
 * and never overwrites a different file of the user's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLancedb } from '../nativeModules';
import { ComposerError } from '../errors';
import { openEncoder } from '../prototype/encoder';
import { sha256FileSync } from '../prototype/contentHash';
import { copyEncoderConfigInto, encoderConfigBeside, ENCODER_CONFIG_FILE, readEncoderConfig, type EncoderConfig } from '../prototype/encoderConfig';
import { ADAPTERS_TABLE, adaptersSchema, LIBRARY_FORMAT_VERSION, META_TABLE, type MetaRow, metaSchema } from './schema';
import { isRemoteUri } from '../location';
import { connectOptions, localPath } from './connection';
import { libraryError } from './libraryErrors';

/** The file name an encoder gets when it is copied into a local library folder. */
export const LIBRARY_ENCODER_FILE = 'encoder.onnx';

export interface InitOptions {
  /** The ONNX encoder that makes (made) the prototypes. Copied into a local library folder. */
  encoderPath?: string;
  /** The prototype dimension; required without an encoder, checked against it with one. */
  dim?: number;
  /**
   * The encoder's input config (encoder.json: image/text preprocessing, pooling). Default: the
   * encoder.json beside the encoder, if any. Copied into a local library folder as encoder.json
   * (with its tokenizer.json); a remote library reads it beside the encoder file.
   */
  encoderConfigPath?: string;
  /** Object-store settings for a remote library (see OpenOptions.storageOptions). */
  storageOptions?: Record<string, string>;
}

/** Creates the tables (and local files) of a new library at `uri`; initLibrary then opens it. */
export async function createLibrary(uri: string, options: InitOptions): Promise<void> {
  const remote = isRemoteUri(uri);
  const dir = remote ? uri : localPath(uri);
  let dim = options.dim;
  let encoderSha: string | null = null;
  let encoderPathRecorded: string | null = null;
  let encoderName: string | null = null;
  let encoderConfig: EncoderConfig | undefined;

  if (options.encoderConfigPath && !options.encoderPath) throw new ComposerError('usage', 'an encoder config needs its encoder (--encoder model.onnx)');
  if (options.encoderPath) {
    const encoderFile = path.resolve(options.encoderPath);
    if (!fs.existsSync(encoderFile)) throw new ComposerError('encoder', `encoder file not found: ${options.encoderPath}`, { file: options.encoderPath });
    encoderSha = sha256FileSync(encoderFile);
    encoderName = path.basename(encoderFile);
    const besideEncoder = encoderConfigBeside(encoderFile);
    const configFile = options.encoderConfigPath ? path.resolve(options.encoderConfigPath) : besideEncoder;
    if (remote && configFile && configFile !== besideEncoder) {
      throw libraryError(`a remote library reads the encoder config beside the encoder file (${path.join(path.dirname(encoderFile), ENCODER_CONFIG_FILE)})`,
        `copy ${options.encoderConfigPath} there as ${ENCODER_CONFIG_FILE}`, options.encoderConfigPath);
    }
    encoderConfig = configFile ? readEncoderConfig(configFile) : undefined;
    const encoder = await openEncoder(encoderFile, { provider: 'cpu', config: encoderConfig ?? null });
    let encoderDim: number;
    try {
      encoderDim = await encoder.outputDim();
    } finally {
      await encoder.dispose();
    }
    if (dim !== undefined && dim !== encoderDim) {
      throw libraryError(`--dim ${dim} does not match the encoder's output dimension ${encoderDim}`, 'leave out --dim: it is read from the encoder', options.encoderPath);
    }
    dim = encoderDim;
    encoderPathRecorded = remote ? encoderFile : LIBRARY_ENCODER_FILE;
  }
  if (dim === undefined) throw new ComposerError('usage', 'a new library needs an encoder (--encoder FILE.onnx) or a prototype dimension (--dim D)');
  if (!Number.isInteger(dim) || dim < 1) throw new ComposerError('usage', `the prototype dimension must be a positive integer, got ${dim}`);

  if (!remote && fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw libraryError(`${dir} exists and is not a folder`);
  if (options.encoderPath && !remote) {
    // init copies the encoder in as encoder.onnx: never over a different file of the user's
    const target = path.join(dir, LIBRARY_ENCODER_FILE);
    if (fs.existsSync(target) && path.resolve(options.encoderPath) !== path.resolve(target) && sha256FileSync(target) !== sha256FileSync(path.resolve(options.encoderPath))) {
      throw libraryError(`${target} exists and is a different file; library init would overwrite it`, 'choose an empty folder for the library, or move that file away', target);
    }
  }
  const db = await loadLancedb().connect(dir, connectOptions(remote, options.storageOptions));
  try {
    const names = await db.tableNames();
    if (names.includes(META_TABLE)) throw libraryError(`a library already exists at ${uri}`, 'open it, or choose another folder');
    if (names.includes(ADAPTERS_TABLE)) {
      // An init that stopped before writing its metadata: only an empty table may be replaced.
      const existing = await db.openTable(ADAPTERS_TABLE);
      const rows = await existing.countRows();
      existing.close();
      if (rows > 0) throw libraryError(`${uri} has an adapters table but no library metadata`, 'this folder was not made by adapter-composer, or its library_meta table was removed');
    }
    const adapters = await db.createEmptyTable(ADAPTERS_TABLE, adaptersSchema(dim), { mode: names.includes(ADAPTERS_TABLE) ? 'overwrite' : 'create' });
    adapters.close();
    if (options.encoderPath && !remote) fs.copyFileSync(path.resolve(options.encoderPath), path.join(dir, LIBRARY_ENCODER_FILE));
    if (encoderConfig && !remote) copyEncoderConfigInto(encoderConfig, dir);
    // The metadata row is written last: its presence marks a complete library.
    const meta: MetaRow = {
      format_version: LIBRARY_FORMAT_VERSION,
      dim,
      encoder_sha256: encoderSha,
      encoder_path: encoderPathRecorded,
      encoder_name: encoderName,
      created_at: new Date().toISOString(),
    };
    const metaTable = await db.createEmptyTable(META_TABLE, metaSchema());
    await metaTable.add([{ ...meta }]); // a copy: an object type, which (unlike the interface) has an implicit index signature
    metaTable.close();
  } finally {
    db.close();
  }
}
