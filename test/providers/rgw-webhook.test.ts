/**
 * Ceph's object gateway (radosgw from Debian, started here) plays an external S3 service: deploying a
 * service whose input is on it registers Nubes's webhook in the bucket's notifications, merged with the
 * entries already there; RGW's real notifications then reach Nubes and start jobs whose outputs go back
 * to RGW. Removing the service removes only its own entry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { startCephRgw, type CephRgw } from '../support/ceph-rgw.js';

// Fixed ports from this suite's range (RGW does not start on ports picked at random).
const PORTS = { rgw: 7480, mon: 7489, messengerMin: 7500, messengerMax: 7549 };
const THEIR_HOOK_PORT = 7481;

let rgw: CephRgw;
let nubes: ServerProcess;
let s3: S3Client;
let sns: SNSClient;
let theirHook: Server;
const theirCalls: string[] = [];

before(
  async () => {
    [rgw, nubes] = await Promise.all([startCephRgw(PORTS), startServer()]);
    const common = {
      endpoint: rgw.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
      // A gateway that stops answering fails the test instead of holding it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    };
    s3 = new S3Client({ ...common, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    sns = new SNSClient(common);
    theirHook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        theirCalls.push(body);
        response.end();
      });
    });
    await new Promise<void>((resolve) => theirHook.listen(THEIR_HOOK_PORT, '127.0.0.1', resolve));
  },
  // Two starts of Ceph at most (see startCephRgw).
  { timeout: 420_000 },
);

after(async () => {
  s3?.destroy();
  sns?.destroy();
  if (theirHook) await new Promise((resolve) => theirHook.close(resolve));
  await nubes?.cleanup();
  await rgw?.stop();
});

async function notificationIds(bucket: string): Promise<string[]> {
  const config = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  return (config.TopicConfigurations ?? []).map((entry) => entry.Id ?? '').sort();
}

async function rgwText(bucket: string, key: string): Promise<string | undefined> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await answer.Body?.transformToString();
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

function serviceJson() {
  return {
    name: 'rgw-upper',
    image: 'busybox',
    script: 'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH").upper"\n',
    input: [{ storage_provider: 's3.rgw', path: 'rgw-data/in' }],
    output: [{ storage_provider: 's3.rgw', path: 'rgw-data/out' }],
    storage_providers: {
      s3: { rgw: { endpoint: rgw.endpoint, access_key: rgw.accessKey, secret_key: rgw.secretKey } },
    },
  };
}

test('RGW bucket notifications reach the webhook, start jobs, and the outputs go back to RGW; other entries are kept', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'rgw-data' }));
  // Someone else's notification, there before Nubes: it must survive the deploy.
  const theirTopic = await sns.send(
    new CreateTopicCommand({
      Name: 'their-topic',
      Attributes: { 'push-endpoint': `http://127.0.0.1:${THEIR_HOOK_PORT}/`, persistent: 'false' },
    }),
  );
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'rgw-data',
      NotificationConfiguration: {
        TopicConfigurations: [
          { Id: 'theirs', TopicArn: theirTopic.TopicArn, Events: ['s3:ObjectCreated:*'] },
        ],
      },
    }),
  );

  const created = await nubes.api('/system/services', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(serviceJson()),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const ids = await notificationIds('rgw-data');
  assert.equal(ids.length, 2, ids.join(', '));
  assert.ok(ids.includes('theirs'));
  assert.ok(
    ids.some((id) => id.startsWith('nubes-rgw-upper-')),
    ids.join(', '),
  );

  await s3.send(
    new PutObjectCommand({ Bucket: 'rgw-data', Key: 'in/sample 1+2.txt', Body: 'hello from ceph\n' }),
  );
  // RGW queues persistent notifications and delivers them within about half a minute.
  const output = await waitFor(
    () => rgwText('rgw-data', 'out/sample 1+2.txt.upper'),
    90_000,
    'the output on RGW',
  );
  assert.equal(output, 'HELLO FROM CEPH\n');

  // The output is stored before the job's end is recorded: wait for that record.
  const jobs = await waitFor(
    async () => {
      const answer = (await (await nubes.api('/system/logs/rgw-upper')).json()) as {
        jobs: Record<string, { status: string; input: string }>;
      };
      return Object.values(answer.jobs).some((job) => job.status === 'Running' || job.status === 'Pending')
        ? undefined
        : answer;
    },
    20_000,
    'the job to be recorded as ended',
  );
  const list = Object.values(jobs.jobs);
  assert.equal(list.length, 1, JSON.stringify(jobs));
  assert.equal(list[0]?.status, 'Succeeded');
  assert.equal(list[0]?.input, 'rgw-data/in/sample 1+2.txt');
  // The other notification went on working, and saw both the upload and the output.
  await waitFor(async () => (theirCalls.length >= 2 ? true : undefined), 20_000, 'their webhook');
  // Outputs outside the input folder start nothing (a filter on the folder is registered).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const again = (await (await nubes.api('/system/logs/rgw-upper')).json()) as {
    jobs: Record<string, unknown>;
  };
  assert.equal(Object.keys(again.jobs).length, 1);
});

test('webhook calls without the right token are refused and start nothing', async () => {
  const record = JSON.stringify({
    Records: [
      {
        eventSource: 'ceph:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'rgw-data' }, object: { key: 'in/forged.txt' } },
      },
    ],
  });
  for (const url of [
    `${nubes.apiUrl}/system/storage-events/rgw-upper/s3.rgw`,
    `${nubes.apiUrl}/system/storage-events/rgw-upper/s3.rgw?token=forged`,
    `${nubes.apiUrl}/system/storage-events/no-such-service/s3.rgw?token=forged`,
  ]) {
    const response = await fetch(url, { method: 'POST', body: record });
    assert.equal(response.status, 401, url);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'UNAUTHENTICATED');
  }
  const jobs = (await (await nubes.api('/system/logs/rgw-upper')).json()) as {
    jobs: Record<string, unknown>;
  };
  assert.equal(Object.keys(jobs.jobs).length, 1);

  // The owner can read the webhook's URL (with its token); posting to it works.
  const hooks = (await (await nubes.api('/system/services/rgw-upper/storage-webhooks')).json()) as {
    webhooks: { provider: string; url: string }[];
  };
  assert.equal(hooks.webhooks[0]?.provider, 's3.rgw');
  const posted = await fetch(hooks.webhooks[0]?.url ?? '', { method: 'POST', body: record });
  assert.equal(posted.status, 200);
  const { jobs: started } = (await posted.json()) as { jobs: string[] };
  assert.equal(started.length, 1);
});

test('removing the service removes its notification entry and keeps the others', async () => {
  const removed = await nubes.api('/system/services/rgw-upper', { method: 'DELETE' });
  assert.equal(removed.status, 204);
  assert.deepEqual(await notificationIds('rgw-data'), ['theirs']);
});
