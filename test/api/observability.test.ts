/**
 * What operators read: /metrics (Prometheus text, behind the admin's credentials) counting real jobs,
 * sync calls, retries, dead letters and S3 traffic; JSON log lines that carry the request's id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { putText, s3For } from '../support/s3-client.js';

let server: ServerProcess;

before(async () => {
  server = await startServer({ env: { NUBES_LOG_LEVEL: 'debug' } });
});
after(async () => {
  await server.cleanup();
});

/** The value of one sample line, e.g. `nubes_jobs{service="x",status="queued"}`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m): [string, string] => [
        m[1] ?? '',
        m[2] ?? '',
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[4]);
  }
  return undefined;
}

async function createService(body: Record<string, unknown>): Promise<void> {
  const response = await server.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: 'busybox', ...body }),
  });
  assert.equal(response.status, 201, await response.text());
}

async function jobsDone(service: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      const page = (await (await server.api(`/system/logs/${service}`)).json()) as {
        jobs: Record<string, { status: string }>;
      };
      const finished = Object.values(page.jobs).filter(
        (job) => job.status === 'Succeeded' || job.status === 'Failed',
      );
      return finished.length >= count ? true : undefined;
    },
    30_000,
    `${count} finished jobs of ${service}`,
  );
}

test('/metrics needs the admin credentials, as every endpoint but /health', async () => {
  const anonymous = await fetch(`${server.apiUrl}/metrics`);
  assert.equal(anonymous.status, 401);
  const body = (await anonymous.json()) as { error: { code: string } };
  assert.equal(body.error.code, 'UNAUTHENTICATED');
  assert.equal((await fetch(`${server.apiUrl}/health`)).status, 200);
});

test('/metrics counts jobs, sync calls, retries, dead letters and S3 traffic', async () => {
  await createService({
    name: 'metered',
    script: 'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/out.txt"\n',
    input: [{ storage_provider: 'minio.default', path: 'metered/in' }],
    output: [{ storage_provider: 'minio.default', path: 'metered/out' }],
  });
  await createService({ name: 'failing', script: 'exit 4\n' });
  // A one-second limit on a longer sleep: a timeout, which is retried (once, after 50 ms).
  await createService({ name: 'slow', script: 'sleep 5\n', timeout: 1, max_retries: 1, retry_backoff: 0.05 });

  const s3 = await s3For(server);
  const payload = 'x'.repeat(1000);
  await putText(s3, 'metered', 'in/one.txt', payload);
  await putText(s3, 'metered', 'in/two.txt', payload);
  await server.api('/job/failing', { method: 'POST', body: 'boom' });
  await server.api('/job/slow', { method: 'POST', body: 'zzz' });
  const sync = await server.api('/run/metered?raw=true', { method: 'POST', body: 'hello' });
  assert.equal(sync.status, 200);
  await jobsDone('metered', 2);
  await jobsDone('failing', 1);
  await jobsDone('slow', 1);

  const response = await server.api('/metrics');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();

  assert.equal(
    sample(text, 'nubes_invocations_total', { service: 'metered', kind: 'async', outcome: 'succeeded' }),
    2,
  );
  assert.equal(
    sample(text, 'nubes_invocations_total', { service: 'metered', kind: 'sync', outcome: 'succeeded' }),
    1,
  );
  assert.equal(
    sample(text, 'nubes_invocations_total', { service: 'failing', kind: 'async', outcome: 'failed' }),
    1,
  );
  assert.equal(
    sample(text, 'nubes_invocations_total', { service: 'slow', kind: 'async', outcome: 'failed' }),
    1,
  );
  assert.equal(sample(text, 'nubes_job_retries_total', { service: 'slow' }), 1);
  assert.equal(sample(text, 'nubes_dead_letters_total', { service: 'failing' }), 1);
  assert.equal(sample(text, 'nubes_jobs', { service: 'failing', status: 'failed' }), 1);
  assert.equal(sample(text, 'nubes_jobs', { service: 'metered', status: 'succeeded' }), 2);
  assert.equal(sample(text, 'nubes_queue_depth'), 0);

  // Durations: every finished async job of the service is in the histogram, in the +Inf bucket at least.
  assert.equal(
    sample(text, 'nubes_invocation_duration_seconds_count', { service: 'metered', kind: 'async' }),
    2,
  );
  assert.equal(
    sample(text, 'nubes_invocation_duration_seconds_bucket', {
      service: 'metered',
      kind: 'async',
      le: '+Inf',
    }),
    2,
  );
  const slowSum =
    sample(text, 'nubes_invocation_duration_seconds_sum', { service: 'slow', kind: 'async' }) ?? 0;
  assert.ok(slowSum >= 0.9, `the timed-out job ran about a second, not ${slowSum}`);

  // Two PUTs of 1000 bytes came in; the service wrote two outputs of 1000 bytes through the store (not S3).
  assert.ok((sample(text, 'nubes_s3_requests_total', { method: 'PUT', status: '200' }) ?? 0) >= 2);
  assert.ok((sample(text, 'nubes_s3_bytes_total', { direction: 'in' }) ?? 0) >= 2000);
  assert.ok((sample(text, 'nubes_process_resident_memory_bytes') ?? 0) > 0);
});

test('log lines are JSON and carry the request id, which the answer names too', async () => {
  const response = await server.api('/system/services/no-such-service', {
    headers: { 'x-request-id': 'trace-42' },
  });
  assert.equal(response.status, 404);
  assert.equal(response.headers.get('x-request-id'), 'trace-42');
  const generated = await server.api('/system/info');
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  // An id that could forge log content is replaced.
  const forged = await server.api('/system/info', { headers: { 'x-request-id': 'a"b\\n' } });
  assert.notEqual(forged.headers.get('x-request-id'), 'a"b\\n');

  const line = await waitFor(
    async () => {
      for (const text of server.output().split('\n')) {
        if (!text.startsWith('{')) continue;
        const entry = JSON.parse(text) as { reqId?: string };
        if (entry.reqId === 'trace-42') return entry;
      }
      return undefined;
    },
    5000,
    'a log line with reqId trace-42',
  );
  assert.equal(typeof (line as { time?: number }).time, 'number');
});
