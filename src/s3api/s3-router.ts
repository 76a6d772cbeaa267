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
import { listObjectsV1, listObjectsV2 } from './operations/list-operations.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  uploadPart,
} from './operations/multipart-operations.js';
import { deleteObject, getObject, headObject, putObject } from './operations/object-operations.js';
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

/** The operation for a request, or a thrown NotImplemented / MethodNotAllowed. */
export function routeS3Request(
  method: string,
  hasBucket: boolean,
  hasKey: boolean,
  params: Map<string, string>,
  headers: Record<string, unknown>,
): S3Operation {
  const subResources = [...params.keys()].filter((name) => SUB_RESOURCES.has(name));
  const only = (name: string): boolean => subResources.length === 1 && subResources[0] === name;
  const none = subResources.length === 0;
  const described = `${method} ${hasKey ? 'object' : hasBucket ? 'bucket' : 'service'}${none ? '' : `?${subResources.join('&')}`}`;
  // Versioning is not supported: the "null" version is the object itself.
  const versionId = params.get('versionId');
  if (versionId !== undefined && versionId !== 'null') notImplemented('object versioning');

  if (!hasBucket) {
    if (method === 'GET') return listBuckets;
    throw s3Failure('MethodNotAllowed', `${method} is not allowed on the service`);
  }
  if (!hasKey) {
    switch (method) {
      case 'GET':
        if (only('location')) return getBucketLocation;
        if (none) return params.get('list-type') === '2' ? listObjectsV2 : listObjectsV1;
        return notImplemented(described);
      case 'HEAD':
        return headBucket;
      case 'PUT':
        return none ? createBucket : notImplemented(described);
      case 'DELETE':
        return none ? deleteBucket : notImplemented(described);
      case 'POST':
        return only('delete') ? deleteObjects : notImplemented(described);
      default:
        throw s3Failure('MethodNotAllowed', `${method} is not allowed on a bucket`);
    }
  }
  const isPart = subResources.length === 2 && params.has('partNumber') && params.has('uploadId');
  switch (method) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined)
        return notImplemented(isPart ? 'UploadPartCopy' : 'CopyObject');
      if (isPart) return uploadPart;
      return none ? putObject : notImplemented(described);
    case 'GET':
      return none ? getObject : notImplemented(described);
    case 'HEAD':
      return none ? headObject : notImplemented(described);
    case 'DELETE':
      if (only('uploadId')) return abortMultipartUpload;
      return none ? deleteObject : notImplemented(described);
    case 'POST':
      if (only('uploads')) return createMultipartUpload;
      if (only('uploadId')) return completeMultipartUpload;
      return notImplemented(described);
    default:
      throw s3Failure('MethodNotAllowed', `${method} is not allowed on an object`);
  }
}
