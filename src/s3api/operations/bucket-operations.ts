/**
 * @module s3api/operations/bucket-operations
 * ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.
 */
import { mayAccess } from '../bucket-access.js';
import { requireBucket, type S3Context } from '../s3-context.js';
import { element, escapeXml, isoDate, sendEmpty, sendXml, xmlDocument } from '../s3-response.js';

// A CreateBucketConfiguration document is a few hundred bytes.
const MAX_CREATE_BUCKET_BODY = 64 * 1024;

export async function listBuckets(context: S3Context): Promise<void> {
  const { auth } = context;
  const caller = { principal: auth.principal, admin: auth.admin };
  // A user sees the buckets they may read: theirs, public ones, restricted ones that list them.
  const buckets = (await context.store.listBuckets()).filter((bucket) => mayAccess(bucket, caller, 'read'));
  const owner = auth.principal;
  const items = buckets
    .map(
      (bucket) =>
        `<Bucket>${element('Name', bucket.name)}${element('CreationDate', isoDate(bucket.createdMs))}</Bucket>`,
    )
    .join('');
  sendXml(
    context.res,
    200,
    xmlDocument(
      'ListAllMyBucketsResult',
      `<Owner>${element('ID', owner)}${element('DisplayName', owner)}</Owner><Buckets>${items}</Buckets>`,
    ),
  );
}

export async function createBucket(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  // The location constraint (if any) is read and verified but not used: this store has one region.
  await context.readBody(MAX_CREATE_BUCKET_BODY);
  await context.store.createBucket(bucket, { owner: context.auth.principal });
  sendEmpty(context.res, 200, { Location: `/${bucket}` });
}

export async function deleteBucket(context: S3Context): Promise<void> {
  await context.store.deleteBucket(requireBucket(context));
  sendEmpty(context.res, 204);
}

export async function headBucket(context: S3Context): Promise<void> {
  await context.store.headBucket(requireBucket(context));
  sendEmpty(context.res, 200, { 'x-amz-bucket-region': context.region });
}

export async function getBucketLocation(context: S3Context): Promise<void> {
  await context.store.headBucket(requireBucket(context));
  // S3 answers an empty constraint for us-east-1, and clients expect exactly that.
  const location = context.region === 'us-east-1' ? '' : context.region;
  sendXml(context.res, 200, xmlDocument('LocationConstraint', escapeXml(location)));
}
