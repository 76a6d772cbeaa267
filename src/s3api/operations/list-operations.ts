/**
 * @module s3api/operations/list-operations
 * ListObjectsV2 and ListObjects (v1). The continuation token is the last key or common prefix returned,
 * encoded so that clients treat it as opaque.
 */
import type { ListResult, ObjectInfo } from '../../storage/index.js';
import { MAX_LIST_KEYS } from '../../storage/index.js';
import { awsEncode, utf8OrNull } from '../percent-encoding.js';
import { requireBucket, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { element, isoDate, sendXml, xmlDocument } from '../s3-response.js';

interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  urlEncoded: boolean;
}

function parseCommon(context: S3Context): ListParams {
  const { params } = context;
  const maxKeysText = params.get('max-keys');
  let maxKeys = MAX_LIST_KEYS;
  if (maxKeysText !== undefined) {
    if (!/^\d{1,10}$/.test(maxKeysText))
      throw s3Failure('InvalidArgument', 'max-keys must be a non-negative integer');
    maxKeys = Math.min(Number(maxKeysText), MAX_LIST_KEYS);
  }
  const encodingType = params.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw s3Failure('InvalidArgument', 'Invalid Encoding Method specified in Request');
  }
  return {
    prefix: params.get('prefix') ?? '',
    delimiter: params.get('delimiter') ?? '',
    maxKeys,
    urlEncoded: encodingType === 'url',
  };
}

/** With encoding-type=url, S3 URL-encodes keys and prefixes in the reply (and keeps `/`). */
function encoder(list: ListParams): (value: string) => string {
  return list.urlEncoded ? (value) => awsEncode(value, true) : (value) => value;
}

function contents(items: ObjectInfo[], encode: (value: string) => string, owner: string | null): string {
  return items
    .map(
      (item) =>
        `<Contents>${element('Key', encode(item.key))}${element('LastModified', isoDate(item.lastModifiedMs))}` +
        `${element('ETag', `"${item.etag}"`)}${element('Size', item.size)}` +
        (owner === null ? '' : `<Owner>${element('ID', owner)}${element('DisplayName', owner)}</Owner>`) +
        `${element('StorageClass', 'STANDARD')}</Contents>`,
    )
    .join('');
}

function commonPrefixes(result: ListResult, encode: (value: string) => string): string {
  return result.commonPrefixes
    .map((prefix) => `<CommonPrefixes>${element('Prefix', encode(prefix))}</CommonPrefixes>`)
    .join('');
}

function optional(name: string, value: string): string {
  return value === '' ? '' : element(name, value);
}

function encodeToken(startAfter: string): string {
  return Buffer.from(startAfter, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const decoded = /^[A-Za-z0-9_-]*$/.test(token) ? utf8OrNull(Buffer.from(token, 'base64url')) : null;
  if (decoded === null || decoded === '') {
    throw s3Failure('InvalidArgument', 'The continuation token provided is incorrect');
  }
  return decoded;
}

export async function listObjectsV2(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  const list = parseCommon(context);
  const token = context.params.get('continuation-token');
  const startAfterParam = context.params.get('start-after') ?? '';
  const startAfter = token === undefined ? startAfterParam : decodeToken(token);
  const result = await context.store.list(bucket, {
    prefix: list.prefix,
    delimiter: list.delimiter,
    maxKeys: list.maxKeys,
    ...(startAfter === '' ? {} : { startAfter }),
  });
  const encode = encoder(list);
  const owner = context.params.get('fetch-owner') === 'true' ? context.auth.principal : null;
  const body =
    element('Name', bucket) +
    element('Prefix', encode(list.prefix)) +
    optional('StartAfter', encode(startAfterParam)) +
    (token === undefined ? '' : element('ContinuationToken', token)) +
    (result.nextStartAfter === null
      ? ''
      : element('NextContinuationToken', encodeToken(result.nextStartAfter))) +
    element('KeyCount', result.objects.length + result.commonPrefixes.length) +
    element('MaxKeys', list.maxKeys) +
    optional('Delimiter', encode(list.delimiter)) +
    (list.urlEncoded ? element('EncodingType', 'url') : '') +
    element('IsTruncated', result.isTruncated) +
    contents(result.objects, encode, owner) +
    commonPrefixes(result, encode);
  sendXml(context.res, 200, xmlDocument('ListBucketResult', body));
}

export async function listObjectsV1(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  const list = parseCommon(context);
  const marker = context.params.get('marker') ?? '';
  const result = await context.store.list(bucket, {
    prefix: list.prefix,
    delimiter: list.delimiter,
    maxKeys: list.maxKeys,
    ...(marker === '' ? {} : { startAfter: marker }),
  });
  const encode = encoder(list);
  // S3 sends NextMarker only with a delimiter; without one, clients continue from the last key.
  const nextMarker = list.delimiter !== '' && result.nextStartAfter !== null ? result.nextStartAfter : '';
  const body =
    element('Name', bucket) +
    element('Prefix', encode(list.prefix)) +
    element('Marker', encode(marker)) +
    optional('NextMarker', encode(nextMarker)) +
    element('MaxKeys', list.maxKeys) +
    optional('Delimiter', encode(list.delimiter)) +
    (list.urlEncoded ? element('EncodingType', 'url') : '') +
    element('IsTruncated', result.isTruncated) +
    contents(result.objects, encode, context.auth.principal) +
    commonPrefixes(result, encode);
  sendXml(context.res, 200, xmlDocument('ListBucketResult', body));
}

/**
 * ListObjectVersions: this store keeps no versions, so each object is listed once, as its current ("null")
 * version; what rclone, `aws s3api list-object-versions` and version-aware tools need to see.
 */
export async function listObjectVersions(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  const list = parseCommon(context);
  const keyMarker = context.params.get('key-marker') ?? '';
  const result = await context.store.list(bucket, {
    prefix: list.prefix,
    delimiter: list.delimiter,
    maxKeys: list.maxKeys,
    ...(keyMarker === '' ? {} : { startAfter: keyMarker }),
  });
  const encode = encoder(list);
  const owner = context.auth.principal;
  const versions = result.objects
    .map(
      (item) =>
        `<Version>${element('Key', encode(item.key))}${element('VersionId', 'null')}${element('IsLatest', true)}` +
        `${element('LastModified', isoDate(item.lastModifiedMs))}${element('ETag', `"${item.etag}"`)}` +
        `${element('Size', item.size)}<Owner>${element('ID', owner)}${element('DisplayName', owner)}</Owner>` +
        `${element('StorageClass', 'STANDARD')}</Version>`,
    )
    .join('');
  const next =
    result.nextStartAfter === null
      ? ''
      : element('NextKeyMarker', encode(result.nextStartAfter)) + element('NextVersionIdMarker', 'null');
  const body =
    element('Name', bucket) +
    element('Prefix', encode(list.prefix)) +
    element('KeyMarker', encode(keyMarker)) +
    element('VersionIdMarker', context.params.get('version-id-marker') ?? '') +
    next +
    element('MaxKeys', list.maxKeys) +
    optional('Delimiter', encode(list.delimiter)) +
    (list.urlEncoded ? element('EncodingType', 'url') : '') +
    element('IsTruncated', result.isTruncated) +
    versions +
    commonPrefixes(result, encode);
  sendXml(context.res, 200, xmlDocument('ListVersionsResult', body));
}
