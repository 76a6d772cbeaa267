import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeDurableFile } from './durable-file.js';
import { Md5Hasher } from './md5-hasher.js';

const MiB = 1024 * 1024;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-durable-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `data` cut into chunks of uneven sizes, as a socket delivers them. */
function chunked(data: Buffer, sizes: number[]): Readable {
  return Readable.from(
    (function* () {
      let offset = 0;
      for (let i = 0; offset < data.length; i++) {
        const size = sizes[i % sizes.length] ?? 1;
        yield data.subarray(offset, offset + size);
        offset += size;
      }
    })(),
    { objectMode: false },
  );
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

test('a large body written with several batches in flight lands byte for byte, with its MD5', async () => {
  await withDir(async (dir) => {
    const hasher = new Md5Hasher();
    try {
      const data = randomBytes(21 * MiB + 12_345);
      for (const options of [{}, { hasher }]) {
        const written = await writeDurableFile(chunked(data, [65_536, 1, 700_001, 16_384]), dir, {
          expectedSize: data.length,
          ...options,
        });
        assert.equal(written.size, data.length);
        assert.equal(written.md5, md5(data));
        assert.ok((await readFile(written.path)).equals(data), 'the file holds the body');
      }
    } finally {
      await hasher.close();
    }
  });
});

test('concurrent uploads hashed on the worker thread each get their own MD5', async () => {
  await withDir(async (dir) => {
    const hasher = new Md5Hasher();
    try {
      const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(3 * MiB + i * 977));
      const written = await Promise.all(
        bodies.map((body, i) => writeDurableFile(chunked(body, [40_000 + i]), dir, { hasher })),
      );
      written.forEach((file, i) => assert.equal(file.md5, md5(bodies[i] as Buffer)));
      // A body larger than the hasher's reusable buffers, given in one piece.
      const big = randomBytes(5 * MiB);
      assert.equal((await writeDurableFile(big, dir, { hasher })).md5, md5(big));
    } finally {
      await hasher.close();
    }
  });
});

test('a body longer or shorter than announced, or one that fails, leaves no file behind', async () => {
  await withDir(async (dir) => {
    const hasher = new Md5Hasher();
    try {
      const data = randomBytes(4 * MiB);
      await assert.rejects(
        writeDurableFile(chunked(data, [65_536]), dir, { expectedSize: 2 * MiB, hasher }),
        (error: { code?: string }) => error.code === 'BAD_REQUEST',
      );
      await assert.rejects(
        writeDurableFile(chunked(data, [65_536]), dir, { expectedSize: 5 * MiB, hasher }),
        (error: { code?: string }) => error.code === 'BAD_REQUEST',
      );
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent++ < 3) this.push(randomBytes(MiB));
          else this.destroy(new Error('connection reset'));
        },
      });
      await assert.rejects(writeDurableFile(failing, dir, { hasher }), /connection reset/);
      assert.deepEqual(await readdir(dir), []);
      // The hasher still serves the next upload.
      assert.equal((await writeDurableFile(data, dir, { hasher })).md5, md5(data));
    } finally {
      await hasher.close();
    }
  });
});

test('uploads still hashing when the hasher closes fail instead of hanging', async () => {
  await withDir(async (dir) => {
    const hasher = new Md5Hasher();
    const body = new Readable({ read() {} });
    const upload = writeDurableFile(body, dir, { hasher });
    body.push(randomBytes(2 * MiB));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await hasher.close();
    body.push(null);
    await assert.rejects(upload, (error: { code?: string }) => error.code === 'INTERNAL');
    assert.deepEqual(await readdir(dir), []);
  });
});
