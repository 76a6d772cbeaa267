/**
 * @module s3api/operations/copy-operations
 * CopyObject and UploadPartCopy: a PUT with `x-amz-copy-source`. CopyObject keeps the source's metadata
 * (`x-amz-metadata-directive: COPY`, the default) or takes the request's (`REPLACE`); the source's
 * conditions (`x-amz-copy-source-if-*`) are checked against the version copied and answer 412 when unmet.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { checkConditions, decodeObjectKey, validateBucketName, type ByteRange } from '../../storage/index.js';
import {
  conditionsFrom,
  contentHeadersFrom,
  metadataFromHeaders,
  parseRangeHeader,
} from '../object-headers.js';
import { percentDecodeBytes, utf8OrNull } from '../percent-encoding.js';
import { requireKey, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { element, isoDate, sendXml, xmlDocument } from '../s3-response.js';
import { partNumberOf, uploadIdOf } from './multipart-operations.js';
import { writeConditions } from './object-operations.js';

/** The object an `x-amz-copy-source` header names: `[/]bucket/key[?versionId=null]`, URL-encoded. */
export function parseCopySource(headers: IncomingHttpHeaders): { bucket: string; key: string } {
  const raw = headers['x-amz-copy-source'];
  const invalid = (message: string) => s3Failure('InvalidArgument', `Invalid copy source: ${message}`);
  if (typeof raw !== 'string' || raw === '') throw invalid('the header is empty');
  const queryAt = raw.indexOf('?');
  const path = (queryAt < 0 ? raw : raw.slice(0, queryAt)).replace(/^\//, '');
  const query = queryAt < 0 ? '' : raw.slice(queryAt + 1);
  const version = /(?:^|&)versionId=([^&]*)/.exec(query)?.[1];
  // Versioning is not kept: the only version is "null", the object itself.
  if (version !== undefined && version !== 'null') {
    throw s3Failure('NoSuchVersion', 'The specified version does not exist.');
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid('expected bucket/key');
  const bucketBytes = percentDecodeBytes(path.slice(0, slash));
  const keyBytes = percentDecodeBytes(path.slice(slash + 1));
  const bucket = bucketBytes === null ? null : utf8OrNull(bucketBytes);
  if (bucket === null || keyBytes === null) throw invalid('malformed percent-encoding');
  validateBucketName(bucket);
  return { bucket, key: decodeObjectKey(keyBytes) };
}

function metadataDirective(headers: IncomingHttpHeaders): 'copy' | 'replace' {
  const value = headers['x-amz-metadata-directive'];
  if (value === undefined || value === 'COPY') return 'copy';
  if (value === 'REPLACE') return 'replace';
  throw s3Failure('InvalidArgument', 'Unknown metadata directive.');
}

export async function copyObject(context: S3Context): Promise<void> {
  const target = requireKey(context);
  const { headers } = context.req;
  const source = parseCopySource(headers);
  await context.authorize(source.bucket, 'read');
  const directive = metadataDirective(headers);
  if (directive === 'copy' && source.bucket === target.bucket && source.key === target.key) {
    // S3's rule: copying an object onto itself must change something.
    throw s3Failure(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const info = await context.store.copy(source, target, {
    metadataDirective: directive,
    ...(directive === 'replace'
      ? {
          contentType: headers['content-type'] ?? '',
          metadata: metadataFromHeaders(headers),
          contentHeaders: contentHeadersFrom(headers),
        }
      : {}),
    sourceConditions: conditionsFrom(headers, 'x-amz-copy-source-'),
    conditions: writeConditions(headers),
    principal: context.auth.principal,
    sourceIp: context.sourceIp,
  });
  sendXml(
    context.res,
    200,
    xmlDocument(
      'CopyObjectResult',
      element('LastModified', isoDate(info.lastModifiedMs)) + element('ETag', `"${info.etag}"`),
    ),
  );
}

export async function uploadPartCopy(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const { headers } = context.req;
  const uploadId = uploadIdOf(context);
  const partNumber = partNumberOf(context);
  const source = parseCopySource(headers);
  await context.authorize(source.bucket, 'read');
  await context.multipart.describe(uploadId, bucket, key);
  const info = await context.store.head(source.bucket, source.key);
  const rangeHeader = headers['x-amz-copy-source-range'];
  let range: ByteRange | undefined;
  if (typeof rangeHeader === 'string') {
    // Unlike Range, a copy range must be exact: first-last, inside the object.
    const spec = parseRangeHeader(rangeHeader);
    if (spec === null || 'suffix' in spec || spec.end === null || spec.end >= info.size) {
      throw s3Failure(
        'InvalidArgument',
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      );
    }
    range = { start: spec.start, end: spec.end };
  }
  const read = await context.store.get(source.bucket, source.key, range);
  // The source's conditions are checked against the version being read.
  const conditions = conditionsFrom(headers, 'x-amz-copy-source-');
  try {
    checkConditions(conditions, read.info, source);
  } catch (error) {
    read.body.destroy();
    throw error;
  }
  const part = await context.multipart.writePart(uploadId, partNumber, read.body);
  sendXml(
    context.res,
    200,
    xmlDocument(
      'CopyPartResult',
      element('LastModified', isoDate(part.lastModifiedMs)) + element('ETag', `"${part.etag}"`),
    ),
  );
}
