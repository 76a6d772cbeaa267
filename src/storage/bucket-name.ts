/**
 * @module storage/bucket-name
 * S3's bucket naming rules, so that a bucket created here can be mirrored to any S3-compatible service
 * and addressed virtual-host style.
 */
import { PlatformError } from '../core/index.js';

const SHAPE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// Names S3 reserves for its own features (access point aliases, object lambda, directory buckets).
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '--x-s3', '.mrap'];

/** Throws INVALID_BUCKET_NAME unless `name` follows S3's rules for general purpose buckets. */
export function validateBucketName(name: string): void {
  const fail = (reason: string): never => {
    throw new PlatformError(
      'INVALID_BUCKET_NAME',
      `invalid bucket name "${String(name).slice(0, 80)}": ${reason}`,
      {
        details: { reason },
      },
    );
  };
  if (typeof name !== 'string') fail('not a string');
  if (name.length < 3 || name.length > 63) fail('must be 3 to 63 characters long');
  if (!SHAPE.test(name)) {
    fail('only lower-case letters, digits, "." and "-", starting and ending with a letter or digit');
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) fail('adjacent "." and "-"');
  if (IP_ADDRESS.test(name)) fail('must not look like an IP address');
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) fail('reserved prefix');
  if (RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix))) fail('reserved suffix');
}
