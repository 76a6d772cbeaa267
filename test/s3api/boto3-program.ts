/**
 * @module test/s3api/boto3-program
 * The boto3 program the boto3 test runs (`python3 -c SCRIPT endpoint`); prints one JSON document.
 */
export const BOTO3_SCRIPT = String.raw`
import json, sys, urllib.error, urllib.request
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
s3 = boto3.client('s3', endpoint_url=endpoint, config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
out = {}

def code_of(call):
    try:
        call()
        return None
    except ClientError as error:
        return [error.response['Error']['Code'], error.response['ResponseMetadata']['HTTPStatusCode']]

s3.create_bucket(Bucket='py-bucket')
for i in range(25):
    s3.put_object(Bucket='py-bucket', Key='data/%03d.txt' % i, Body=('item %d' % i).encode(), Metadata={'index': str(i)})
odd = 'data/sub dir/\u00e9 \u00fc \u00df+&=?#%.txt'
s3.put_object(Bucket='py-bucket', Key=odd, Body=b'odd name', ContentType='text/plain')

got = s3.get_object(Bucket='py-bucket', Key='data/007.txt')
out['get'] = got['Body'].read().decode()
out['metadata'] = got['Metadata']
out['range'] = s3.get_object(Bucket='py-bucket', Key='data/007.txt', Range='bytes=0-3')['Body'].read().decode()
out['odd'] = s3.get_object(Bucket='py-bucket', Key=odd)['Body'].read().decode()

keys, pages = [], 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='py-bucket', Prefix='data/', PaginationConfig={'PageSize': 4}):
    pages += 1
    keys += [o['Key'] for o in page.get('Contents', [])]
out['v2_keys'], out['v2_pages'] = keys, pages

v1_keys, v1_prefixes = [], []
for page in s3.get_paginator('list_objects').paginate(Bucket='py-bucket', Prefix='data/', Delimiter='/', PaginationConfig={'PageSize': 5}):
    v1_keys += [o['Key'] for o in page.get('Contents', [])]
    v1_prefixes += [p['Prefix'] for p in page.get('CommonPrefixes', [])]
out['v1_keys'], out['v1_prefixes'] = v1_keys, v1_prefixes

url = s3.generate_presigned_url('get_object', Params={'Bucket': 'py-bucket', 'Key': odd}, ExpiresIn=60)
out['presigned_get'] = direct.open(url).read().decode()
put_url = s3.generate_presigned_url('put_object', Params={'Bucket': 'py-bucket', 'Key': 'presigned/put.txt'}, ExpiresIn=60)
direct.open(urllib.request.Request(put_url, data=b'via presigned put', method='PUT')).read()
out['presigned_put'] = s3.get_object(Bucket='py-bucket', Key='presigned/put.txt')['Body'].read().decode()

import hashlib, os, tempfile
from boto3.s3.transfer import TransferConfig
big = os.urandom(12 * 1024 * 1024 + 5)
with tempfile.NamedTemporaryFile(delete=False) as handle:
    handle.write(big)
s3.upload_file(handle.name, 'py-bucket', 'multipart/big.bin', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
os.unlink(handle.name)
out['multipart_md5'] = hashlib.md5(big).hexdigest()
part_size = 5 * 1024 * 1024
digests = b''.join(hashlib.md5(big[i:i + part_size]).digest() for i in range(0, len(big), part_size))
out['multipart_etag_expected'] = '"%s-%d"' % (hashlib.md5(digests).hexdigest(), (len(big) + part_size - 1) // part_size)
out['multipart_etag'] = s3.head_object(Bucket='py-bucket', Key='multipart/big.bin')['ETag']
out['multipart_back'] = hashlib.md5(s3.get_object(Bucket='py-bucket', Key='multipart/big.bin')['Body'].read()).hexdigest()
upload = s3.create_multipart_upload(Bucket='py-bucket', Key='multipart/aborted')
s3.upload_part(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'], PartNumber=1, Body=b'x')
s3.abort_multipart_upload(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'])
out['aborted'] = code_of(lambda: s3.upload_part(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'], PartNumber=2, Body=b'y'))

# A multipart upload by hand: list_parts, list_multipart_uploads, upload_part_copy.
mp = s3.create_multipart_upload(Bucket='py-bucket', Key='multipart/manual.bin', ContentType='application/x-manual', Metadata={'by': 'hand'})
p1 = s3.upload_part_copy(Bucket='py-bucket', Key='multipart/manual.bin', UploadId=mp['UploadId'], PartNumber=1, CopySource={'Bucket': 'py-bucket', 'Key': 'multipart/big.bin'}, CopySourceRange='bytes=0-%d' % (part_size - 1))
p2 = s3.upload_part(Bucket='py-bucket', Key='multipart/manual.bin', UploadId=mp['UploadId'], PartNumber=2, Body=b'tail')
out['list_uploads'] = [u['Key'] for u in s3.list_multipart_uploads(Bucket='py-bucket').get('Uploads', [])]
out['list_parts'] = [[p['PartNumber'], p['Size'], p['ETag']] for p in s3.list_parts(Bucket='py-bucket', Key='multipart/manual.bin', UploadId=mp['UploadId'])['Parts']]
out['part_etags'] = [p1['CopyPartResult']['ETag'], p2['ETag']]
done = s3.complete_multipart_upload(Bucket='py-bucket', Key='multipart/manual.bin', UploadId=mp['UploadId'], MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1['CopyPartResult']['ETag']}, {'PartNumber': 2, 'ETag': p2['ETag']}]})
out['manual_etag'] = done['ETag']
manual = s3.head_object(Bucket='py-bucket', Key='multipart/manual.bin')
out['manual_head'] = [manual['ContentLength'], manual['ContentType'], manual['Metadata']]
out['manual_md5'] = hashlib.md5(s3.get_object(Bucket='py-bucket', Key='multipart/manual.bin')['Body'].read()).hexdigest()
out['manual_expected_md5'] = hashlib.md5(big[:part_size] + b'tail').hexdigest()

# Copies and conditional requests.
s3.put_object(Bucket='py-bucket', Key='copy/src.txt', Body=b'copy me', ContentType='text/plain', ContentDisposition='inline', Metadata={'a': '1'})
src_etag = s3.head_object(Bucket='py-bucket', Key='copy/src.txt')['ETag']
s3.copy_object(Bucket='py-bucket', Key='copy/kept.txt', CopySource={'Bucket': 'py-bucket', 'Key': 'copy/src.txt'})
kept = s3.head_object(Bucket='py-bucket', Key='copy/kept.txt')
out['copy_kept'] = [kept['ETag'] == src_etag, kept['ContentType'], kept['ContentDisposition'], kept['Metadata']]
s3.copy_object(Bucket='py-bucket', Key='copy/replaced.txt', CopySource='py-bucket/copy/src.txt', MetadataDirective='REPLACE', ContentType='text/x-new', Metadata={'b': '2'})
replaced = s3.head_object(Bucket='py-bucket', Key='copy/replaced.txt')
out['copy_replaced'] = [replaced['ContentType'], replaced.get('ContentDisposition'), replaced['Metadata']]
out['copy_if_match_wrong'] = code_of(lambda: s3.copy_object(Bucket='py-bucket', Key='copy/no.txt', CopySource='py-bucket/copy/src.txt', CopySourceIfMatch='"ffffffffffffffffffffffffffffffff"'))
out['get_if_none_match'] = code_of(lambda: s3.get_object(Bucket='py-bucket', Key='copy/src.txt', IfNoneMatch=src_etag))
out['get_if_match_wrong'] = code_of(lambda: s3.get_object(Bucket='py-bucket', Key='copy/src.txt', IfMatch='"nope"'))
# Debian's botocore predates the IfNoneMatch parameter of PutObject: the header is added (and signed) by hand.
def if_none_match(request, **kwargs):
    request.headers['If-None-Match'] = '*'
s3.meta.events.register_first('before-sign.s3.PutObject', if_none_match, unique_id='if-none-match')
out['put_if_none_match_star'] = code_of(lambda: s3.put_object(Bucket='py-bucket', Key='copy/src.txt', Body=b'x'))
s3.put_object(Bucket='py-bucket', Key='copy/fresh.txt', Body=b'only if absent')
s3.meta.events.unregister('before-sign.s3.PutObject', unique_id='if-none-match')
out['versions'] = [[v['Key'], v['VersionId'], v['IsLatest']] for v in s3.list_object_versions(Bucket='py-bucket', Prefix='copy/')['Versions']]

# Presigned PUT with a signed content type, then a presigned GET overriding the reply's content type.
typed_url = s3.generate_presigned_url('put_object', Params={'Bucket': 'py-bucket', 'Key': 'presigned/typed.csv', 'ContentType': 'text/csv'}, ExpiresIn=60)
direct.open(urllib.request.Request(typed_url, data=b'a,b', method='PUT', headers={'Content-Type': 'text/csv'})).read()
out['presigned_typed'] = s3.head_object(Bucket='py-bucket', Key='presigned/typed.csv')['ContentType']
try:
    direct.open(urllib.request.Request(typed_url, data=b'a,b', method='PUT', headers={'Content-Type': 'text/plain'})).read()
    out['presigned_wrong_type'] = None
except urllib.error.HTTPError as error:
    out['presigned_wrong_type'] = error.code
get_url = s3.generate_presigned_url('get_object', Params={'Bucket': 'py-bucket', 'Key': 'presigned/typed.csv', 'ResponseContentType': 'application/x-override'}, ExpiresIn=60)
reply = direct.open(get_url)
out['presigned_override'] = [reply.headers['Content-Type'], reply.read().decode()]

s3.delete_object(Bucket='py-bucket', Key='data/000.txt')
deleted = s3.delete_objects(Bucket='py-bucket', Delete={'Objects': [{'Key': k} for k in keys[1:11]]})
out['deleted'] = len(deleted.get('Deleted', []))
out['remaining'] = s3.list_objects_v2(Bucket='py-bucket', Prefix='data/')['KeyCount']

out['no_such_key'] = code_of(lambda: s3.get_object(Bucket='py-bucket', Key='nope'))
out['no_such_bucket'] = code_of(lambda: s3.list_objects_v2(Bucket='no-such-bucket'))
out['not_empty'] = code_of(lambda: s3.delete_bucket(Bucket='py-bucket'))
out['head_missing'] = code_of(lambda: s3.head_object(Bucket='py-bucket', Key='nope'))
print(json.dumps(out))
`;
