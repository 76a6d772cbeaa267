import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { readAll } from '../storage/object-store.contract.js';
import { presignUrl } from '../../src/s3api/index.js';
import {
  ACCESS_KEY_ID,
  PRINCIPAL,
  REGION,
  SECRET_KEY,
  startS3Fixture,
  type S3Fixture,
} from './s3-fixture.js';
import { rawRequest, sha256, signedChunkedBody, signHeaders } from './raw-client.js';

/** Files under the object root, excluding nothing: what a refused request must not have added to. */
async function storedFiles(fixture: S3Fixture): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(fixture.dir + '/objects', { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).length;
}

describe('S3 endpoint protocol (raw HTTP requests)', () => {
  let fixture: S3Fixture;
  let port: number;
  before(async () => {
    fixture = await startS3Fixture({ maxObjectBytes: 1024 * 1024 });
    port = fixture.port;
    await fixture.store.createBucket('proto');
  });
  after(async () => {
    await fixture.close();
  });

  test('traversal keys in any encoding are 400 InvalidArgument and store nothing', async () => {
    const before = await storedFiles(fixture);
    const paths = [
      '/proto/../x',
      '/proto/a/../../x',
      '/proto/%2e%2e/x',
      '/proto/%2E%2E%2Fx',
      '/proto/a/%2e%2e/%2e%2e/x',
      '/proto/..%5cx',
      '/proto/%c0%ae%c0%ae/x',
      '/proto/%e0%80%ae%e0%80%ae/x',
      '/proto/nul%00byte',
      '/proto/%ed%a0%80',
      '/proto//abs',
    ];
    for (const path of paths) {
      const reply = await rawRequest(port, { method: 'PUT', path, body: Buffer.from('evil') });
      assert.equal(reply.status, 400, path);
      assert.equal(reply.code, 'InvalidArgument', path);
    }
    assert.equal(await storedFiles(fixture), before);
    assert.deepEqual((await fixture.store.list('proto')).objects, []);
    // A double-encoded dot is just a key with a percent sign in it: S3 decodes once.
    const literal = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/%252e%252e/x',
      body: Buffer.from('ok'),
    });
    assert.equal(literal.status, 200);
    assert.equal((await fixture.store.head('proto', '%2e%2e/x')).size, 2);
    await fixture.store.delete('proto', '%2e%2e/x');
  });

  test('errors are S3 XML with code, message, resource and request id; HEAD errors have no body', async () => {
    const missing = await rawRequest(port, { method: 'GET', path: '/proto/nothing' });
    assert.equal(missing.status, 404);
    const xml = missing.body.toString();
    assert.match(
      xml,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message><Resource>\/proto\/nothing<\/Resource><RequestId>[0-9A-F]{16}<\/RequestId><\/Error>$/,
    );
    assert.equal(missing.headers['x-amz-request-id'], /<RequestId>(\w+)</.exec(xml)?.[1]);
    const head = await rawRequest(port, { method: 'HEAD', path: '/proto/nothing' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    assert.equal((await rawRequest(port, { method: 'GET', path: '/no-such-bucket/k' })).code, 'NoSuchBucket');
    assert.equal((await rawRequest(port, { method: 'PUT', path: '/Bad_Bucket' })).code, 'InvalidBucketName');
    assert.equal((await rawRequest(port, { method: 'PUT', path: '/proto' })).code, 'BucketAlreadyOwnedByYou');
    const unsupported = await rawRequest(port, {
      method: 'GET',
      path: '/proto/big',
      query: [['tagging', '']],
    });
    assert.equal(unsupported.status, 501);
    assert.equal(unsupported.code, 'NotImplemented');
    assert.equal(
      (await rawRequest(port, { method: 'GET', path: '/proto', query: [['acl', '']] })).status,
      501,
    );
    const missingSource = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/copy',
      headers: { 'x-amz-copy-source': '/proto/no-such-source' },
    });
    assert.deepEqual([missingSource.status, missingSource.code], [404, 'NoSuchKey']);
    assert.equal((await rawRequest(port, { method: 'PATCH', path: '/proto/k' })).code, 'MethodNotAllowed');
  });

  test('a body that does not match x-amz-content-sha256 or Content-MD5 is refused and not stored', async () => {
    const body = Buffer.from('payload');
    const wrongHash = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/hash',
      body,
      payloadHash: sha256('other'),
    });
    assert.equal(wrongHash.status, 400);
    assert.equal(wrongHash.code, 'XAmzContentSHA256Mismatch');
    const wrongMd5 = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/hash',
      body,
      headers: { 'content-md5': createHash('md5').update('other').digest('base64') },
    });
    assert.equal(wrongMd5.code, 'BadDigest');
    const badMd5 = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/hash',
      body,
      headers: { 'content-md5': 'nope' },
    });
    assert.equal(badMd5.code, 'InvalidDigest');
    const wrongCrc = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/hash',
      body,
      headers: { 'x-amz-checksum-crc32': 'AAAAAA==' },
    });
    assert.equal(wrongCrc.code, 'BadDigest');
    assert.equal((await rawRequest(port, { method: 'HEAD', path: '/proto/hash' })).status, 404);
    const right = await rawRequest(port, {
      method: 'PUT',
      path: '/proto/hash',
      body,
      headers: { 'content-md5': createHash('md5').update(body).digest('base64'), 'x-amz-meta-Color': 'blue' },
    });
    assert.equal(right.status, 200);
    assert.equal(right.headers.etag, `"${createHash('md5').update(body).digest('hex')}"`);
    assert.deepEqual((await fixture.store.head('proto', 'hash')).metadata, { color: 'blue' });
  });

  test('signed aws-chunked uploads verify every chunk; a forged chunk stores nothing', async () => {
    const chunks = [Buffer.alloc(70_000, 'x'), Buffer.alloc(65_536, 'y'), Buffer.from('tail')];
    const decoded = Buffer.concat(chunks);
    const put = async (key: string, tamper: (wire: Buffer) => void) => {
      // The wire length does not depend on the signatures, and Content-Length is signed with the rest.
      const wireLength = signedChunkedBody(chunks, '0'.repeat(64), '20000101T000000Z').length;
      const nowMs = Date.now();
      const options = {
        method: 'PUT',
        path: `/proto/${key}`,
        payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        nowMs,
        headers: {
          'content-encoding': 'aws-chunked',
          'content-length': String(wireLength),
          'x-amz-decoded-content-length': String(decoded.length),
        },
      };
      const signed = signHeaders(port, options);
      const wire = signedChunkedBody(chunks, signed.signature, signed.amzDate);
      tamper(wire);
      return rawRequest(port, { ...options, body: wire });
    };
    const ok = await put('chunked', () => undefined);
    assert.equal(ok.status, 200);
    assert.ok((await readAll((await fixture.store.get('proto', 'chunked')).body)).equals(decoded));
    const forged = await put('forged', (wire) => {
      wire.writeUInt8(wire.readUInt8(100_000) ^ 1, 100_000);
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.code, 'SignatureDoesNotMatch');
    assert.equal((await rawRequest(port, { method: 'HEAD', path: '/proto/forged' })).status, 404);
  });

  test('an upload over the size limit is EntityTooLarge before its body is read', async () => {
    const declared = 2 * 1024 * 1024;
    const options = {
      method: 'PUT',
      path: '/proto/huge',
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': String(declared), expect: '100-continue' },
    };
    const { headers } = signHeaders(port, options);
    // The client waits for 100 Continue before sending: the refusal must come instead of it.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
        socket.write(`PUT /proto/huge HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1.1 400 /);
    assert.doesNotMatch(reply, /100 Continue/);
    assert.match(reply, /<Code>EntityTooLarge<\/Code>/);
    assert.equal((await rawRequest(port, { method: 'HEAD', path: '/proto/huge' })).status, 404);
  });

  test('an upload cut short (Content-Length not reached, connection closed) stores nothing', async () => {
    const before = await storedFiles(fixture);
    const options = {
      method: 'PUT',
      path: '/proto/short',
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': '100000' },
    };
    const { headers } = signHeaders(port, options);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
        socket.write(`PUT /proto/short HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
        socket.write(Buffer.alloc(50_000, 'z'), () => setTimeout(() => socket.destroy(), 50));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // The server notices the close asynchronously.
    for (let i = 0; i < 50 && (await storedFiles(fixture)) !== before; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal((await rawRequest(port, { method: 'HEAD', path: '/proto/short' })).status, 404);
    assert.equal(await storedFiles(fixture), before);
  });

  test('ranges: a-b, a-, -n give 206 with Content-Range; unsatisfiable is 416; conditional GETs', async () => {
    await fixture.store.put('proto', 'range', Buffer.from('0123456789'));
    const get = (range: string, extra: Record<string, string> = {}) =>
      rawRequest(port, { method: 'GET', path: '/proto/range', headers: { range, ...extra } });
    const cases: Array<[string, string, string]> = [
      ['bytes=2-4', '234', 'bytes 2-4/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=5-100', '56789', 'bytes 5-9/10'],
      ['bytes=-100', '0123456789', 'bytes 0-9/10'],
    ];
    for (const [range, body, contentRange] of cases) {
      const reply = await get(range);
      assert.equal(reply.status, 206, range);
      assert.equal(reply.body.toString(), body, range);
      assert.equal(reply.headers['content-range'], contentRange, range);
    }
    const unsatisfiable = await get('bytes=10-20');
    assert.equal(unsatisfiable.status, 416);
    assert.equal(unsatisfiable.code, 'InvalidRange');
    assert.equal((await get('bytes=0-1,3-4')).status, 200);
    const etag = String((await get('bytes=0-0')).headers.etag);
    assert.equal((await get('', { 'if-none-match': etag })).status, 304);
    assert.equal((await get('', { 'if-match': '"0000"' })).code, 'PreconditionFailed');
  });

  test('listing v1 and v2: delimiters, markers, continuation tokens, encoding-type=url', async () => {
    await fixture.store.createBucket('listing');
    for (const key of ['a/1', 'a/2', 'b+c d', 'e/f/g', 'z'])
      await fixture.store.put('listing', key, Buffer.from(key));
    const v2 = await rawRequest(port, {
      method: 'GET',
      path: '/listing',
      query: [
        ['list-type', '2'],
        ['delimiter', '/'],
        ['max-keys', '2'],
        ['encoding-type', 'url'],
      ],
    });
    const text = v2.body.toString();
    assert.match(text, /<CommonPrefixes><Prefix>a\/<\/Prefix><\/CommonPrefixes>/);
    assert.match(text, /<Key>b%2Bc%20d<\/Key>/);
    assert.match(text, /<IsTruncated>true<\/IsTruncated>/);
    const token = /<NextContinuationToken>([^<]+)</.exec(text)?.[1] ?? '';
    const page2 = await rawRequest(port, {
      method: 'GET',
      path: '/listing',
      query: [
        ['list-type', '2'],
        ['delimiter', '/'],
        ['continuation-token', token],
      ],
    });
    assert.match(page2.body.toString(), /<Prefix>e\/<\/Prefix>.*|<Key>z<\/Key>/s);
    assert.match(page2.body.toString(), /<KeyCount>2<\/KeyCount>/);
    const v1 = await rawRequest(port, { method: 'GET', path: '/listing', query: [['marker', 'b+c d']] });
    assert.deepEqual(
      [...v1.body.toString().matchAll(/<Key>([^<]+)</g)].map((m) => m[1]),
      ['e/f/g', 'z'],
    );
    const badToken = await rawRequest(port, {
      method: 'GET',
      path: '/listing',
      query: [
        ['list-type', '2'],
        ['continuation-token', '!!'],
      ],
    });
    assert.equal(badToken.code, 'InvalidArgument');
    const location = await rawRequest(port, { method: 'GET', path: '/listing', query: [['location', '']] });
    assert.match(location.body.toString(), /<LocationConstraint xmlns="[^"]+"><\/LocationConstraint>/);
  });

  test('DeleteObjects reports each key; malformed XML is MalformedXML', async () => {
    await fixture.store.createBucket('bulk');
    await fixture.store.put('bulk', 'one', Buffer.from('1'));
    await fixture.store.put('bulk', 'two & <three>', Buffer.from('2'));
    const xml = Buffer.from(
      '<?xml version="1.0"?><Delete><Object><Key>one</Key></Object><Object><Key>two &amp; &lt;three&gt;</Key></Object><Object><Key>../evil</Key></Object></Delete>',
    );
    const md5 = createHash('md5').update(xml).digest('base64');
    const reply = await rawRequest(port, {
      method: 'POST',
      path: '/bulk',
      query: [['delete', '']],
      body: xml,
      headers: { 'content-md5': md5 },
    });
    assert.equal(reply.status, 200);
    const text = reply.body.toString();
    assert.match(
      text,
      /<Deleted><Key>one<\/Key><\/Deleted><Deleted><Key>two &amp; &lt;three&gt;<\/Key><\/Deleted>/,
    );
    assert.match(text, /<Error><Key>..\/evil<\/Key><Code>InvalidArgument<\/Code>/);
    assert.deepEqual((await fixture.store.list('bulk')).objects, []);
    const bad = await rawRequest(port, {
      method: 'POST',
      path: '/bulk',
      query: [['delete', '']],
      body: Buffer.from('<Delete><Object>'),
    });
    assert.equal(bad.code, 'MalformedXML');
    const dtd = await rawRequest(port, {
      method: 'POST',
      path: '/bulk',
      query: [['delete', '']],
      body: Buffer.from('<!DOCTYPE x [<!ENTITY a "b">]><Delete><Object><Key>&a;</Key></Object></Delete>'),
    });
    assert.equal(dtd.code, 'MalformedXML');
  });

  test('multipart: parts in order with matching ETags complete; wrong order, unknown parts, small parts and bad ids are refused', async () => {
    const start = await rawRequest(port, { method: 'POST', path: '/proto/multi', query: [['uploads', '']] });
    const uploadId = /<UploadId>([^<]+)</.exec(start.body.toString())?.[1] ?? '';
    assert.match(uploadId, /^[0-9a-f]{32}$/);
    const part = async (partNumber: number, body: string) => {
      const reply = await rawRequest(port, {
        method: 'PUT',
        path: '/proto/multi',
        query: [
          ['partNumber', String(partNumber)],
          ['uploadId', uploadId],
        ],
        body: Buffer.from(body),
      });
      assert.equal(reply.status, 200);
      return String(reply.headers.etag);
    };
    const [etag1, etag2] = [await part(1, 'first'), await part(2, 'second')];
    const complete = (parts: Array<[number, string]>, id = uploadId) =>
      rawRequest(port, {
        method: 'POST',
        path: '/proto/multi',
        query: [['uploadId', id]],
        body: Buffer.from(
          `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
        ),
      });
    assert.equal(
      (
        await complete([
          [2, etag2],
          [1, etag1],
        ])
      ).code,
      'InvalidPartOrder',
    );
    assert.equal(
      (
        await complete([
          [1, etag1],
          [3, etag2],
        ])
      ).code,
      'InvalidPart',
    );
    assert.equal((await complete([[1, etag2]])).code, 'InvalidPart');
    assert.equal(
      (
        await complete([
          [1, etag1],
          [2, etag2],
        ])
      ).code,
      'EntityTooSmall',
    );
    assert.equal((await complete([[1, etag1]], '../../etc')).code, 'NoSuchUpload');
    assert.equal((await rawRequest(port, { method: 'HEAD', path: '/proto/multi' })).status, 404);
    const done = await complete([[1, etag1]]);
    assert.equal(done.status, 200);
    assert.match(done.body.toString(), /<CompleteMultipartUploadResult xmlns="[^"]+"><Location>/);
    assert.equal((await readAll((await fixture.store.get('proto', 'multi')).body)).toString(), 'first');
    assert.equal((await complete([[1, etag1]])).code, 'NoSuchUpload');
    const other = await rawRequest(port, { method: 'POST', path: '/proto/other', query: [['uploads', '']] });
    const otherId = /<UploadId>([^<]+)</.exec(other.body.toString())?.[1] ?? '';
    assert.equal(
      (await rawRequest(port, { method: 'DELETE', path: '/proto/multi', query: [['uploadId', otherId]] }))
        .code,
      'NoSuchUpload',
    );
    assert.equal(
      (await rawRequest(port, { method: 'DELETE', path: '/proto/other', query: [['uploadId', otherId]] }))
        .status,
      204,
    );
  });

  test('virtual-hosted addressing (bucket.localhost) reaches the same objects', async () => {
    await fixture.store.put('proto', 'vhost.txt', Buffer.from('virtual'));
    const reply = await rawRequest(port, {
      method: 'GET',
      path: '/vhost.txt',
      headers: { host: `proto.localhost:${port}` },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'virtual');
  });

  test('PUT and DELETE report events with the principal and the client address', async () => {
    fixture.events.length = 0;
    await rawRequest(port, { method: 'PUT', path: '/proto/evented', body: Buffer.from('e') });
    await rawRequest(port, { method: 'DELETE', path: '/proto/evented' });
    await rawRequest(port, { method: 'DELETE', path: '/proto/evented' });
    assert.deepEqual(
      fixture.events.map((event) => [event.name, event.key, event.principal, event.sourceIp]),
      [
        ['ObjectCreated:Put', 'evented', PRINCIPAL, '127.0.0.1'],
        ['ObjectRemoved:Delete', 'evented', PRINCIPAL, '127.0.0.1'],
      ],
    );
  });

  test(
    'a 256 MiB object streams in and out without memory growing with its size',
    { timeout: 120_000 },
    async () => {
      const size = 256 * 1024 * 1024;
      const block = Buffer.alloc(1024 * 1024, 'm');
      const expectedMd5 = (() => {
        const hash = createHash('md5');
        for (let sent = 0; sent < size; sent += block.length) hash.update(block);
        return hash.digest('hex');
      })();
      const limited = await startS3Fixture();
      try {
        await limited.store.createBucket('big');
        global.gc?.();
        const baseline = process.memoryUsage().rss;
        let peak = baseline;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
        const put = await rawRequest(limited.port, {
          method: 'PUT',
          path: '/big/blob',
          payloadHash: 'UNSIGNED-PAYLOAD',
          headers: { 'content-length': String(size) },
          writeBody: async (write) => {
            for (let sent = 0; sent < size; sent += block.length) await write(block);
          },
        });
        assert.equal(put.status, 200);
        const url = presignUrl({
          method: 'GET',
          endpoint: limited.url,
          bucket: 'big',
          key: 'blob',
          accessKeyId: ACCESS_KEY_ID,
          secretKey: SECRET_KEY,
          region: REGION,
          expiresSeconds: 60,
        });
        const reply = await fetch(url);
        const hash = createHash('md5');
        for await (const chunk of reply.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
        clearInterval(sampler);
        assert.equal(hash.digest('hex'), expectedMd5);
        assert.equal(put.headers.etag, `"${expectedMd5}"`);
        const grownMiB = (peak - baseline) / 1024 / 1024;
        assert.ok(grownMiB < 96, `memory grew by ${grownMiB.toFixed(0)} MiB for a 256 MiB object`);
      } finally {
        await limited.close();
      }
    },
  );

  test('presigned URLs from presignUrl work for GET and PUT (Content-Type signed) and expire', async () => {
    const sign = (
      method: 'GET' | 'PUT',
      key: string,
      extra: { contentType?: string; nowMs?: number; expiresSeconds?: number } = {},
    ) =>
      presignUrl({
        method,
        endpoint: fixture.url,
        bucket: 'proto',
        key,
        accessKeyId: ACCESS_KEY_ID,
        secretKey: SECRET_KEY,
        region: REGION,
        expiresSeconds: extra.expiresSeconds ?? 60,
        ...extra,
      });
    const putUrl = sign('PUT', 'pre/signed file.csv', { contentType: 'text/csv' });
    const put = await fetch(putUrl, {
      method: 'PUT',
      body: 'a,b\n1,2\n',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(put.status, 200);
    assert.equal((await fixture.store.head('proto', 'pre/signed file.csv')).contentType, 'text/csv');
    const wrongType = await fetch(putUrl, {
      method: 'PUT',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(wrongType.status, 403);
    const get = await fetch(sign('GET', 'pre/signed file.csv'));
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'a,b\n1,2\n');
    const expired = await fetch(sign('GET', 'pre/signed file.csv', { nowMs: Date.now() - 120_000 }));
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
  });
});
