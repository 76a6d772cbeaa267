/**
 * @module s3api/operations/multipart-operations
 * CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts: what the aws
 * cli, boto3 and rclone use for large files. Parts wait in the staging area; completing streams them, in
 * order, into one `put` of the store, reported as ObjectCreated:CompleteMultipartUpload, with S3's ETag of
 * a multipart object (the MD5 of the parts' MD5s, a dash, the number of parts).
 */
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { contentHeadersFrom, contentMd5, metadataFromHeaders } from '../object-headers.js';
import { declaredObjectLength } from '../request-body.js';
import { MAX_PART_NUMBER } from '../multipart-staging.js';
import { requireKey, type S3Context } from '../s3-context.js';
import { s3Failure, toS3Error } from '../s3-errors.js';
import { element, isoDate, sendEmpty, sendXml, xmlDocument } from '../s3-response.js';
import { writeConditions } from './object-operations.js';

/** S3's smallest part, except the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
// 10,000 parts of about 100 bytes of XML each.
const MAX_COMPLETE_BODY_BYTES = 2 * 1024 * 1024;
const MAX_LISTED_PARTS = 1000;
// While a large upload is assembled, S3 keeps the connection alive with whitespace; clients wait for it.
const KEEP_ALIVE_MS = 10_000;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  // Go's encoder (rclone, MinIO's client) writes the ETag's quotes as `&#34;`.
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, jpath) => jpath === 'CompleteMultipartUpload.Part',
});

export function uploadIdOf(context: S3Context): string {
  return context.params.get('uploadId') ?? '';
}

/** The part number of an UploadPart(Copy) request, checked. */
export function partNumberOf(context: S3Context): number {
  const partText = context.params.get('partNumber') ?? '';
  const partNumber = /^\d{1,5}$/.test(partText) ? Number(partText) : 0;
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw s3Failure(
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  }
  return partNumber;
}

/** S3's ETag of a multipart object: MD5 of the concatenated binary MD5s of its parts, `-`, their count. */
export function multipartEtag(partEtags: string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(etag, 'hex'));
  return `${hash.digest('hex')}-${partEtags.length}`;
}

function owner(id: string): string {
  return element('ID', id) + element('DisplayName', id);
}

export async function createMultipartUpload(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  await context.store.headBucket(bucket);
  const uploadId = await context.multipart.create({
    bucket,
    key,
    contentType: context.req.headers['content-type'] ?? '',
    metadata: metadataFromHeaders(context.req.headers),
    contentHeaders: contentHeadersFrom(context.req.headers),
    principal: context.auth.principal,
    createdMs: Date.now(),
  });
  sendXml(
    context.res,
    200,
    xmlDocument(
      'InitiateMultipartUploadResult',
      element('Bucket', bucket) + element('Key', key) + element('UploadId', uploadId),
    ),
  );
}

export async function uploadPart(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const uploadId = uploadIdOf(context);
  const partNumber = partNumberOf(context);
  const length = declaredObjectLength(context.req.headers, context.auth);
  if (length === null)
    throw s3Failure('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  if (length > context.maxObjectBytes) {
    throw s3Failure(
      'EntityTooLarge',
      `Your proposed upload exceeds the maximum allowed size of ${context.maxObjectBytes} bytes`,
    );
  }
  const expectedMd5 = contentMd5(context.req.headers);
  await context.multipart.describe(uploadId, bucket, key);
  const part = await context.multipart.writePart(uploadId, partNumber, context.openBody());
  if (part.size !== length)
    throw s3Failure(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
    );
  if (expectedMd5 !== undefined && expectedMd5 !== part.etag) {
    throw s3Failure('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  sendEmpty(context.res, 200, { ETag: `"${part.etag}"` });
}

function parseCompleteRequest(body: Buffer): Array<{ partNumber: number; etag: string }> {
  const text = body.toString('utf8');
  const malformed = () =>
    s3Failure(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformed();
  let parsed: unknown;
  try {
    parsed = parser.parse(text, true);
  } catch {
    throw malformed();
  }
  const parts = (parsed as { CompleteMultipartUpload?: { Part?: unknown[] } }).CompleteMultipartUpload?.Part;
  if (!Array.isArray(parts) || parts.length === 0) throw malformed();
  return parts.map((part) => {
    const { PartNumber, ETag } = (part ?? {}) as { PartNumber?: unknown; ETag?: unknown };
    if (typeof PartNumber !== 'string' || !/^\d+$/.test(PartNumber.trim()) || typeof ETag !== 'string')
      throw malformed();
    return { partNumber: Number(PartNumber.trim()), etag: ETag.trim().replace(/^"|"$/g, '').toLowerCase() };
  });
}

function completeResult(bucket: string, key: string, etag: string): string {
  return xmlDocument(
    'CompleteMultipartUploadResult',
    element('Location', `/${bucket}/${key}`) +
      element('Bucket', bucket) +
      element('Key', key) +
      element('ETag', `"${etag}"`),
  );
}

/**
 * Whether the object already is this upload's result: the multipart ETag of exactly these parts, written
 * after the upload began.
 */
export async function completedEarlier(
  context: Pick<S3Context, 'store' | 'bucket' | 'key'>,
  uploadCreatedMs: number,
  etag: string,
): Promise<boolean> {
  if (context.bucket === null || context.key === null) return false;
  try {
    const current = await context.store.head(context.bucket, context.key);
    return current.etag === etag && current.lastModifiedMs >= uploadCreatedMs;
  } catch {
    return false;
  }
}

export async function completeMultipartUpload(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const uploadId = uploadIdOf(context);
  const description = await context.multipart.describe(uploadId, bucket, key);
  const requested = parseCompleteRequest(await context.readBody(MAX_COMPLETE_BODY_BYTES));
  const staged = await context.multipart.parts(uploadId);
  // Checked in S3's order: the list's order, then each part, then the sizes.
  requested.forEach((part, index) => {
    const previous = requested[index - 1];
    if (previous !== undefined && part.partNumber <= previous.partNumber) {
      throw s3Failure('InvalidPartOrder', 'The list of parts was not in ascending order.');
    }
  });
  const sizes = requested.map((part) => {
    const found = staged.get(part.partNumber);
    if (found === undefined || found.etag !== part.etag) {
      throw s3Failure(
        'InvalidPart',
        'One or more of the specified parts could not be found or its entity tag did not match.',
        { partNumber: part.partNumber },
      );
    }
    return found.size;
  });
  if (sizes.slice(0, -1).some((size) => size < MIN_PART_BYTES)) {
    throw s3Failure(
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
    );
  }
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const etag = multipartEtag(requested.map((part) => part.etag));
  if (await completedEarlier(context, description.createdMs, etag)) {
    // The server stopped between storing the object and removing the parts (the reply never went out): the
    // client's retry is answered as the first completion would have been, without storing (and triggering)
    // the object a second time.
    await context.multipart.remove(uploadId);
    sendXml(context.res, 200, completeResult(bucket, key, etag));
    return;
  }

  // A large upload takes a while to assemble: past KEEP_ALIVE_MS the reply starts (200) and whitespace keeps
  // the connection alive; a failure after that is an Error document in the 200's body, as in S3.
  const { res } = context;
  const keepAlive = setInterval(() => {
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.write('<?xml version="1.0" encoding="UTF-8"?>\n');
    } else {
      res.write(' ');
    }
  }, KEEP_ALIVE_MS);
  let result: string;
  try {
    const info = await context.store.put(
      bucket,
      key,
      context.multipart.concatenate(
        uploadId,
        requested.map((part) => part.partNumber),
      ),
      {
        contentType: description.contentType,
        metadata: description.metadata,
        contentHeaders: description.contentHeaders ?? {},
        etag,
        conditions: writeConditions(context.req.headers),
        expectedSize: total,
        principal: context.auth.principal,
        sourceIp: context.sourceIp,
        eventName: 'ObjectCreated:CompleteMultipartUpload',
      },
    );
    await context.multipart.remove(uploadId);
    result = completeResult(bucket, key, info.etag);
  } catch (error) {
    if (!res.headersSent) throw error;
    const failure = toS3Error(error);
    context.logger.debug({ err: error, bucket, key }, 'CompleteMultipartUpload failed');
    result = `<Error>${element('Code', failure.code)}${element('Message', failure.message)}${element('RequestId', context.requestId)}</Error>`;
  } finally {
    clearInterval(keepAlive);
  }
  if (!res.headersSent) {
    sendXml(res, 200, result);
  } else {
    res.end(result.replace(/^<\?xml[^>]*>\n/, ''));
  }
}

export async function abortMultipartUpload(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const uploadId = uploadIdOf(context);
  await context.multipart.describe(uploadId, bucket, key);
  await context.multipart.remove(uploadId);
  sendEmpty(context.res, 204);
}

function boundedInteger(context: S3Context, name: string, fallback: number, max: number): number {
  const text = context.params.get(name);
  if (text === undefined) return fallback;
  if (!/^\d{1,10}$/.test(text)) throw s3Failure('InvalidArgument', `${name} must be a non-negative integer`);
  return Math.min(Number(text), max);
}

export async function listParts(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const uploadId = uploadIdOf(context);
  const description = await context.multipart.describe(uploadId, bucket, key);
  const maxParts = boundedInteger(context, 'max-parts', MAX_LISTED_PARTS, MAX_LISTED_PARTS);
  const marker = boundedInteger(context, 'part-number-marker', 0, MAX_PART_NUMBER);
  const all = [...(await context.multipart.parts(uploadId)).values()]
    .filter((part) => part.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const last = page.at(-1)?.partNumber ?? marker;
  const parts = page
    .map(
      (part) =>
        `<Part>${element('PartNumber', part.partNumber)}${element('LastModified', isoDate(part.lastModifiedMs ?? description.createdMs))}` +
        `${element('ETag', `"${part.etag}"`)}${element('Size', part.size)}</Part>`,
    )
    .join('');
  sendXml(
    context.res,
    200,
    xmlDocument(
      'ListPartsResult',
      element('Bucket', bucket) +
        element('Key', key) +
        element('UploadId', uploadId) +
        `<Initiator>${owner(description.principal)}</Initiator><Owner>${owner(description.principal)}</Owner>` +
        element('StorageClass', 'STANDARD') +
        element('PartNumberMarker', marker) +
        element('NextPartNumberMarker', last) +
        element('MaxParts', maxParts) +
        element('IsTruncated', truncated) +
        parts,
    ),
  );
}
