/**
 * @module bench/support/s3-http
 * A lean S3 client for the storage benchmark: SigV4-signed PUT and GET over node:http with
 * `UNSIGNED-PAYLOAD` (or, when asked, the body's SHA-256 signed), bodies streamed both ways. The same client talks to every server measured, so the
 * client's own cost is the same on each side of the comparison.
 */
import { createHash, type Hash } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { awsEncode } from '../../src/s3api/percent-encoding.js';
import {
  canonicalQuery,
  canonicalRequest,
  formatAmzDate,
  sign,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from '../../src/s3api/sigv4/signing.js';

export interface S3Target {
  /** e.g. http://127.0.0.1:9000 */
  endpoint: string;
  accessKeyId: string;
  secretKey: string;
  region: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function signed(
  target: S3Target,
  method: string,
  path: string,
  extra: Record<string, string>,
  payloadHash: string = UNSIGNED_PAYLOAD,
) {
  const url = new URL(target.endpoint);
  const amzDate = formatAmzDate(Date.now());
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
    ...extra,
  };
  const names = Object.keys(headers).sort();
  const scope = `${amzDate.slice(0, 8)}/${target.region}/s3/aws4_request`;
  const canonical = canonicalRequest({
    method,
    path,
    query: canonicalQuery([]),
    headers: names.map((name) => [name, (headers[name] ?? '').trim()] as const),
    payloadHash,
  });
  const key = signingKey(target.secretKey, amzDate.slice(0, 8), target.region, 's3');
  const signature = sign(key, stringToSign(amzDate, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${target.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return { url, headers };
}

function send(
  target: S3Target,
  method: string,
  bucket: string,
  key: string,
  extra: Record<string, string>,
  body: Readable | null,
  payloadHash?: string,
): Promise<IncomingMessage> {
  const path = key === '' ? `/${bucket}` : `/${bucket}/${awsEncode(key, true)}`;
  const { url, headers } = signed(target, method, path, extra, payloadHash);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, agent }, resolve);
    req.on('error', reject);
    if (body === null) req.end();
    else pipeline(body, req).catch(reject);
  });
}

async function expectOk(reply: IncomingMessage, what: string): Promise<void> {
  if (reply.statusCode !== undefined && reply.statusCode < 300) return;
  const chunks: Buffer[] = [];
  for await (const chunk of reply as AsyncIterable<Buffer>) chunks.push(chunk);
  throw new Error(
    `${what}: HTTP ${reply.statusCode ?? '?'} ${Buffer.concat(chunks).toString().slice(0, 300)}`,
  );
}

export async function createBucket(target: S3Target, bucket: string): Promise<void> {
  const reply = await send(target, 'PUT', bucket, '', { 'content-length': '0' }, null);
  if (reply.statusCode === 409) {
    reply.resume();
    return;
  }
  await expectOk(reply, `create bucket ${bucket}`);
  reply.resume();
}

/**
 * PUTs `length` bytes from `body`; returns the ETag without quotes. Unsigned payload unless the body's
 * SHA-256 (hex) is given, which the server then verifies as the bytes arrive.
 */
export async function putObject(
  target: S3Target,
  bucket: string,
  key: string,
  body: Readable,
  length: number,
  payloadSha256?: string,
): Promise<string> {
  const reply = await send(
    target,
    'PUT',
    bucket,
    key,
    { 'content-length': String(length), 'content-type': 'application/octet-stream' },
    body,
    payloadSha256,
  );
  await expectOk(reply, `PUT ${key}`);
  reply.resume();
  return String(reply.headers.etag ?? '').replace(/"/g, '');
}

/** GETs an object and drains it; returns its size (and MD5 when asked). */
export async function getObject(
  target: S3Target,
  bucket: string,
  key: string,
  options: { md5?: boolean } = {},
): Promise<{ bytes: number; md5: string | null }> {
  const reply = await send(target, 'GET', bucket, key, {}, null);
  await expectOk(reply, `GET ${key}`);
  let bytes = 0;
  const hash: Hash | null = options.md5 ? createHash('md5') : null;
  for await (const chunk of reply as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hash?.update(chunk);
  }
  return { bytes, md5: hash?.digest('hex') ?? null };
}

export function closeClient(): void {
  agent.destroy();
}
