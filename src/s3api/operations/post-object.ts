/**
 * @module s3api/operations/post-object
 * POST Object: a browser form upload (multipart/form-data) authorised by a signed POST policy, reported as
 * `ObjectCreated:Post`. The fields before `file` are read (a few KiB), the policy is checked, then the file
 * streams into the store through a size check (`content-length-range`), so memory stays flat. The answer
 * follows the form: `success_action_redirect` (303 to it with bucket, key and etag), or
 * `success_action_status` 200, 201 (an XML PostResponse) or 204 (the default).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import { contentHeadersFrom, metadataFromHeaders } from '../object-headers.js';
import { verifyPostPolicy } from '../post-policy.js';
import { requireBucket, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { element, sendEmpty, sendXml, xmlDocument } from '../s3-response.js';
import { validateObjectKey } from '../../storage/index.js';

/** Fields before the file: names, policy, signature, metadata; S3 itself caps a form at 20 KB of them. */
const MAX_FIELD_BYTES = 20 * 1024;
const MAX_FIELDS = 200;

interface FormStart {
  fields: Map<string, string>;
  file: { stream: Readable; filename: string; mimeType: string } | null;
}

/** Reads the form up to its file (fields after the file are ignored, as S3 does). */
function readForm(context: S3Context): Promise<FormStart> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: context.req.headers,
        limits: { fieldSize: MAX_FIELD_BYTES, fields: MAX_FIELDS, files: 1, fieldNameSize: 200 },
      });
    } catch (error) {
      reject(
        s3Failure('MalformedPOSTRequest', `the body is not multipart/form-data: ${(error as Error).message}`),
      );
      return;
    }
    let settled = false;
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        settled = true;
        reject(
          s3Failure('MalformedPOSTRequest', `form field ${name} is longer than ${MAX_FIELD_BYTES} bytes`),
        );
        return;
      }
      if (!settled) fields.set(name.toLowerCase(), value);
    });
    parser.on('file', (name, stream, info) => {
      if (settled || name.toLowerCase() !== 'file') {
        stream.resume();
        return;
      }
      settled = true;
      resolve({ fields, file: { stream, filename: info.filename ?? '', mimeType: info.mimeType } });
    });
    parser.on('error', (error: Error) => {
      if (!settled) reject(s3Failure('MalformedPOSTRequest', `the form cannot be read: ${error.message}`));
    });
    parser.on('close', () => {
      if (!settled) resolve({ fields, file: null });
    });
    context.openBody().pipe(parser);
  });
}

/** Passes the bytes through, failing past `max` or, at the end, below `min`. */
function sizeCheck(min: number, max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > max) {
        callback(
          s3Failure('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${max} bytes)`),
        );
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(
        seen < min
          ? s3Failure(
              'EntityTooSmall',
              `Your proposed upload is smaller than the minimum allowed size (${min} bytes)`,
            )
          : null,
      );
    },
  });
}

export async function postObject(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  const { fields, file } = await readForm(context);
  if (file === null) throw s3Failure('InvalidArgument', 'POST requires exactly one file upload per request.');
  try {
    const template = fields.get('key');
    if (template === undefined)
      throw s3Failure('InvalidArgument', 'Bucket POST must contain a field named key.');
    const key = template.replaceAll('${filename}', file.filename);
    validateObjectKey(key);
    fields.set('key', key);
    const accepted = verifyPostPolicy(fields, bucket, context.resolveSecret, Date.now());
    await context.authorizeAs(accepted, bucket, key);

    // The form's fields stand for the headers of a PUT: Content-Type, Cache-Control, x-amz-meta-*, ...
    const headers: IncomingHttpHeaders = Object.fromEntries(fields);
    const limit = Math.min(accepted.sizeRange?.max ?? context.maxObjectBytes, context.maxObjectBytes);
    const body = file.stream.pipe(sizeCheck(accepted.sizeRange?.min ?? 0, limit));
    file.stream.on('error', (error) => body.destroy(error));
    const info = await context.store.put(bucket, key, body, {
      contentType: fields.get('content-type') ?? file.mimeType,
      metadata: metadataFromHeaders(headers),
      contentHeaders: contentHeadersFrom(headers),
      principal: accepted.principal,
      sourceIp: context.sourceIp,
      eventName: 'ObjectCreated:Post',
    });
    answer(context, fields, bucket, key, info.etag);
  } finally {
    // Whatever is left of the body (a refused upload) is read and dropped, so the answer can go out.
    file.stream.resume();
  }
}

function answer(
  context: S3Context,
  fields: Map<string, string>,
  bucket: string,
  key: string,
  etag: string,
): void {
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  const quoted = `"${etag}"`;
  if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
    const target = new URL(redirect);
    target.searchParams.set('bucket', bucket);
    target.searchParams.set('key', key);
    target.searchParams.set('etag', quoted);
    sendEmpty(context.res, 303, { Location: target.toString(), ETag: quoted });
    return;
  }
  const location = `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const status = fields.get('success_action_status');
  if (status === '201') {
    const xml = xmlDocument(
      'PostResponse',
      element('Location', location) +
        element('Bucket', bucket) +
        element('Key', key) +
        element('ETag', quoted),
    );
    sendXml(context.res, 201, xml, { ETag: quoted, Location: location });
    return;
  }
  sendEmpty(context.res, status === '200' ? 200 : 204, { ETag: quoted, Location: location });
}
