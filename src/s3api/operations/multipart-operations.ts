/**
 * @module s3api/operations/multipart-operations
 * CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload: what the aws cli and
 * boto3 use for files above 8 MiB. Parts wait in the staging area; completing streams them, in order, into
 * one `put` of the store, reported as ObjectCreated:CompleteMultipartUpload.
 */
import { XMLParser } from 'fast-xml-parser';
import { contentMd5, metadataFromHeaders } from '../object-headers.js';
import { declaredObjectLength } from '../request-body.js';
import { MAX_PART_NUMBER } from '../multipart-staging.js';
import { requireKey, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { element, sendEmpty, sendXml, xmlDocument } from '../s3-response.js';

/** S3's smallest part, except the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
// 10,000 parts of about 100 bytes of XML each.
const MAX_COMPLETE_BODY_BYTES = 2 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (_name, jpath) => jpath === 'CompleteMultipartUpload.Part',
});

function uploadIdOf(context: S3Context): string {
  return context.params.get('uploadId') ?? '';
}

export async function createMultipartUpload(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  await context.store.headBucket(bucket);
  const uploadId = await context.multipart.create({
    bucket,
    key,
    contentType: context.req.headers['content-type'] ?? '',
    metadata: metadataFromHeaders(context.req.headers),
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
  const partText = context.params.get('partNumber') ?? '';
  const partNumber = /^\d{1,5}$/.test(partText) ? Number(partText) : 0;
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw s3Failure(
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  }
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
        {
          partNumber: part.partNumber,
        },
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
      expectedSize: total,
      principal: context.auth.principal,
      sourceIp: context.sourceIp,
      eventName: 'ObjectCreated:CompleteMultipartUpload',
    },
  );
  await context.multipart.remove(uploadId);
  sendXml(
    context.res,
    200,
    xmlDocument(
      'CompleteMultipartUploadResult',
      element('Location', `/${bucket}/${key}`) +
        element('Bucket', bucket) +
        element('Key', key) +
        element('ETag', `"${info.etag}"`),
    ),
  );
}

export async function abortMultipartUpload(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const uploadId = uploadIdOf(context);
  await context.multipart.describe(uploadId, bucket, key);
  await context.multipart.remove(uploadId);
  sendEmpty(context.res, 204);
}
