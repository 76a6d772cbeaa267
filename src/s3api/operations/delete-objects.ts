/**
 * @module s3api/operations/delete-objects
 * DeleteObjects (POST /bucket?delete): up to 1000 keys in one XML request; `aws s3 rm --recursive` and
 * `boto3`'s `bucket.objects.delete()` use it.
 */
import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { contentMd5 } from '../object-headers.js';
import { requireBucket, type S3Context } from '../s3-context.js';
import { s3Failure, toS3Error } from '../s3-errors.js';
import { element, sendXml, xmlDocument } from '../s3-response.js';

const MAX_KEYS_PER_REQUEST = 1000;
// 1000 keys of up to 1024 bytes each, with their XML.
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  // Keys may begin or end with spaces.
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, jpath) => jpath === 'Delete.Object',
});

interface DeleteRequest {
  keys: string[];
  quiet: boolean;
}

function parseDeleteRequest(body: Buffer): DeleteRequest {
  const text = body.toString('utf8');
  // Entity declarations have no place in this document and are a known way to blow up a parser.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw s3Failure('MalformedXML', 'DTDs are not allowed');
  let parsed: unknown;
  try {
    parsed = parser.parse(text, true);
  } catch {
    throw s3Failure(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  const root = (parsed as { Delete?: unknown }).Delete;
  if (root === undefined || typeof root !== 'object' || root === null) {
    throw s3Failure(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  const { Object: objects = [], Quiet: quiet } = root as { Object?: unknown[]; Quiet?: unknown };
  if (objects.length === 0 || objects.length > MAX_KEYS_PER_REQUEST) {
    throw s3Failure('MalformedXML', `a Delete request names 1 to ${MAX_KEYS_PER_REQUEST} objects`);
  }
  const keys = objects.map((object) => {
    const key = (object as { Key?: unknown } | null)?.Key;
    if (typeof key !== 'string') throw s3Failure('MalformedXML', 'every Object needs one Key');
    return key;
  });
  return { keys, quiet: typeof quiet === 'string' && quiet.trim().toLowerCase() === 'true' };
}

export async function deleteObjects(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  const expectedMd5 = contentMd5(context.req.headers);
  const body = await context.readBody(MAX_BODY_BYTES);
  if (expectedMd5 !== undefined && createHash('md5').update(body).digest('hex') !== expectedMd5) {
    throw s3Failure('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const request = parseDeleteRequest(body);
  await context.store.headBucket(bucket);

  let reply = '';
  for (const key of request.keys) {
    try {
      await context.store.delete(bucket, key, {
        principal: context.auth.principal,
        sourceIp: context.sourceIp,
      });
      if (!request.quiet) reply += `<Deleted>${element('Key', key)}</Deleted>`;
    } catch (error) {
      const failure = toS3Error(error);
      reply += `<Error>${element('Key', key)}${element('Code', failure.code)}${element('Message', failure.message)}</Error>`;
    }
  }
  sendXml(context.res, 200, xmlDocument('DeleteResult', reply));
}
