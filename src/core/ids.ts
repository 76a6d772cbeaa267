/**
 * @module core/ids
 * Identifiers and secrets.
 */
import { randomBytes, randomUUID, timingSafeEqual, createHash } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}

/** A 64-hex service token, as OSCAR issues. */
export function newServiceToken(): string {
  return randomBytes(32).toString('hex');
}

export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** An S3-style access key id: 20 upper-case alphanumerics. */
export function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const raw = randomBytes(20);
  let out = '';
  for (const byte of raw) out += alphabet[byte % alphabet.length];
  return out;
}

/** Constant-time string comparison (no early exit on the first differing byte). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** OSCAR's job name shape: `<service>-<uuid>`, the service name cut to 16 characters when long. */
export function newJobId(serviceName: string): string {
  const prefix = serviceName.length >= 25 ? serviceName.slice(0, 16) : serviceName;
  return `${prefix}-${randomUUID()}`;
}
