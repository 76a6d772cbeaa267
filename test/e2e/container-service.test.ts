/**
 * A container service end to end through the real server process and real Podman: deploy a service with
 * `executor: container` and a busybox image built here, upload a file through the S3 API, and find the
 * result the script wrote inside the container in the output bucket. Also: an image that cannot be pulled
 * is refused at deploy with IMAGE_UNAVAILABLE.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, waitFor, type ServerProcess } from '../support/server-process.js';
import { getText, putText, s3For } from '../support/s3-client.js';
import { buildBusyboxImage, containerToolsMissing, type BusyboxImage } from '../support/busybox-image.js';

const missing = await containerToolsMissing();

void describe('container service end to end (real podman)', { skip: missing ?? false }, () => {
  let server: ServerProcess;
  let image: BusyboxImage;

  before(async () => {
    image = await buildBusyboxImage();
    server = await startServer();
  });
  after(async () => {
    await server?.cleanup();
    await image?.remove();
  });

  test('upload -> job in the container -> output in the bucket; no network inside', async () => {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'shout',
        image: image.name,
        executor: 'container',
        memory: '64Mi',
        cpu: '0.5',
        script: [
          'set -e',
          'name=$(basename "$INPUT_FILE_PATH")',
          'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name"',
          // Only the loopback interface exists with --network none; busybox is the only program inside.
          'ls /sys/class/net > "$TMP_OUTPUT_DIR/$name.net"',
          'ls /bin/busybox /usr/bin/node 2> /dev/null > "$TMP_OUTPUT_DIR/$name.bin" || true',
        ].join('\n'),
        input: [{ storage_provider: 'minio.default', path: 'shout/in' }],
        output: [{ storage_provider: 'minio.default', path: 'shout/out' }],
      }),
    });
    const text = await created.text();
    assert.equal(created.status, 201, text);
    const { warnings } = JSON.parse(text) as { warnings: string[] };
    assert.ok(!warnings.some((w) => w.includes('recorded, not run')), warnings.join('\n'));

    const s3 = await s3For(server);
    await putText(s3, 'shout', 'in/hello.txt', 'hello from the host\n');
    const result = await waitFor(() => getText(s3, 'shout', 'out/hello.txt'), 60_000, 'shout/out/hello.txt');
    assert.equal(result, 'HELLO FROM THE HOST\n');
    // Outputs are uploaded one by one: the first to appear says nothing of the others.
    const output = (key: string): Promise<string> =>
      waitFor(() => getText(s3, 'shout', key), 60_000, `shout/${key}`);
    assert.equal(await output('out/hello.txt.net'), 'lo\n');
    // The script ran in the image (busybox only), not on the host (which has node).
    assert.equal(await output('out/hello.txt.bin'), '/bin/busybox\n');
  });

  test('an image that is missing and cannot be pulled is refused at deploy with IMAGE_UNAVAILABLE', async () => {
    const created = await server.api('/system/services', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'nopull',
        image: 'localhost/nubes-no-such-image:1',
        executor: 'container',
        script: 'true',
      }),
    });
    assert.equal(created.status, 422);
    const body = (await created.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'IMAGE_UNAVAILABLE');
    assert.match(body.error.message, /localhost\/nubes-no-such-image:1/);
    assert.equal((await server.api('/system/services/nopull')).status, 404);
  });
});
