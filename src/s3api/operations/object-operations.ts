/**
 * @module s3api/operations/object-operations
 * PutObject, GetObject, HeadObject, DeleteObject. Bodies stream both ways: memory does not grow with the
 * size of an object.
 */
import { pipeline } from 'node:stream/promises';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ByteRange, ObjectConditions, ObjectInfo } from '../../storage/index.js';
import {
  conditionsFrom,
  contentHeadersFrom,
  contentMd5,
  metadataFromHeaders,
  objectHeaders,
  parseRangeHeader,
  preconditionStatus,
  resolveRangeSpec,
} from '../object-headers.js';
import { declaredObjectLength } from '../request-body.js';
import { requireKey, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { sendEmpty } from '../s3-response.js';

export async function putObject(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const { headers } = context.req;
  const length = declaredObjectLength(headers, context.auth);
  if (length === null && headers['transfer-encoding'] === undefined) {
    throw s3Failure('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  // Refused before a byte of the body is read.
  if (length !== null && length > context.maxObjectBytes) {
    throw s3Failure(
      'EntityTooLarge',
      `Your proposed upload exceeds the maximum allowed size of ${context.maxObjectBytes} bytes`,
      {
        size: length,
      },
    );
  }
  const expectedMd5 = contentMd5(headers);
  const metadata = metadataFromHeaders(headers);
  await context.store.headBucket(bucket);

  const info = await context.store.put(bucket, key, context.openBody(), {
    contentType: headers['content-type'] ?? '',
    metadata,
    contentHeaders: contentHeadersFrom(headers),
    conditions: writeConditions(headers),
    ...(expectedMd5 === undefined ? {} : { expectedMd5 }),
    ...(length === null ? {} : { expectedSize: length }),
    principal: context.auth.principal,
    sourceIp: context.sourceIp,
  });
  sendEmpty(context.res, 200, { ETag: `"${info.etag}"` });
}

/** S3's conditional writes: If-Match and If-None-Match (`*`: only if absent); dates do not apply. */
export function writeConditions(headers: IncomingHttpHeaders): ObjectConditions {
  const { ifMatch, ifNoneMatch } = conditionsFrom(headers, '');
  return {
    ...(ifMatch === undefined ? {} : { ifMatch }),
    ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }),
  };
}

// The response-* parameters of a signed GET override these reply headers.
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/**
 * Resolves Range and conditional headers against the object's current description. Returns the range to
 * serve (null: the whole object), or answers the request itself (304, 412, 416) and returns undefined.
 */
function planRead(context: S3Context, info: ObjectInfo): { range: ByteRange | null } | undefined {
  const precondition = preconditionStatus(context.req.headers, info);
  if (precondition === 304) {
    sendEmpty(context.res, 304, {
      ETag: `"${info.etag}"`,
      'Last-Modified': new Date(info.lastModifiedMs).toUTCString(),
    });
    return undefined;
  }
  if (precondition === 412)
    throw s3Failure('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  const spec = parseRangeHeader(context.req.headers.range);
  if (spec === null) return { range: null };
  const range = resolveRangeSpec(spec, info.size);
  if (range === null) {
    throw s3Failure('InvalidRange', 'The requested range is not satisfiable', { size: info.size });
  }
  return { range };
}

function replyHeaders(context: S3Context, info: ObjectInfo, range: ByteRange | null): Record<string, string> {
  const headers = objectHeaders(info);
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = context.params.get(param);
    if (value !== undefined) headers[header] = value;
  }
  if (range === null) {
    headers['Content-Length'] = String(info.size);
  } else {
    headers['Content-Length'] = String(range.end - range.start + 1);
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${info.size}`;
  }
  return headers;
}

export async function getObject(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  // Only a Range needs the size first; a plain GET is one lookup.
  let range: ByteRange | null = null;
  if (parseRangeHeader(context.req.headers.range) !== null || hasPreconditions(context)) {
    const plan = planRead(context, await context.store.head(bucket, key));
    if (plan === undefined) return;
    range = plan.range;
  }
  const result = await context.store.get(bucket, key, range ?? undefined);
  const { res } = context;
  res.writeHead(range === null ? 200 : 206, replyHeaders(context, result.info, result.range));
  try {
    if (result.readAt === undefined) {
      await pipeline(result.body, res);
    } else {
      const first = result.range?.start ?? 0;
      const end = result.range === null ? result.info.size : result.range.end + 1;
      await sendFileBytes(res, result.readAt, first, end);
      result.body.destroy();
    }
  } catch (error) {
    // The client went away or the file failed mid-reply: the status is sent, so the connection is cut.
    result.body.destroy();
    res.destroy();
    context.logger.debug({ err: error, bucket, key }, 'GetObject reply interrupted');
  }
}

// Two buffers of this size take turns: one is read from the file while the other goes out on the socket.
const SEND_BUFFER_BYTES = 1024 * 1024;

/**
 * Sends bytes [start, end) of a local file through two reused buffers: the next chunk is read while the
 * previous one is written, and a buffer is read into again only once the socket has taken all of it. No
 * buffer is allocated per chunk, so serving a large object creates no garbage.
 */
async function sendFileBytes(
  res: ServerResponse,
  readAt: (buffer: Buffer, length: number, position: number) => Promise<number>,
  start: number,
  end: number,
): Promise<void> {
  const buffers = [Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES), Buffer.allocUnsafeSlow(SEND_BUFFER_BYTES)];
  const closed = new Promise<never>((_, reject) => {
    res.once('close', () => reject(new Error('the connection closed before the reply ended')));
  });
  closed.catch(() => undefined);
  let sending: Promise<void> | null = null;
  let position = start;
  for (let turn = 0; position < end; turn++) {
    const buffer = buffers[turn % 2] as Buffer;
    const read = await readAt(buffer, Math.min(SEND_BUFFER_BYTES, end - position), position);
    if (read === 0) throw new Error(`the object's file ended at byte ${position}, before ${end}`);
    position += read;
    // The other buffer's write must be done before this one is handed out (and that one read into again).
    await Promise.race([sending, closed]);
    sending = new Promise<void>((resolve, reject) => {
      res.write(buffer.subarray(0, read), (error) => (error ? reject(error) : resolve()));
    });
  }
  await Promise.race([sending, closed]);
  await Promise.race([new Promise<void>((resolve) => res.end(resolve)), closed]);
}

function hasPreconditions(context: S3Context): boolean {
  const headers = context.req.headers;
  return (
    headers['if-match'] !== undefined ||
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined ||
    headers['if-unmodified-since'] !== undefined
  );
}

export async function headObject(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  const info = await context.store.head(bucket, key);
  const plan = planRead(context, info);
  if (plan === undefined) return;
  context.res.writeHead(plan.range === null ? 200 : 206, replyHeaders(context, info, plan.range));
  context.res.end();
}

export async function deleteObject(context: S3Context): Promise<void> {
  const { bucket, key } = requireKey(context);
  await context.store.delete(bucket, key, { principal: context.auth.principal, sourceIp: context.sourceIp });
  sendEmpty(context.res, 204);
}
