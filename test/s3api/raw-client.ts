/**
 * @module test/s3api/raw-client
 * Hand-made S3 requests for what real clients never send: raw paths (`..`, overlong UTF-8), wrong
 * hashes, short bodies, signed aws-chunked bodies. Signs with the endpoint's own SigV4 helpers; the real
 * clients (aws cli, boto3, the AWS SDK) check that those helpers agree with AWS.
 */
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalRequest,
  chunkStringToSign,
  formatAmzDate,
  sign,
  signingKey,
  stringToSign,
} from '../../src/s3api/sigv4/signing.js';
import { awsEncode } from '../../src/s3api/percent-encoding.js';
import { ACCESS_KEY_ID, REGION, SECRET_KEY } from './s3-fixture.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The S3 error code of an XML error body. */
  code: string | null;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given (not normalised). */
  path: string;
  query?: Array<[string, string]>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** x-amz-content-sha256 to send (and sign). @default the body's SHA-256 */
  payloadHash?: string;
  /** false: send no Authorization at all. */
  sign?: boolean;
  secretKey?: string;
  accessKeyId?: string;
  nowMs?: number;
  /** Writes the body instead of `body`, respecting back-pressure (`write` resolves when drained). */
  writeBody?: (write: (data: Buffer) => Promise<void>) => Promise<void>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Signs the headers of a request (Authorization header form); returns the headers and the signature. */
export function signHeaders(
  port: number,
  options: RawRequest,
): { headers: Record<string, string>; signature: string; amzDate: string } {
  const amzDate = formatAmzDate(options.nowMs ?? Date.now());
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': options.payloadHash ?? sha256(options.body ?? Buffer.alloc(0)),
    ...Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    ),
  };
  const names = Object.keys(headers).sort();
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const canonical = canonicalRequest({
    method: options.method,
    path: options.path,
    query: canonicalQuery(
      (options.query ?? []).map(([name, value]) => [awsEncode(name), awsEncode(value)] as const),
    ),
    headers: names.map((name) => [name, canonicalHeaderValue([headers[name] ?? ''])] as const),
    payloadHash: headers['x-amz-content-sha256'] ?? '',
  });
  const key = signingKey(options.secretKey ?? SECRET_KEY, amzDate.slice(0, 8), REGION, 's3');
  const signature = sign(key, stringToSign(amzDate, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${options.accessKeyId ?? ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { headers, signature, amzDate };
}

/** The aws-chunked wire form of `chunks`, each signed in the chain from `seedSignature`. */
export function signedChunkedBody(
  chunks: Buffer[],
  seedSignature: string,
  amzDate: string,
  secretKey = SECRET_KEY,
): Buffer {
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const key = signingKey(secretKey, amzDate.slice(0, 8), REGION, 's3');
  let previous = seedSignature;
  const parts: Buffer[] = [];
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    previous = sign(key, chunkStringToSign(amzDate, scope, previous, sha256(chunk)));
    parts.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    );
  }
  return Buffer.concat(parts);
}

/** Sends one request on its own connection and collects the reply (or the connection error). */
export function rawRequest(port: number, options: RawRequest): Promise<RawReply> {
  const query = (options.query ?? [])
    .map(([name, value]) => `${awsEncode(name)}=${awsEncode(value)}`)
    .join('&');
  const headers =
    options.sign === false
      ? { host: `127.0.0.1:${port}`, ...(options.headers ?? {}) }
      : signHeaders(port, options).headers;
  if (options.body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = String(options.body.length);
  }
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: options.method,
      path: options.path + (query === '' ? '' : `?${query}`),
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const code = /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1] ?? null;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, code });
      });
    });
    req.on('error', reject);
    if (options.writeBody) {
      const write = (data: Buffer) =>
        new Promise<void>((resolveWrite) => {
          if (req.write(data)) resolveWrite();
          else req.once('drain', () => resolveWrite());
        });
      options.writeBody(write).then(
        () => req.end(),
        (error: unknown) => req.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    } else {
      req.end(options.body);
    }
  });
}
