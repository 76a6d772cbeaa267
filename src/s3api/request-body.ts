/**
 * @module s3api/request-body
 * The body of an authenticated request as the object's bytes: aws-chunked decoded, and verified while it
 * streams (payload SHA-256, chunk signatures, x-amz-checksum-* header or trailer, size limit). Every check
 * fails the stream before its end, so the store, which commits only at the end, never keeps a bad body.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { CHECKSUM_HEADER_PREFIX, checksumAlgorithmOf, runningChecksum } from './checksums.js';
import { s3Failure } from './s3-errors.js';
import type { Authenticated } from './sigv4/authenticate.js';
import { AwsChunkedDecoder } from './sigv4/aws-chunked-decoder.js';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseLength(value: string | undefined, name: string): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,16}$/.test(value.trim()))
    throw s3Failure('InvalidArgument', `${name} must be a number of bytes`);
  return Number(value.trim());
}

/**
 * The length of the object the body carries: x-amz-decoded-content-length for aws-chunked bodies (which S3
 * requires), Content-Length otherwise; null for a plain chunked transfer of unknown length.
 */
export function declaredObjectLength(headers: IncomingHttpHeaders, auth: Authenticated): number | null {
  if (auth.payload.kind === 'chunked') {
    const decoded = parseLength(
      header(headers, 'x-amz-decoded-content-length'),
      'x-amz-decoded-content-length',
    );
    if (decoded === null)
      throw s3Failure('MissingContentLength', 'aws-chunked uploads need x-amz-decoded-content-length');
    return decoded;
  }
  return parseLength(header(headers, 'content-length'), 'Content-Length');
}

function verifying(update: (chunk: Buffer) => void, check: () => Error | null): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(check());
    },
  });
}

function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(
          s3Failure(
            'EntityTooLarge',
            `Your proposed upload exceeds the maximum allowed size of ${maxBytes} bytes`,
          ),
        );
      } else {
        callback(null, chunk);
      }
    },
  });
}

/**
 * Opens the verified, decoded body stream of a request whose headers were authenticated. The request is
 * piped in rather than made part of a pipeline: a failing check must not destroy the request (and with it
 * the socket) before the error reply is written.
 */
export function openRequestBody(
  req: IncomingMessage,
  auth: Authenticated,
  objectLength: number | null,
  maxBytes: number,
): Readable {
  const headers = req.headers;
  const stages: Transform[] = [];
  const payload = auth.payload;
  const declaredTrailer = header(headers, 'x-amz-trailer')?.trim().toLowerCase() ?? null;
  if (payload.kind === 'chunked') {
    stages.push(
      new AwsChunkedDecoder({
        signing: payload.signedChunks ? auth.signing : null,
        trailer: payload.trailer,
        declaredTrailer: payload.trailer ? declaredTrailer : null,
        decodedLength: objectLength ?? 0,
      }),
    );
  } else if (payload.kind === 'sha256') {
    const hash = createHash('sha256');
    stages.push(
      verifying(
        (chunk) => hash.update(chunk),
        () =>
          hash.digest('hex') === payload.sha256
            ? null
            : s3Failure(
                'XAmzContentSHA256Mismatch',
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
              ),
      ),
    );
  }
  for (const [name, value] of Object.entries(headers)) {
    const algorithm = checksumAlgorithmOf(name);
    const checksum = algorithm === null ? null : runningChecksum(algorithm);
    if (checksum === null || typeof value !== 'string') continue;
    stages.push(
      verifying(
        (chunk) => checksum.update(chunk),
        () =>
          checksum.digestBase64() === value.trim()
            ? null
            : s3Failure(
                'BadDigest',
                `The ${name.slice(CHECKSUM_HEADER_PREFIX.length).toUpperCase()} you specified did not match the calculated checksum.`,
              ),
      ),
    );
  }
  // An aws-chunked body is bounded by its decoder (decoded length as declared, bounded chunk headers).
  const first = byteLimit(payload.kind === 'chunked' ? Number.MAX_SAFE_INTEGER : maxBytes);
  stages.unshift(first);
  req.on('error', (error) => first.destroy(error));
  req.on('close', () => {
    if (!req.complete)
      first.destroy(s3Failure('IncompleteBody', 'the connection closed before the body ended'));
  });
  req.pipe(first);
  // Errors reach the consumer through the last stage, which pipeline destroys with them.
  return stages.length === 1 ? first : (pipeline(stages, () => undefined) as unknown as Readable);
}
