/**
 * @module cli/payload
 * The bodies of `service run` and `service job`, as oscar-cli sends and reads them: the input goes as
 * base64 (streamed, so a large file is never held whole), and the answer of a synchronous call is base64
 * of one output file, or of a zip of all of them when the script wrote several (OSCAR's supervisor).
 */
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';

/** A transform that base64-encodes a byte stream, carrying the 0–2 bytes that do not fill a quantum. */
export function base64Encoder(): Transform {
  let carry = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = data.length - (data.length % 3);
      carry = Buffer.from(data.subarray(whole));
      callback(null, whole > 0 ? data.subarray(0, whole).toString('base64') : undefined);
    },
    flush(callback: TransformCallback) {
      callback(null, carry.length > 0 ? carry.toString('base64') : undefined);
    },
  });
}

/** The base64 body for `-f FILE` (streamed) or `-i TEXT`. */
export function encodedInput(input: {
  file?: string | undefined;
  text?: string | undefined;
}): Readable | Buffer {
  if (input.file !== undefined) return createReadStream(input.file).pipe(base64Encoder());
  return Buffer.from(Buffer.from(input.text ?? '', 'utf8').toString('base64'));
}

const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a synchronous answer. Like oscar-cli, an answer that is not base64 (a script's plain text, an
 * error page) is returned as it came.
 */
export function decodeAnswer(body: Buffer): { bytes: Buffer; decoded: boolean } {
  const text = body.toString('latin1').replace(/\s+/g, '');
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64_BODY.test(text))
    return { bytes: body, decoded: false };
  return { bytes: Buffer.from(text, 'base64'), decoded: true };
}

/** Whether the bytes are a zip archive (local file header, or the end record of an empty archive). */
export function isZip(bytes: Buffer): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  return (bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06);
}

/** Whether bytes look like text a terminal can show (valid UTF-8 without control characters other than whitespace). */
export function isPrintable(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000E-\u001A\u001C-\u001F\u007F]/.test(text);
}
