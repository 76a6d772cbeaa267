/**
 * @module storage/object-key
 * Object key rules shared by every store, the S3 endpoint and the supervisor. The embedded store never
 * derives a path from a key, but the supervisor does (staging outputs, naming input files), so a key must
 * be safe as a relative path whatever layer decoded it.
 */
import { PlatformError } from '../core/index.js';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** C0 controls (NUL included): never meaningful in a key, and they break XML listings and log lines. */
function hasControlCharacter(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) < 0x20) return true;
  return false;
}
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// U+FFFD only appears in a key when some layer decoded invalid UTF-8 lossily; U+FFFE/U+FFFF are
// noncharacters that XML 1.0 cannot carry (they would break a ListObjects reply).
const SUSPECT_CHARACTER = /[\ufffd\ufffe\uffff]/;

function invalidKey(key: string, reason: string): PlatformError {
  return new PlatformError('INVALID_KEY', `invalid object key: ${reason}`, {
    details: { key: JSON.stringify(key).slice(0, 200), reason },
  });
}

/**
 * Throws INVALID_KEY unless `key` is a safe object key: non-empty, at most 1024 UTF-8 bytes, well-formed
 * Unicode, no control characters, no leading `/`, and no `.` or `..` segment (with `/` or `\` as separator).
 */
export function validateObjectKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalidKey(String(key), 'empty');
  if (LONE_SURROGATE.test(key)) throw invalidKey(key, 'not well-formed Unicode');
  if (SUSPECT_CHARACTER.test(key)) throw invalidKey(key, 'contains U+FFFD, U+FFFE or U+FFFF');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw invalidKey(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (hasControlCharacter(key)) throw invalidKey(key, 'contains a control character');
  if (key.startsWith('/')) throw invalidKey(key, 'starts with "/"');
  // Backslash counts as a separator too: a key may become a path on a system (or in a tool) that uses it.
  for (const segment of key.split(/[/\\]/)) {
    if (segment === '.' || segment === '..') throw invalidKey(key, `contains a "${segment}" path segment`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes raw key bytes as strict UTF-8 (overlong forms, encoded surrogates and truncated sequences are
 * rejected, never replaced) and validates the result. For callers that receive keys as bytes.
 */
export function decodeObjectKey(bytes: Uint8Array): string {
  let key: string;
  try {
    key = strictUtf8.decode(bytes);
  } catch {
    throw invalidKey(Buffer.from(bytes).toString('latin1'), 'not valid UTF-8');
  }
  validateObjectKey(key);
  return key;
}
