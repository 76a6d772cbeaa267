/**
 * Outputs to WebDAV (a real server: `rclone serve webdav`, the way dCache is spoken to) and to Onedata
 * (an in-test CDMI endpoint, not live: no Oneprovider runs here), and an input read from an SQS queue (an
 * in-test endpoint, not live, that checks what the AWS SDK sends).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { freePort, startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';

let nubes: ServerProcess;
let s3: S3Client;
let davDir: string;
let dav: ChildProcess;
let davUrl: string;

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

before(async () => {
  nubes = await startServer();
  s3 = await s3For(nubes);
  await s3.send(new CreateBucketCommand({ Bucket: 'local-in' }));
  davDir = await mkdtemp(join(tmpdir(), 'nubes-webdav-'));
  const port = await freePort();
  davUrl = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  dav = spawn(
    'rclone',
    ['serve', 'webdav', davDir, '--addr', `127.0.0.1:${port}`, '--user', 'archiver', '--pass', 'dav-secret'],
    {
      env,
      stdio: 'ignore',
    },
  );
  await waitFor(
    () =>
      fetch(davUrl).then(
        (response) => (response.status > 0 ? true : undefined),
        () => undefined,
      ),
    20_000,
    'rclone serve webdav',
  );
});
after(async () => {
  s3?.destroy();
  if (dav && dav.exitCode === null) {
    const exited = new Promise((resolve) => dav.once('exit', resolve));
    dav.kill('SIGTERM');
    await exited;
  }
  if (davDir) await rm(davDir, { recursive: true, force: true });
  await nubes?.cleanup();
});

async function deploy(service: Record<string, unknown>): Promise<void> {
  const response = await nubes.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: 'busybox', ...service }),
  });
  assert.equal(response.status, 201, await response.text());
}

test('outputs go to a real WebDAV server (rclone serve webdav), folders created, credentials by Basic auth', async () => {
  await deploy({
    name: 'to-dav',
    script: 'mkdir -p "$TMP_OUTPUT_DIR/sub"; rev < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/sub/reversed.txt"\n',
    input: [{ storage_provider: 'minio', path: 'local-in/dav' }],
    output: [{ storage_provider: 'webdav.archive', path: 'projects/run 1' }],
    storage_providers: {
      webdav: { archive: { hostname: davUrl, login: 'archiver', password: 'dav-secret' } },
    },
  });
  await putText(s3, 'local-in', 'dav/data.txt', 'abc\n');
  const written = await waitFor(
    () => readFile(join(davDir, 'projects', 'run 1', 'sub', 'reversed.txt'), 'utf8').catch(() => undefined),
    30_000,
    'the file on the WebDAV server',
  );
  assert.equal(written, 'cba\n');
});

test('outputs go to Onedata over CDMI (in-test endpoint, not live): token header, containers, raw bytes', async () => {
  const files = new Map<string, string>();
  const containers = new Set(['/cdmi/space-1']);
  const seen: string[] = [];
  const onedata = createServer((request, response) => {
    void body(request).then((data) => {
      const path = decodeURIComponent((request.url ?? '').split('?')[0] ?? '');
      seen.push(`${request.method} ${path}`);
      if (request.headers['x-auth-token'] !== 'onedata-token') return response.writeHead(401).end();
      if (request.method !== 'PUT') return response.writeHead(405).end();
      const parent = path.replace(/\/[^/]+\/?$/, '');
      if (!containers.has(parent)) return response.writeHead(404).end();
      if (path.endsWith('/')) {
        assert.equal(request.headers['content-type'], 'application/cdmi-container');
        assert.equal(request.headers['x-cdmi-specification-version'], '1.1.1');
        containers.add(path.slice(0, -1));
        return response.writeHead(201).end();
      }
      files.set(path, data.toString());
      return response.writeHead(201).end();
    });
  });
  const url = await listen(onedata);
  try {
    await deploy({
      name: 'to-onedata',
      script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/result.txt"\n',
      input: [{ storage_provider: 'minio', path: 'local-in/onedata' }],
      output: [{ storage_provider: 'onedata.hub', path: 'results/today' }],
      storage_providers: {
        onedata: { hub: { oneprovider_host: url, token: 'onedata-token', space: 'space-1' } },
      },
    });
    await putText(s3, 'local-in', 'onedata/data.txt', 'datahub\n');
    const stored = await waitFor(
      async () => files.get('/cdmi/space-1/results/today/result.txt'),
      30_000,
      'the file on Onedata',
    );
    assert.equal(stored, 'DATAHUB\n');
    // The first PUT found no parent; the containers were made from the top, then the PUT again.
    assert.deepEqual(seen, [
      'PUT /cdmi/space-1/results/today/result.txt',
      'PUT /cdmi/space-1/results/',
      'PUT /cdmi/space-1/results/today/',
      'PUT /cdmi/space-1/results/today/result.txt',
    ]);
  } finally {
    await new Promise((resolve) => onedata.close(resolve));
  }
});

test('an SQS queue of bucket notifications starts jobs (in-test SQS endpoint, not live, checks what the SDK sends)', async () => {
  const record = (key: string) =>
    JSON.stringify({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: new Date().toISOString(),
          s3: { bucket: { name: 'local-in' }, object: { key: encodeURIComponent(key) } },
        },
      ],
    });
  // S3 → SNS → SQS wraps the record in an SNS envelope; S3 → SQS sends it as it is; plus S3's test event.
  const pending = [
    record('sqs/direct.txt'),
    JSON.stringify({ Type: 'Notification', Message: record('sqs/via sns.txt') }),
    JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }),
  ];
  const deleted: string[] = [];
  const problems: string[] = [];
  const sqs = createServer((request, response) => {
    void body(request).then((data) => {
      const target = request.headers['x-amz-target'];
      if (request.headers['content-type'] !== 'application/x-amz-json-1.0') problems.push('content type');
      const authorization = String(request.headers.authorization);
      const scope = /\/\d{8}\/us-east-1\/sqs\/aws4_request, SignedHeaders=[^ ]*x-amz-target/;
      if (
        !authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKey}/`) ||
        !scope.test(authorization)
      )
        problems.push(`authorization ${authorization}`);
      const input = JSON.parse(data.toString()) as {
        QueueUrl?: string;
        Entries?: { ReceiptHandle: string }[];
      };
      if (input.QueueUrl !== `${queueOrigin}/123456789012/uploads`) problems.push(`queue ${input.QueueUrl}`);
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      if (target === 'AmazonSQS.ReceiveMessage') {
        const messages = pending.splice(0).map((text, index) => ({
          MessageId: `m${index}`,
          ReceiptHandle: `r-${text.length}-${index}`,
          Body: text,
          MD5OfBody: createHash('md5').update(text).digest('hex'),
        }));
        // An empty queue answers after a while, as SQS's long polling does.
        setTimeout(() => response.end(JSON.stringify({ Messages: messages })), messages.length ? 0 : 200);
        return;
      }
      if (target === 'AmazonSQS.DeleteMessageBatch') {
        deleted.push(...(input.Entries ?? []).map((entry) => entry.ReceiptHandle));
        response.end(
          JSON.stringify({
            Successful: (input.Entries ?? []).map((_e, i) => ({ Id: String(i) })),
            Failed: [],
          }),
        );
        return;
      }
      problems.push(`target ${String(target)}`);
      response.writeHead(400).end('{}');
    });
  });
  const { s3AccessKey: accessKey, s3SecretKey: secretKey } = await nubes.credentials();
  const queueOrigin = await listen(sqs);
  try {
    await putText(s3, 'local-in', 'sqs/direct.txt', 'direct\n');
    await putText(s3, 'local-in', 'sqs/via sns.txt', 'via sns\n');
    await deploy({
      name: 'from-sqs',
      script: 'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH").copy"\n',
      input: [
        {
          storage_provider: 's3.queued',
          path: 'local-in/sqs',
          trigger: 'sqs',
          queue_url: `${queueOrigin}/123456789012/uploads`,
        },
      ],
      output: [{ storage_provider: 'minio', path: 'local-in/sqs-out' }],
      storage_providers: {
        s3: {
          // The bucket itself is this server's own store, reached as an S3 service.
          queued: { endpoint: nubes.s3Url, access_key: accessKey, secret_key: secretKey },
        },
      },
    });
    await waitFor(
      async () => (deleted.length === 3 ? true : undefined),
      30_000,
      'the messages to be deleted',
    );
    const logs = (await (await nubes.api('/system/logs/from-sqs')).json()) as {
      jobs: Record<string, { input: string }>;
    };
    assert.deepEqual(
      Object.values(logs.jobs)
        .map((job) => job.input)
        .sort(),
      ['local-in/sqs/direct.txt', 'local-in/sqs/via sns.txt'],
    );
    assert.deepEqual(problems, []);
    assert.equal(await waitFor(() => getText(s3, 'local-in', 'sqs-out/direct.txt.copy'), 30_000), 'direct\n');
    assert.equal(
      await waitFor(() => getText(s3, 'local-in', 'sqs-out/via sns.txt.copy'), 30_000),
      'via sns\n',
    );
  } finally {
    // Removing the service stops its reader; the reader's connection is then closed.
    await nubes.api('/system/services/from-sqs', { method: 'DELETE' });
    sqs.closeAllConnections();
    await new Promise((resolve) => sqs.close(resolve));
  }
});
