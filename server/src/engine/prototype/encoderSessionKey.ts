/**
 * The identity of an opened encoder: its file and the files that configure it (encoder.json and the
 * tokenizer files beside it), by path, size and modification time. A changed config or tokenizer
 * reopens the encoder instead of reusing a session that preprocesses the old way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENCODER_CONFIG_FILE } from './encoderConfig';
import { fileFingerprint } from './fileFingerprint';

export function encoderSessionKey(encoderFile: string): string {
  const dir = path.dirname(path.resolve(encoderFile));
  const parts = [fileFingerprint(encoderFile)];
  for (const name of [ENCODER_CONFIG_FILE, 'tokenizer.json', 'tokenizer_config.json']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) parts.push(fileFingerprint(file));
  }
  return parts.join('\u0001');
}
