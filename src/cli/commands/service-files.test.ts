import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { PlatformError } from '../../core/index.js';
import type { Service } from '../api-schemas.js';
import { serviceSchema } from '../api-schemas.js';
import { runCli } from '../program.js';
import { startFakeApi } from '../testing/fake-api.js';
import { localProject } from '../testing/local-project.js';
import { memoryIo } from '../testing/memory-io.js';
import {
  latestDestination,
  parseGetFileArgs,
  parseListFilesArgs,
  parsePutFileArgs,
  uploadPath,
} from './service-files.js';

const service: Service = serviceSchema.parse({
  name: 'normalize',
  input: [{ storage_provider: 'minio.default', path: 'text/in' }],
  output: [{ storage_provider: 'minio.default', path: 'text/counts/' }],
});

void test('put-file arguments follow oscar-cli: [PROVIDER] LOCAL [REMOTE], defaults minio.default and the first input path', () => {
  assert.deepEqual(parsePutFileArgs(['a.txt']), {
    provider: 'minio.default',
    local: 'a.txt',
    remote: undefined,
  });
  assert.deepEqual(parsePutFileArgs(['minio', 'a.txt']), {
    provider: 'minio.default',
    local: 'a.txt',
    remote: undefined,
  });
  assert.deepEqual(parsePutFileArgs(['a.txt', 'text/in/b.txt']), {
    provider: 'minio.default',
    local: 'a.txt',
    remote: 'text/in/b.txt',
  });
  assert.deepEqual(parsePutFileArgs(['s3.aws', 'a.txt', 'bkt/k']), {
    provider: 's3.aws',
    local: 'a.txt',
    remote: 'bkt/k',
  });
  assert.throws(() => parsePutFileArgs(['a', 'b', 'c']), PlatformError);
  assert.throws(() => parsePutFileArgs(['a', 'b', 'c', 'd']), PlatformError);
  assert.equal(uploadPath(service, 'minio.default', '/x/photo.png', undefined), 'text/in/photo.png');
  assert.equal(uploadPath(service, 'minio.default', '/x/photo.png', 'text/other/'), 'text/other/photo.png');
  assert.throws(() => uploadPath(service, 's3.aws', '/x/photo.png', undefined), /no input on s3\.aws/);
});

void test('get-file and list-files arguments; REMOTE may be omitted only with --download-latest-into', () => {
  assert.deepEqual(parseGetFileArgs(['text/counts/a.csv'], false), { remote: 'text/counts/a.csv' });
  assert.deepEqual(parseGetFileArgs(['text/counts/a.csv', 'out.csv'], false), {
    remote: 'text/counts/a.csv',
    local: 'out.csv',
  });
  assert.deepEqual(parseGetFileArgs(['minio.default', 'text/a', 'b'], false), {
    provider: 'minio.default',
    remote: 'text/a',
    local: 'b',
  });
  assert.deepEqual(parseGetFileArgs([], true), {});
  assert.deepEqual(parseGetFileArgs(['minio'], true), { provider: 'minio.default' });
  assert.throws(() => parseGetFileArgs([], false), /REMOTE_PATH is missing/);
  assert.throws(() => parseGetFileArgs(['minio.default'], false), /REMOTE_PATH is missing/);
  assert.deepEqual(parseListFilesArgs([]), {});
  assert.deepEqual(parseListFilesArgs(['text/in']), { path: 'text/in' });
  assert.deepEqual(parseListFilesArgs(['minio.x', 'text/in']), { provider: 'minio.x', path: 'text/in' });
  assert.equal(latestDestination('out/', 'a.csv', '/w'), '/w/out/a.csv');
  assert.equal(latestDestination('out', 'a.csv', '/w'), '/w/out/a.csv');
  assert.equal(latestDestination('result.csv', 'a.csv', '/w'), '/w/result.csv');
});

interface StoredObject {
  body: Buffer;
  modified: Date;
}

/** A path-style S3 endpoint that keeps objects in memory and records request headers (signatures are not checked). */
async function startFakeS3() {
  const objects = new Map<string, StoredObject>([
    ['text/counts/old.csv', { body: Buffer.from('old'), modified: new Date('2024-05-01T10:00:00Z') }],
    [
      'text/counts/new.csv',
      { body: Buffer.from('word,count\nthe,10\n'), modified: new Date('2024-05-02T10:00:00Z') },
    ],
  ]);
  const puts: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const id = `${bucket}/${key}`;
      if (req.method === 'PUT') {
        puts.push(req.headers);
        objects.set(id, { body: Buffer.concat(chunks), modified: new Date() });
        res.writeHead(200, { etag: '"e"' }).end();
      } else if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const items = [...objects].filter(([name]) => name.startsWith(`${bucket}/${prefix}`));
        const contents = items
          .map(
            ([name, object]) =>
              `<Contents><Key>${name.slice(bucket.length + 1)}</Key><LastModified>${object.modified.toISOString()}</LastModified><ETag>"e"</ETag><Size>${object.body.length}</Size></Contents>`,
          )
          .join('');
        res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(
            `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${items.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
          );
      } else if ((req.method === 'GET' || req.method === 'HEAD') && objects.has(id)) {
        const object = objects.get(id) as StoredObject;
        res.writeHead(200, {
          'content-length': object.body.length,
          'last-modified': object.modified.toUTCString(),
          etag: '"e"',
        });
        res.end(req.method === 'GET' ? object.body : undefined);
      } else {
        res
          .writeHead(404, { 'content-type': 'application/xml' })
          .end(
            req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>no</Message></Error>',
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    puts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

void test('put-file, get-file and list-files go through S3 with the credentials of /system/config (SDK against an in-test endpoint)', async () => {
  const s3 = await startFakeS3();
  const api = await startFakeApi({
    'GET /system/services/normalize': () => ({ json: service }),
    'GET /system/config': () => ({
      json: {
        config: {},
        minio_provider: {
          endpoint: s3.url,
          verify: false,
          access_key: 'AK',
          secret_key: 'SK',
          region: 'us-east-1',
        },
      },
    }),
  });
  const project = localProject(api.url);
  const run = async (args: string[]) => {
    const io = memoryIo(project);
    const code = await runCli(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  try {
    writeFileSync(join(project.cwd, 'sample.txt'), 'it was the best of times\n');
    const put = await run(['service', 'put-file', 'normalize', 'sample.txt']);
    assert.equal(put.code, 0, put.err);
    assert.match(put.out, /✓ uploaded sample\.txt to minio\.default:text\/in\/sample\.txt/);
    assert.equal(s3.objects.get('text/in/sample.txt')?.body.toString(), 'it was the best of times\n');
    const headers = s3.puts[0] ?? {};
    assert.match(String(headers.authorization), /^AWS4-HMAC-SHA256 Credential=AK\//);
    // Checksums only when required: no streaming trailer that older S3 stores reject.
    assert.equal(headers['x-amz-trailer'], undefined);
    assert.equal(headers['content-length'], '25');

    const latest = await run(['service', 'get-file', 'normalize', '--download-latest-into', 'results/']);
    assert.equal(latest.code, 0, latest.err);
    assert.equal(latest.out, `${join(project.cwd, 'results', 'new.csv')}\n`);
    assert.equal(readFileSync(join(project.cwd, 'results', 'new.csv'), 'utf8'), 'word,count\nthe,10\n');

    const named = await run(['service', 'get-file', 'normalize', 'text/counts/old.csv', 'copy.csv']);
    assert.equal(named.code, 0, named.err);
    assert.equal(readFileSync(join(project.cwd, 'copy.csv'), 'utf8'), 'old');

    const missing = await run(['service', 'get-file', 'normalize', 'text/counts/none.csv']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no file at text\/counts\/none\.csv/);

    const list = await run(['service', 'list-files', 'normalize']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^PATH\s+SIZE\s+MODIFIED \(UTC\)$/m);
    assert.match(list.out, /^text\/in\/sample\.txt\s+25 B\s+\d{4}-/m);
    assert.match(list.out, /^text\/counts\/new\.csv\s+18 B\s+2024-05-02 10:00:00$/m);
  } finally {
    await api.close();
    await s3.close();
  }
});
