/**
 * @module s3api/percent-encoding
 * Percent-encoding as SigV4 defines it (RFC 3986 unreserved characters kept, every other byte as %XX with
 * upper-case hex) and strict decoding to bytes. Decoding never touches `+` (a literal plus in paths) and
 * never normalises `.`/`..` segments: S3 addresses the key exactly as sent.
 */

const HEX = '0123456789ABCDEF';

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/** SigV4's URI encoding of raw bytes; with `keepSlash`, `/` stays literal (object key paths). */
export function awsEncodeBytes(bytes: Uint8Array, keepSlash = false): string {
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (keepSlash && byte === 0x2f)) out += String.fromCharCode(byte);
    else out += '%' + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

/** SigV4's URI encoding of a string's UTF-8 bytes. */
export function awsEncode(value: string, keepSlash = false): string {
  return awsEncodeBytes(Buffer.from(value, 'utf8'), keepSlash);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * The bytes a percent-encoded string stands for, or null when a `%` is not followed by two hex digits.
 * Characters above U+00FF (a client that did not encode them) count as their UTF-8 bytes.
 */
export function percentDecodeBytes(raw: string): Buffer | null {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25) {
      const high = hexValue(raw.charCodeAt(i + 1));
      const low = hexValue(raw.charCodeAt(i + 2));
      if (high < 0 || low < 0) return null;
      bytes.push(high * 16 + low);
      i += 2;
    } else if (code <= 0xff) {
      bytes.push(code);
    } else {
      const char = String.fromCodePoint(raw.codePointAt(i) ?? code);
      for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
      i += char.length - 1;
    }
  }
  return Buffer.from(bytes);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8, or null for invalid bytes (overlong forms, encoded surrogates, truncation). */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
