/**
 * @module s3api/operations/list-uploads
 * ListMultipartUploads: the uploads started in a bucket and neither completed nor aborted, by key then start
 * time, with S3's prefix, delimiter and key/upload-id markers.
 */
import { compareKeys } from '../../storage/index.js';
import { requireBucket, type S3Context } from '../s3-context.js';
import { s3Failure } from '../s3-errors.js';
import { element, isoDate, sendXml, xmlDocument } from '../s3-response.js';

const MAX_UPLOADS = 1000;

export async function listMultipartUploads(context: S3Context): Promise<void> {
  const bucket = requireBucket(context);
  await context.store.headBucket(bucket);
  const { params } = context;
  const prefix = params.get('prefix') ?? '';
  const delimiter = params.get('delimiter') ?? '';
  const keyMarker = params.get('key-marker') ?? '';
  const uploadIdMarker = params.get('upload-id-marker') ?? '';
  const maxText = params.get('max-uploads');
  if (maxText !== undefined && !/^\d{1,10}$/.test(maxText)) {
    throw s3Failure('InvalidArgument', 'max-uploads must be a non-negative integer');
  }
  const maxUploads = Math.min(maxText === undefined ? MAX_UPLOADS : Number(maxText), MAX_UPLOADS);

  const all = (await context.multipart.list(bucket)).filter((upload) => {
    if (!upload.key.startsWith(prefix)) return false;
    if (keyMarker === '') return true;
    const order = compareKeys(upload.key, keyMarker);
    // With an upload-id marker, later uploads of the marker's key come too.
    return order > 0 || (order === 0 && uploadIdMarker !== '' && upload.uploadId > uploadIdMarker);
  });
  let uploads = '';
  const prefixes: string[] = [];
  let count = 0;
  let truncated = false;
  let last: { key: string; uploadId: string } | null = null;
  for (const upload of all) {
    const at = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length);
    const common = at < 0 ? null : upload.key.slice(0, at + delimiter.length);
    if (common !== null && prefixes.includes(common)) continue;
    if (count === maxUploads) {
      truncated = true;
      break;
    }
    count++;
    last = { key: upload.key, uploadId: upload.uploadId };
    if (common !== null) {
      prefixes.push(common);
      continue;
    }
    const who = element('ID', upload.principal) + element('DisplayName', upload.principal);
    uploads +=
      `<Upload>${element('Key', upload.key)}${element('UploadId', upload.uploadId)}` +
      `<Initiator>${who}</Initiator><Owner>${who}</Owner>${element('StorageClass', 'STANDARD')}` +
      `${element('Initiated', isoDate(upload.createdMs))}</Upload>`;
  }
  const body =
    element('Bucket', bucket) +
    element('KeyMarker', keyMarker) +
    element('UploadIdMarker', uploadIdMarker) +
    (truncated && last !== null
      ? element('NextKeyMarker', last.key) + element('NextUploadIdMarker', last.uploadId)
      : '') +
    element('Prefix', prefix) +
    (delimiter === '' ? '' : element('Delimiter', delimiter)) +
    element('MaxUploads', maxUploads) +
    element('IsTruncated', truncated) +
    uploads +
    prefixes.map((common) => `<CommonPrefixes>${element('Prefix', common)}</CommonPrefixes>`).join('');
  sendXml(context.res, 200, xmlDocument('ListMultipartUploadsResult', body));
}
