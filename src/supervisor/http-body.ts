/**
 * @module supervisor/http-body
 * OSCAR's rule for the body of a sync (or non-storage async) call, which becomes the script's input file:
 * a body that parses as JSON is kept as it is; otherwise it is base64 and is decoded. Nubes addition: a
 * body that is neither is kept as raw bytes instead of failing, so that binary data can be posted as is.
 */

export type BodyEncoding = 'json' | 'base64' | 'raw';

export interface DecodedBody {
  encoding: BodyEncoding;
  data: Buffer;
}

// Whitespace is tolerated (oscar-cli and `base64` wrap lines); anything else outside the alphabet is not,
// so that ordinary text is not mistaken for base64 and mangled.
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a call's body into the bytes the script receives. */
export function decodeHttpBody(body: Buffer): DecodedBody {
  if (body.length === 0) return { encoding: 'raw', data: body };
  if (looksLikeJson(body)) return { encoding: 'json', data: body };
  const compact = body.toString('latin1').replace(/\s+/g, '');
  if (compact.length > 0 && compact.length % 4 === 0 && BASE64_PATTERN.test(compact)) {
    return { encoding: 'base64', data: Buffer.from(compact, 'base64') };
  }
  return { encoding: 'raw', data: body };
}

// `fatal` makes invalid UTF-8 (binary data) fail fast instead of parsing replacement characters. One decoder
// serves every call (creating one looks its encoding up by name each time): a decode without `stream`
// starts afresh, and a failed one leaves nothing behind.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function looksLikeJson(body: Buffer): boolean {
  try {
    JSON.parse(STRICT_UTF8.decode(body));
    return true;
  } catch {
    return false;
  }
}
