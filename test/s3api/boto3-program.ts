/**
 * @module test/s3api/boto3-program
 * The boto3 program the boto3 test runs (`python3 -c SCRIPT endpoint`); prints one JSON document.
 */
export const BOTO3_SCRIPT = String.raw`
import json, sys, urllib.request
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
out['multipart_back'] = hashlib.md5(s3.get_object(Bucket='py-bucket', Key='multipart/big.bin')['Body'].read()).hexdigest()
upload = s3.create_multipart_upload(Bucket='py-bucket', Key='multipart/aborted')
s3.upload_part(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'], PartNumber=1, Body=b'x')
s3.abort_multipart_upload(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'])
out['aborted'] = code_of(lambda: s3.upload_part(Bucket='py-bucket', Key='multipart/aborted', UploadId=upload['UploadId'], PartNumber=2, Body=b'y'))

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
