import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../program.js';
import { startFakeApi, type FakeHandler } from '../testing/fake-api.js';
import { localProject, TEST_CREDENTIALS } from '../testing/local-project.js';
import { memoryIo } from '../testing/memory-io.js';

const TOKEN = 'a'.repeat(64);
const hello = {
  name: 'hello',
  image: 'busybox:1.36',
  cpu: '0.2',
  memory: '64Mi',
  token: TOKEN,
  script: 'echo hi\n',
  input: [],
  output: [],
};
const normalize = {
  ...hello,
  name: 'normalize',
  image: 'alpine:3.20',
  cpu: '0.5',
  memory: '128Mi',
  input: [{ storage_provider: 'minio.default', path: 'text/in' }],
};

async function withApi(
  routes: Record<string, FakeHandler>,
  body: (
    run: (args: string[], tty?: boolean) => Promise<{ code: number; out: string; err: string }>,
    api: Awaited<ReturnType<typeof startFakeApi>>,
    cwd: string,
  ) => Promise<void>,
) {
  const api = await startFakeApi(routes);
  const project = localProject(api.url);
  try {
    await body(
      async (args, tty = false) => {
        const io = memoryIo({ ...project, stdoutIsTty: tty });
        const code = await runCli(args, io);
        return { code, out: io.out(), err: io.err() };
      },
      api,
      project.cwd,
    );
  } finally {
    await api.close();
  }
}

void test('zero config: right after `npm start`, service list talks to the local server with the credentials it wrote', async () => {
  await withApi({ 'GET /system/services': () => ({ json: [hello, normalize] }) }, async (run, api) => {
    const result = await run(['service', 'list']);
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      [
        'NAME       IMAGE         CPU  MEMORY  INPUTS',
        'hello      busybox:1.36  0.2  64Mi',
        'normalize  alpine:3.20   0.5  128Mi   text/in',
        '',
      ].join('\n'),
    );
    const expected = `Basic ${Buffer.from(`${TEST_CREDENTIALS.adminUser}:${TEST_CREDENTIALS.adminPassword}`).toString('base64')}`;
    assert.equal(api.requests[0]?.headers.authorization, expected);
  });
});

void test('service run sends base64 input with the service token and prints the decoded answer', async () => {
  await withApi(
    {
      'GET /system/services/hello': () => ({ json: hello }),
      'POST /run/hello': (request) => {
        const name = Buffer.from(request.body.toString(), 'base64').toString();
        return { text: Buffer.from(`Hello, ${name}!\n`).toString('base64') };
      },
    },
    async (run, api, cwd) => {
      const result = await run(['service', 'run', 'hello', '-i', 'Ada']);
      assert.equal(result.code, 0, result.err);
      assert.equal(result.out, 'Hello, Ada!\n');
      const call = api.requests.find((request) => request.path === '/run/hello');
      assert.equal(call?.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(call?.body.toString(), 'QWRh');

      writeFileSync(join(cwd, 'input.txt'), 'Grace');
      const fromFile = await run(['service', 'run', 'hello', '-f', 'input.txt', '-o', 'answer.txt']);
      assert.equal(fromFile.code, 0, fromFile.err);
      assert.equal(fromFile.out, '');
    },
  );
});

void test('a failed run shows the script log and exits 1 with the error; a missing input file is refused before any request', async () => {
  await withApi(
    {
      'GET /system/services/hello': () => ({ json: hello }),
      'POST /run/hello': () => ({
        status: 502,
        json: {
          error: {
            code: 'JOB_FAILED',
            message: 'the script exited with code 3',
            details: { exit_code: 3, log: 'boom: no such thing\n' },
          },
        },
      }),
    },
    async (run, api) => {
      const failed = await run(['service', 'run', 'hello', '-i', 'x']);
      assert.equal(failed.code, 1);
      assert.match(failed.err, /^boom: no such thing\nexit code: 3\nerror: the script exited with code 3\n/);
      const before = api.requests.length;
      const missing = await run(['service', 'run', 'hello', '-f', 'nope.txt']);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /cannot read the input file nope\.txt/);
      const none = await run(['service', 'run', 'hello']);
      assert.match(none.err, /give -f FILE or -i TEXT/);
      assert.equal(api.requests.length, before);
    },
  );
});

void test('service job prints the job id; -t/-e call a cluster that is not configured', async () => {
  await withApi(
    {
      'GET /system/services/hello': () => ({ json: hello }),
      'POST /job/hello': () => ({ status: 201, json: { job_id: 'hello-1234', service: 'hello' } }),
    },
    async (run, api) => {
      const result = await run(['service', 'job', 'hello', '-i', '{"x":1}']);
      assert.equal(result.code, 0, result.err);
      assert.equal(result.out, 'hello-1234\n');
      assert.equal(Buffer.from(api.requests.at(-1)?.body.toString() ?? '', 'base64').toString(), '{"x":1}');
      const direct = await run(['service', 'job', 'hello', '-i', 'x', '-e', api.url, '-t', 'given-token']);
      assert.equal(direct.code, 0, direct.err);
      assert.equal(api.requests.at(-1)?.headers.authorization, 'Bearer given-token');
      assert.equal((await run(['service', 'job', 'hello', '-i', 'x', '-e', api.url])).code, 1);
    },
  );
});

void test('service get prints YAML with the token; service delete reports each name and exits 1 if one failed', async () => {
  await withApi(
    {
      'GET /system/services/hello': () => ({ json: hello }),
      'DELETE /system/services/hello': () => ({ status: 204 }),
      'DELETE /system/services/ghost': () => ({
        status: 404,
        json: { error: { code: 'SERVICE_NOT_FOUND', message: 'no service named "ghost"' } },
      }),
    },
    async (run) => {
      const get = await run(['service', 'get', 'hello']);
      assert.match(get.out, /^name: hello$/m);
      assert.match(get.out, new RegExp(`^token: ${TOKEN}$`, 'm'));
      assert.match(get.out, /^script: \|\n {2}echo hi$/m);
      const deleted = await run(['service', 'delete', 'hello', 'ghost']);
      assert.equal(deleted.code, 1);
      assert.match(deleted.out, /✓ deleted service "hello"\n✗ no service named "ghost"\n/);
      const missing = await run(['service', 'get', 'ghost']);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /hint: list the deployed services/);
    },
  );
});

void test('cluster info shows /system/info and /system/config without the S3 secret', async () => {
  await withApi(
    {
      'GET /system/info': () => ({ json: { version: '0.1.0', serverless_backend: { name: 'nubes-local' } } }),
      'GET /system/config': () => ({
        json: {
          config: { name: 'nubes' },
          minio_provider: {
            endpoint: 'http://127.0.0.1:9000',
            verify: false,
            access_key: 'AK',
            secret_key: 'SECRET',
            region: 'us-east-1',
          },
        },
      }),
    },
    async (run) => {
      const result = await run(['cluster', 'info']);
      assert.equal(result.code, 0, result.err);
      assert.match(result.out, /^cluster: local$/m);
      assert.match(result.out, /version: 0\.1\.0/);
      assert.match(result.out, /access_key: AK/);
      assert.doesNotMatch(result.out, /SECRET/);
    },
  );
});
