/**
 * @module auth/secret-box
 * Encryption at rest for secrets kept in the state store (service secrets, S3 secret keys): AES-256-GCM
 * with a random 96-bit IV per value and a 256-bit key kept in the data directory (mode 0600).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformError } from '../core/index.js';

/** The key file, next to credentials.json. */
export const SECRET_KEY_FILE = 'secrets.key';
const PREFIX = 'aesgcm1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  /** `aesgcm1:<base64 iv|tag|ciphertext>` */
  seal(plaintext: string): string;
  /** The plaintext of a sealed value; fails with INTERNAL when the value was tampered with. */
  open(sealed: string): string;
  isSealed(value: string): boolean;
}

/** A box over a raw 32-byte key. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new PlatformError('CONFIG_INVALID', 'the secrets key must be 32 bytes');
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new PlatformError('INTERNAL', 'a stored secret is not sealed');
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES)
        throw new PlatformError('INTERNAL', 'a stored secret is damaged');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch (error) {
        throw new PlatformError('INTERNAL', 'a stored secret does not match the secrets key', {
          cause: error,
        });
      }
    },
    isSealed: (value) => value.startsWith(PREFIX),
  };
}

/** Reads the data directory's secrets key, creating it (0600) on first start. */
export function loadSecretBox(dataDir: string): SecretBox {
  const path = join(dataDir, SECRET_KEY_FILE);
  if (!existsSync(path)) {
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(path, 0o600);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new PlatformError('CONFIG_INVALID', `${path} does not hold a 32-byte key`);
  return createSecretBox(key);
}
