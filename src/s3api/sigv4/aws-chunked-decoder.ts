/**
 * @module s3api/sigv4/aws-chunked-decoder
 * Decodes an `aws-chunked` body (`hex-size[;chunk-signature=sig]\r\n data \r\n ... 0...\r\n trailers \r\n`)
 * as it streams, verifying each chunk's signature in the chain that starts from the request's seed
 * signature, the trailer signature, and the trailing checksum. Data is passed on as it arrives; a failure
 * errors the stream before its end, so a consumer that commits only at the end never keeps a forged body.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { s3Failure } from '../s3-errors.js';
import { checksumAlgorithmOf, runningChecksum, type RunningChecksum } from '../checksums.js';
import type { SigningContext } from './authenticate.js';
import { chunkStringToSign, sign, signaturesEqual, trailerStringToSign } from './signing.js';

export interface AwsChunkedOptions {
  /** Present when chunks carry signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
  signing: SigningContext | null;
  /** Whether trailing headers follow the last chunk, and whether they are signed. */
  trailer: boolean;
  /** The trailer named by the `x-amz-trailer` header (e.g. `x-amz-checksum-crc32`), if any. */
  declaredTrailer: string | null;
  /** x-amz-decoded-content-length. */
  decodedLength: number;
}

// A chunk header or trailer line longer than this is not a chunk header or trailer line.
const MAX_LINE_BYTES = 4096;

type State = 'header' | 'data' | 'data-end' | 'trailer' | 'done';

function malformed(message: string) {
  return s3Failure('IncompleteBody', `malformed aws-chunked body: ${message}`);
}

function signatureMismatch(what: string) {
  return s3Failure(
    'SignatureDoesNotMatch',
    `The ${what} signature we calculated does not match the one you provided.`,
  );
}

/** Transform from the aws-chunked wire form to the object's bytes. */
export class AwsChunkedDecoder extends Transform {
  private state: State = 'header';
  private line: Buffer[] = [];
  private lineBytes = 0;
  private remaining = 0;
  private chunkSignature = '';
  private chunkHash: Hash | null = null;
  private previousSignature: string;
  private decoded = 0;
  private readonly trailers: Array<[string, string]> = [];
  private readonly checksum: RunningChecksum | null;

  constructor(private readonly options: AwsChunkedOptions) {
    super();
    this.previousSignature = options.signing?.seedSignature ?? '';
    const algorithm = options.declaredTrailer === null ? null : checksumAlgorithmOf(options.declaredTrailer);
    this.checksum = algorithm === null ? null : runningChecksum(algorithm);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.state !== 'done') throw malformed('the body ended before its last chunk');
      if (this.decoded !== this.options.decodedLength) {
        throw malformed(
          `decoded ${this.decoded} bytes, x-amz-decoded-content-length says ${this.options.decodedLength}`,
        );
      }
      this.verifyTrailers();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private consume(input: Buffer): void {
    let offset = 0;
    while (offset < input.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const newline = input.indexOf(0x0a, offset);
          const end = newline < 0 ? input.length : newline + 1;
          this.appendLine(input.subarray(offset, end));
          offset = end;
          if (newline >= 0) this.endLine();
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - offset);
          const data = input.subarray(offset, offset + take);
          this.chunkHash?.update(data);
          this.checksum?.update(data);
          this.decoded += take;
          if (this.decoded > this.options.decodedLength)
            throw malformed('more data than x-amz-decoded-content-length');
          this.push(data);
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) {
            this.verifyChunk();
            this.state = 'data-end';
          }
          break;
        }
        case 'data-end': {
          // The CRLF after a chunk's data, possibly split across reads.
          const newline = input.indexOf(0x0a, offset);
          const end = newline < 0 ? input.length : newline + 1;
          this.appendLine(input.subarray(offset, end));
          offset = end;
          if (newline >= 0) {
            if (this.takeLine() !== '') throw malformed('chunk data longer than its size');
            this.state = 'header';
          }
          break;
        }
        case 'done':
          throw malformed('data after the final chunk');
      }
    }
  }

  private appendLine(part: Buffer): void {
    this.lineBytes += part.length;
    if (this.lineBytes > MAX_LINE_BYTES) throw malformed('line too long');
    this.line.push(part);
  }

  /** The current line without its CRLF. */
  private takeLine(): string {
    const text = Buffer.concat(this.line).toString('latin1');
    this.line = [];
    this.lineBytes = 0;
    if (!text.endsWith('\r\n')) throw malformed('lines must end with CRLF');
    return text.slice(0, -2);
  }

  private endLine(): void {
    const text = this.takeLine();
    if (this.state === 'trailer') {
      if (text === '') {
        this.state = 'done';
        return;
      }
      const colon = text.indexOf(':');
      if (colon <= 0) throw malformed('bad trailer line');
      this.trailers.push([text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim()]);
      return;
    }
    const match = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(text);
    if (match === null) throw malformed('bad chunk header');
    const size = parseInt(match[1] ?? '', 16);
    if (this.options.signing !== null && match[2] === undefined) throw malformed('chunk without a signature');
    this.chunkSignature = match[2] ?? '';
    this.chunkHash = this.options.signing === null ? null : createHash('sha256');
    if (size === 0) {
      this.verifyChunk();
      // Without trailers the final chunk is followed by one empty line, which the trailer state reads too.
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.state = 'data';
  }

  private verifyChunk(): void {
    const signing = this.options.signing;
    if (signing === null || this.chunkHash === null) return;
    const digest = this.chunkHash.digest('hex');
    const expected = sign(
      signing.key,
      chunkStringToSign(signing.amzDate, signing.scope, this.previousSignature, digest),
    );
    if (!signaturesEqual(expected, this.chunkSignature)) throw signatureMismatch('chunk');
    this.previousSignature = expected;
    this.chunkHash = null;
  }

  private verifyTrailers(): void {
    const signing = this.options.signing;
    if (this.options.trailer && signing !== null) {
      const given = this.trailers.find(([name]) => name === 'x-amz-trailer-signature')?.[1];
      if (given === undefined) throw signatureMismatch('trailer');
      const canonical = this.trailers
        .filter(([name]) => name !== 'x-amz-trailer-signature')
        .map(([name, value]) => `${name}:${value}\n`)
        .join('');
      const expected = sign(
        signing.key,
        trailerStringToSign(signing.amzDate, signing.scope, this.previousSignature, canonical),
      );
      if (!signaturesEqual(expected, given)) throw signatureMismatch('trailer');
    }
    const declared = this.options.declaredTrailer;
    if (declared === null) return;
    const value = this.trailers.find(([name]) => name === declared)?.[1];
    if (value === undefined) throw malformed(`the trailer ${declared} announced by x-amz-trailer is missing`);
    if (this.checksum !== null && this.checksum.digestBase64() !== value) {
      throw s3Failure(
        'BadDigest',
        `The ${declared.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  }
}
