/**
 * @module s3api/object-headers
 * The HTTP headers of objects: Range requests, conditional requests, the headers describing an object, and
 * the user metadata and Content-MD5 of uploads.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ByteRange, ContentHeaders, ObjectConditions, ObjectInfo } from '../storage/index.js';
import { s3Failure } from './s3-errors.js';

/** A parsed `Range: bytes=...` header: `a-b`, `a-` (to the end) or `-n` (the last n bytes). */
export type RangeSpec = { start: number; end: number | null } | { suffix: number };

/**
 * Parses a Range header. Headers that are not a single byte range are ignored (null), as HTTP allows and as
 * S3 does for multiple ranges.
 */
export function parseRangeHeader(value: string | undefined): RangeSpec | null {
  if (value === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (match === null) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  const end = last === '' ? null : Number(last);
  if (end !== null && end < start) return null;
  return { start, end };
}

/** The inclusive range a spec selects in an object of `size` bytes, or null when it is unsatisfiable. */
export function resolveRangeSpec(spec: RangeSpec, size: number): ByteRange | null {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.start >= size) return null;
  return { start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) };
}

function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || value.replace(/^"|"$/g, '') === etag;
  });
}

/** The status a conditional GET/HEAD must answer instead of the object (304, 412), or null. */
export function preconditionStatus(headers: IncomingHttpHeaders, info: ObjectInfo): 304 | 412 | null {
  // HTTP dates have second precision.
  const modifiedSeconds = Math.floor(info.lastModifiedMs / 1000);
  const since = (name: string): number | null => {
    const value = headers[name];
    if (typeof value !== 'string') return null;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
  };
  const ifMatch = headers['if-match'];
  if (typeof ifMatch === 'string' && !etagMatches(ifMatch, info.etag)) return 412;
  const unmodifiedSince = since('if-unmodified-since');
  if (typeof ifMatch !== 'string' && unmodifiedSince !== null && modifiedSeconds > unmodifiedSince)
    return 412;
  const ifNoneMatch = headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && etagMatches(ifNoneMatch, info.etag)) return 304;
  const modifiedSince = since('if-modified-since');
  if (typeof ifNoneMatch !== 'string' && modifiedSince !== null && modifiedSeconds <= modifiedSince)
    return 304;
  return null;
}

// The representation headers S3 stores with an object, by HTTP name.
const CONTENT_HEADERS = {
  cacheControl: 'Cache-Control',
  contentDisposition: 'Content-Disposition',
  contentEncoding: 'Content-Encoding',
  contentLanguage: 'Content-Language',
  expires: 'Expires',
} as const satisfies Record<keyof ContentHeaders, string>;

/** The representation headers of an upload (Cache-Control, Content-Disposition, ...), to store. */
export function contentHeadersFrom(headers: IncomingHttpHeaders): ContentHeaders {
  const stored: ContentHeaders = {};
  for (const [field, name] of Object.entries(CONTENT_HEADERS) as Array<[keyof ContentHeaders, string]>) {
    let value = headers[name.toLowerCase()];
    if (Array.isArray(value)) value = value.join(', ');
    if (typeof value !== 'string' || value === '') continue;
    // aws-chunked is how the body travelled, not how the object is encoded.
    if (field === 'contentEncoding') {
      value = value
        .split(',')
        .map((coding) => coding.trim())
        .filter((coding) => coding !== '' && coding.toLowerCase() !== 'aws-chunked')
        .join(', ');
      if (value === '') continue;
    }
    stored[field] = value;
  }
  return stored;
}

/** Headers describing an object (GET and HEAD replies). */
export function objectHeaders(info: ObjectInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': info.contentType,
    ETag: `"${info.etag}"`,
    'Last-Modified': new Date(info.lastModifiedMs).toUTCString(),
    'Accept-Ranges': 'bytes',
  };
  for (const [field, value] of Object.entries(info.contentHeaders ?? {})) {
    const name = CONTENT_HEADERS[field as keyof ContentHeaders] as string | undefined;
    if (name !== undefined && typeof value === 'string') headers[name] = value;
  }
  for (const [name, value] of Object.entries(info.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/**
 * The conditional headers of a write (`prefix` '') or of a copy's source (`x-amz-copy-source-`). An
 * unparsable date is ignored, as HTTP requires.
 */
export function conditionsFrom(
  headers: IncomingHttpHeaders,
  prefix: '' | 'x-amz-copy-source-',
): ObjectConditions {
  const text = (name: string): string | undefined => {
    const value = headers[`${prefix}${name}`];
    return typeof value === 'string' ? value : undefined;
  };
  const date = (name: string): number | undefined => {
    const value = text(name);
    const ms = value === undefined ? Number.NaN : Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const conditions: ObjectConditions = {};
  const ifMatch = text('if-match');
  const ifNoneMatch = text('if-none-match');
  const ifModifiedSinceMs = date('if-modified-since');
  const ifUnmodifiedSinceMs = date('if-unmodified-since');
  if (ifMatch !== undefined) conditions.ifMatch = ifMatch;
  if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch;
  if (ifModifiedSinceMs !== undefined) conditions.ifModifiedSinceMs = ifModifiedSinceMs;
  if (ifUnmodifiedSinceMs !== undefined) conditions.ifUnmodifiedSinceMs = ifUnmodifiedSinceMs;
  return conditions;
}

// S3's limit on user metadata: 2 KB of names and values.
const MAX_METADATA_BYTES = 2048;

/** User metadata from `x-amz-meta-*` headers (names lower-case, without the prefix). */
export function metadataFromHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const short = name.slice('x-amz-meta-'.length);
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw s3Failure(
      'MetadataTooLarge',
      `Your metadata headers exceed the maximum allowed metadata size (${MAX_METADATA_BYTES} bytes)`,
    );
  }
  return metadata;
}

/** Hex MD5 from a Content-MD5 header (base64 of 16 bytes), or undefined when absent. */
export function contentMd5(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-md5'];
  if (typeof value !== 'string') return undefined;
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== value.trim()) {
    throw s3Failure('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  return bytes.toString('hex');
}
