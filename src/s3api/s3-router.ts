/**
 * @module s3api/s3-router
 * Which operation a request is: method, whether it names a bucket and a key, and S3's sub-resource query
 * parameters. Parameters that are not sub-resources (the SDK's `x-id`, list options) do not change the
 * operation. Anything not implemented answers 501 NotImplemented, never a wrong operation.
 */
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  headBucket,
  listBuckets,
} from './operations/bucket-operations.js';
import { deleteObjects } from './operations/delete-objects.js';
import type { BucketAccess } from './bucket-access.js';
import { copyObject, uploadPartCopy } from './operations/copy-operations.js';
import { listObjectsV1, listObjectsV2, listObjectVersions } from './operations/list-operations.js';
import { listMultipartUploads } from './operations/list-uploads.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
} from './operations/multipart-operations.js';
import { deleteObject, getObject, headObject, putObject } from './operations/object-operations.js';
import { postObject } from './operations/post-object.js';
import type { S3Operation } from './s3-context.js';
import { s3Failure } from './s3-errors.js';

// Query parameters that select another resource than the bucket or object itself.
const SUB_RESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versioning',
  'versions',
  'website',
]);

function notImplemented(what: string): never {
  throw s3Failure('NotImplemented', `${what} is not implemented by this S3 endpoint`);
}

/**
 * What a route needs of its caller: a right on the addressed bucket, or (creating a bucket, listing
 * buckets) only to be authenticated; `self`: the operation authenticates the request itself (a form
 * upload's signed policy).
 */
export type RouteAccess = BucketAccess | 'authenticated' | 'self';

export interface S3Route {
  operation: S3Operation;
  access: RouteAccess;
}

const route = (operation: S3Operation, access: RouteAccess): S3Route => ({ operation, access });

/** The operation for a request and the access it needs, or a thrown NotImplemented / MethodNotAllowed. */
export function routeS3Request(
  method: string,
  hasBucket: boolean,
  hasKey: boolean,
  params: Map<string, string>,
  headers: Record<string, unknown>,
): S3Route {
  const subResources = [...params.keys()].filter((name) => SUB_RESOURCES.has(name));
  const only = (name: string): boolean => subResources.length === 1 && subResources[0] === name;
  const none = subResources.length === 0;
  const described = `${method} ${hasKey ? 'object' : hasBucket ? 'bucket' : 'service'}${none ? '' : `?${subResources.join('&')}`}`;
  // Versioning is not supported: the "null" version is the object itself.
  const versionId = params.get('versionId');
  if (versionId !== undefined && versionId !== 'null') notImplemented('object versioning');

  if (!hasBucket) {
    if (method === 'GET') return route(listBuckets, 'authenticated');
    throw s3Failure('MethodNotAllowed', `${method} is not allowed on the service`);
  }
  if (!hasKey) {
    switch (method) {
      case 'GET':
        if (only('location')) return route(getBucketLocation, 'read');
        if (only('versions')) return route(listObjectVersions, 'read');
        if (only('uploads')) return route(listMultipartUploads, 'write');
        if (none) return route(params.get('list-type') === '2' ? listObjectsV2 : listObjectsV1, 'read');
        return notImplemented(described);
      case 'HEAD':
        return route(headBucket, 'read');
      case 'PUT':
        return none ? route(createBucket, 'authenticated') : notImplemented(described);
      case 'DELETE':
        return none ? route(deleteBucket, 'owner') : notImplemented(described);
      case 'POST':
        if (only('delete')) return route(deleteObjects, 'write');
        if (none && isForm(headers)) return route(postObject, 'self');
        return notImplemented(described);
      default:
        throw s3Failure('MethodNotAllowed', `${method} is not allowed on a bucket`);
    }
  }
  const isPart = subResources.length === 2 && params.has('partNumber') && params.has('uploadId');
  switch (method) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined) {
        if (isPart) return route(uploadPartCopy, 'write');
        return none ? route(copyObject, 'write') : notImplemented(described);
      }
      if (isPart) return route(uploadPart, 'write');
      return none ? route(putObject, 'write') : notImplemented(described);
    case 'GET':
      if (only('uploadId')) return route(listParts, 'write');
      return none ? route(getObject, 'read') : notImplemented(described);
    case 'HEAD':
      return none ? route(headObject, 'read') : notImplemented(described);
    case 'DELETE':
      if (only('uploadId')) return route(abortMultipartUpload, 'write');
      return none ? route(deleteObject, 'write') : notImplemented(described);
    case 'POST':
      if (only('uploads')) return route(createMultipartUpload, 'write');
      if (only('uploadId')) return route(completeMultipartUpload, 'write');
      return notImplemented(described);
    default:
      throw s3Failure('MethodNotAllowed', `${method} is not allowed on an object`);
  }
}

function isForm(headers: Record<string, unknown>): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('multipart/form-data');
}
