import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlatformError } from '../../core/index.js';
import { AwsChunkedDecoder, type AwsChunkedOptions } from './aws-chunked-decoder.js';
import { signingKey } from './signing.js';
import {
  CHUNKED_EXAMPLE,
  EXAMPLE_SCOPE,
  EXAMPLE_SECRET_KEY,
  exampleChunkedBody,
  TRAILER_EXAMPLE,
} from './aws-examples.test-data.js';

const key = signingKey(EXAMPLE_SECRET_KEY, '20130524', 'us-east-1', 's3');

async function decode(body: Buffer, options: AwsChunkedOptions, pieceBytes = 1000): Promise<Buffer> {
  // Fed in small pieces so that headers, data and CRLFs straddle reads.
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += pieceBytes)
    pieces.push(body.subarray(offset, offset + pieceBytes));
  const out: Buffer[] = [];
  const decoder = new AwsChunkedDecoder(options);
  const collecting = (async () => {
    for await (const chunk of decoder as AsyncIterable<Buffer>) out.push(chunk);
  })();
  await Promise.all([pipeline(Readable.from(pieces), decoder), collecting]);
  return Buffer.concat(out);
}

function signed(example: { seedSignature: string }, trailer: string | null): AwsChunkedOptions {
  return {
    signing: { key, amzDate: '20130524T000000Z', scope: EXAMPLE_SCOPE, seedSignature: example.seedSignature },
    trailer: trailer !== null,
    declaredTrailer: trailer,
    decodedLength: 66560,
  };
}

function s3Code(error: unknown): string {
  return String(((error as PlatformError).details as { s3Code?: string }).s3Code);
}

test("AWS's documented chunked upload decodes, its chunk signatures verify", async () => {
  const body = exampleChunkedBody(CHUNKED_EXAMPLE);
  assert.equal(body.length, 66824);
  for (const pieceBytes of [1, 7, 1000, 100_000]) {
    const decoded = await decode(body, signed(CHUNKED_EXAMPLE, null), pieceBytes);
    assert.ok(decoded.equals(Buffer.alloc(66560, 'a')));
  }
});

test("AWS's documented chunked upload with a signed CRC32C trailer decodes and verifies", async () => {
  const decoded = await decode(
    exampleChunkedBody(TRAILER_EXAMPLE),
    signed(TRAILER_EXAMPLE, 'x-amz-checksum-crc32c'),
  );
  assert.equal(decoded.length, 66560);
});

test('a changed byte, signature, trailer or length fails the stream with the S3 code', async () => {
  const cases: Array<[Buffer, AwsChunkedOptions, string]> = [];
  const flipped = exampleChunkedBody(CHUNKED_EXAMPLE);
  flipped[60_000] = 0x62;
  cases.push([flipped, signed(CHUNKED_EXAMPLE, null), 'SignatureDoesNotMatch']);
  const badLast = exampleChunkedBody({
    ...CHUNKED_EXAMPLE,
    chunkSignatures: [...CHUNKED_EXAMPLE.chunkSignatures.slice(0, 2), '0'.repeat(64)],
  });
  cases.push([badLast, signed(CHUNKED_EXAMPLE, null), 'SignatureDoesNotMatch']);
  const truncated = exampleChunkedBody(CHUNKED_EXAMPLE).subarray(0, 66000);
  cases.push([truncated, signed(CHUNKED_EXAMPLE, null), 'IncompleteBody']);
  cases.push([
    exampleChunkedBody(CHUNKED_EXAMPLE),
    { ...signed(CHUNKED_EXAMPLE, null), decodedLength: 66559 },
    'IncompleteBody',
  ]);
  const forgedTrailer = exampleChunkedBody({
    ...TRAILER_EXAMPLE,
    trailer: TRAILER_EXAMPLE.trailer.replace('sOO8/Q==', 'AAAAAA=='),
  });
  cases.push([forgedTrailer, signed(TRAILER_EXAMPLE, 'x-amz-checksum-crc32c'), 'SignatureDoesNotMatch']);
  const unsignedBadChecksum = Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
  cases.push([
    unsignedBadChecksum,
    { signing: null, trailer: true, declaredTrailer: 'x-amz-checksum-crc32', decodedLength: 3 },
    'BadDigest',
  ]);
  for (const [body, options, code] of cases) {
    await assert.rejects(decode(body, options), (error: unknown) => s3Code(error) === code, code);
  }
});

test('an unsigned trailer body decodes and its CRC32 verifies', async () => {
  const body = Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n');
  const options = { signing: null, trailer: true, declaredTrailer: 'x-amz-checksum-crc32', decodedLength: 3 };
  assert.equal((await decode(body, options, 2)).toString(), 'abc');
});
