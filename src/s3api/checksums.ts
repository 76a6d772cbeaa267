/**
 * @module s3api/checksums
 * The additional checksums of S3's flexible checksum feature (x-amz-checksum-*), computed as a body
 * streams. Current AWS SDKs send one with every upload (CRC32 by default), as a header or as an aws-chunked
 * trailer.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'sha1' | 'sha256' | 'crc64nvme';

export const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';

/** A checksum being computed over a stream. */
export interface RunningChecksum {
  update(data: Buffer): void;
  /** The value as S3 transmits it: base64 of the big-endian digest. */
  digestBase64(): string;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78: not in node:zlib.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}

function uint32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

function crcChecksum(step: (data: Uint8Array, previous: number) => number): RunningChecksum {
  let value = 0;
  return {
    update: (data) => {
      value = step(data, value);
    },
    digestBase64: () => uint32Base64(value),
  };
}

function hashChecksum(algorithm: 'sha1' | 'sha256'): RunningChecksum {
  const hash = createHash(algorithm);
  return { update: (data) => hash.update(data), digestBase64: () => hash.digest('base64') };
}

/** The algorithm named by a header such as `x-amz-checksum-crc32`, or null. */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | null {
  if (!headerName.startsWith(CHECKSUM_HEADER_PREFIX)) return null;
  const name = headerName.slice(CHECKSUM_HEADER_PREFIX.length);
  return name === 'crc32' || name === 'crc32c' || name === 'sha1' || name === 'sha256' || name === 'crc64nvme'
    ? name
    : null;
}

/** A running checksum, or null for an algorithm this endpoint accepts without verifying (CRC-64/NVME). */
export function runningChecksum(algorithm: ChecksumAlgorithm): RunningChecksum | null {
  switch (algorithm) {
    case 'crc32':
      return crcChecksum((data, previous) => crc32(data, previous));
    case 'crc32c':
      return crcChecksum(crc32c);
    case 'sha1':
    case 'sha256':
      return hashChecksum(algorithm);
    case 'crc64nvme':
      return null;
  }
}
