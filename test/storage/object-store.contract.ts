/**
 * @module test/storage/object-store.contract
 * The behaviour every ObjectStore must have, run against each implementation in a few lines
 * (`runObjectStoreContract('fs', makeStore)`).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { PlatformError, type ErrorCode } from '../../src/core/index.js';
import type { ObjectStore, StorageEvent } from '../../src/storage/index.js';

export interface ContractSubject {
  store: ObjectStore;
  /** Every event the store reported, in order. */
  events: StorageEvent[];
  cleanup(): Promise<void>;
}

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function md5(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

export async function rejectsWith(
  promise: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode,
): Promise<void> {
  await assert.rejects(typeof promise === 'function' ? promise() : promise, (error: unknown) => {
    assert.ok(error instanceof PlatformError, `expected a PlatformError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Registers the contract tests for one ObjectStore implementation. */
export function runObjectStoreContract(name: string, makeStore: () => Promise<ContractSubject>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ObjectStore;
    let counter = 0;
    // Each test works in buckets of its own, so tests stay independent on one store.
    const newBucket = async (): Promise<string> => {
      const bucket = `contract-${process.pid}-${++counter}`;
      await store.createBucket(bucket);
      return bucket;
    };
    const eventsFor = (bucket: string): StorageEvent[] =>
      subject.events.filter((event) => event.bucket === bucket);

    before(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    after(async () => {
      await subject.cleanup();
    });

    test('buckets: create, head, list, ensure, refuse duplicates and bad names, delete only when empty', async () => {
      const bucket = `contract-${process.pid}-buckets`;
      const created = await store.createBucket(bucket);
      assert.equal(created.name, bucket);
      assert.equal((await store.headBucket(bucket)).name, bucket);
      assert.ok((await store.listBuckets()).some((info) => info.name === bucket));
      await rejectsWith(store.createBucket(bucket), 'BUCKET_EXISTS');
      await store.ensureBucket(bucket);
      await store.ensureBucket(`${bucket}-ensured`);
      assert.equal((await store.headBucket(`${bucket}-ensured`)).name, `${bucket}-ensured`);
      await rejectsWith(() => store.createBucket('Bad_Name'), 'INVALID_BUCKET_NAME');
      await rejectsWith(() => store.headBucket('no-such-bucket-here'), 'BUCKET_NOT_FOUND');

      await store.put(bucket, 'k', Buffer.from('x'));
      await rejectsWith(store.deleteBucket(bucket), 'BUCKET_NOT_EMPTY');
      await store.delete(bucket, 'k');
      await store.deleteBucket(bucket);
      await store.deleteBucket(`${bucket}-ensured`);
      await rejectsWith(() => store.headBucket(bucket), 'BUCKET_NOT_FOUND');
      await rejectsWith(() => store.deleteBucket(bucket), 'BUCKET_NOT_FOUND');
    });

    test('put then get and head return the bytes, MD5 etag, content type and lower-cased metadata', async () => {
      const bucket = await newBucket();
      const data = Buffer.from('hello, object store\n');
      const info = await store.put(bucket, 'in/hello.txt', data, {
        contentType: 'text/plain',
        metadata: { Origin: 'contract', 'x-note': 'a b' },
        principal: 'alice',
        sourceIp: '10.1.2.3',
      });
      assert.equal(info.size, data.length);
      assert.equal(info.etag, md5(data));
      const head = await store.head(bucket, 'in/hello.txt');
      assert.equal(head.size, data.length);
      assert.equal(head.etag, md5(data));
      assert.equal(head.contentType, 'text/plain');
      assert.deepEqual(head.metadata, { origin: 'contract', 'x-note': 'a b' });
      assert.ok(head.lastModifiedMs > 0);
      const got = await store.get(bucket, 'in/hello.txt');
      assert.equal(got.range, null);
      assert.deepEqual(await readAll(got.body), data);
      assert.equal(got.info.etag, md5(data));

      const [event] = eventsFor(bucket);
      assert.ok(event);
      assert.equal(event.name, 'ObjectCreated:Put');
      assert.equal(event.key, 'in/hello.txt');
      assert.equal(event.size, data.length);
      assert.equal(event.etag, md5(data));
      assert.equal(event.principal, 'alice');
      assert.equal(event.sourceIp, '10.1.2.3');
    });

    test('streamed bodies are stored whole, with or without an announced size; empty objects too', async () => {
      const bucket = await newBucket();
      const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000, i));
      const whole = Buffer.concat(parts);
      await store.put(bucket, 'sized', Readable.from(parts), { expectedSize: whole.length });
      await store.put(bucket, 'unsized', Readable.from(parts));
      await store.put(bucket, 'empty', Buffer.alloc(0));
      for (const key of ['sized', 'unsized']) {
        assert.deepEqual(await readAll((await store.get(bucket, key)).body), whole, key);
        assert.equal((await store.head(bucket, key)).etag, md5(whole));
      }
      const empty = await store.get(bucket, 'empty');
      assert.equal((await readAll(empty.body)).length, 0);
      assert.equal(empty.info.size, 0);
    });

    test('a PUT replaces the object; a GET opened before keeps reading the old bytes', async () => {
      const bucket = await newBucket();
      const first = Buffer.alloc(200_000, 'a');
      await store.put(bucket, 'k', first);
      const reading = await store.get(bucket, 'k');
      await store.put(bucket, 'k', Buffer.from('second'));
      assert.deepEqual(await readAll(reading.body), first);
      assert.equal((await readAll((await store.get(bucket, 'k')).body)).toString(), 'second');
      assert.deepEqual(
        eventsFor(bucket).map((event) => event.name),
        ['ObjectCreated:Put', 'ObjectCreated:Put'],
      );
    });

    test('inclusive byte ranges, clamped at the end; unsatisfiable ranges are INVALID_RANGE', async () => {
      const bucket = await newBucket();
      const data = Buffer.from('0123456789abcdef');
      await store.put(bucket, 'r', data);
      const head = await store.get(bucket, 'r', { start: 0, end: 4 });
      assert.equal((await readAll(head.body)).toString(), '01234');
      assert.deepEqual(head.range, { start: 0, end: 4 });
      const tail = await store.get(bucket, 'r', { start: 10, end: 1000 });
      assert.equal((await readAll(tail.body)).toString(), 'abcdef');
      assert.deepEqual(tail.range, { start: 10, end: 15 });
      assert.equal(tail.info.size, 16);
      const one = await store.get(bucket, 'r', { start: 15, end: 15 });
      assert.equal((await readAll(one.body)).toString(), 'f');
      await rejectsWith(() => store.get(bucket, 'r', { start: 16, end: 20 }), 'INVALID_RANGE');
      await rejectsWith(() => store.get(bucket, 'r', { start: 5, end: 4 }), 'INVALID_RANGE');
      await rejectsWith(() => store.get(bucket, 'r', { start: -1, end: 4 }), 'INVALID_RANGE');
      await store.put(bucket, 'empty', Buffer.alloc(0));
      await rejectsWith(() => store.get(bucket, 'empty', { start: 0, end: 0 }), 'INVALID_RANGE');
    });

    test('a body that does not match its MD5 or its size is refused and stores nothing', async () => {
      const bucket = await newBucket();
      await store.put(bucket, 'kept', Buffer.from('original'));
      await rejectsWith(
        store.put(bucket, 'kept', Buffer.from('changed'), { expectedMd5: md5('something else') }),
        'BAD_REQUEST',
      );
      await rejectsWith(
        store.put(bucket, 'new', Readable.from([Buffer.from('abc')]), { expectedSize: 10 }),
        'BAD_REQUEST',
      );
      await rejectsWith(
        store.put(bucket, 'new', Readable.from([Buffer.from('abcdefghijkl')]), { expectedSize: 10 }),
        'BAD_REQUEST',
      );
      await rejectsWith(store.head(bucket, 'new'), 'OBJECT_NOT_FOUND');
      assert.equal((await readAll((await store.get(bucket, 'kept')).body)).toString(), 'original');
      const right = await store.put(bucket, 'md5', Buffer.from('abc'), {
        expectedMd5: md5('abc').toUpperCase(),
      });
      assert.equal(right.etag, md5('abc'));
      assert.deepEqual(
        eventsFor(bucket).map((event) => event.key),
        ['kept', 'md5'],
      );
    });

    test('missing objects and buckets have their own codes', async () => {
      const bucket = await newBucket();
      await rejectsWith(() => store.get(bucket, 'nothing'), 'OBJECT_NOT_FOUND');
      await rejectsWith(() => store.head(bucket, 'nothing'), 'OBJECT_NOT_FOUND');
      await rejectsWith(() => store.get('no-such-bucket-here', 'k'), 'BUCKET_NOT_FOUND');
      await rejectsWith(() => store.head('no-such-bucket-here', 'k'), 'BUCKET_NOT_FOUND');
      await rejectsWith(() => store.list('no-such-bucket-here'), 'BUCKET_NOT_FOUND');
      await rejectsWith(() => store.put('no-such-bucket-here', 'k', Buffer.from('x')), 'BUCKET_NOT_FOUND');
    });

    test('list: prefix, delimiter, common prefixes, pages that cover every key once, UTF-8 byte order', async () => {
      const bucket = await newBucket();
      const keys = ['a/1', 'a/2', 'a/sub/3', 'b', 'c/x', 'd', 'é', '\uff5e', '😀', 'z z'];
      for (const key of keys) await store.put(bucket, key, Buffer.from(key));

      const all = await store.list(bucket);
      assert.deepEqual(
        all.objects.map((object) => object.key),
        ['a/1', 'a/2', 'a/sub/3', 'b', 'c/x', 'd', 'z z', 'é', '\uff5e', '😀'],
      );
      assert.equal(all.isTruncated, false);
      assert.equal(all.nextStartAfter, null);
      assert.equal(all.objects[0]?.size, 3);
      assert.equal(all.objects[0]?.etag, md5('a/1'));

      const top = await store.list(bucket, { delimiter: '/' });
      assert.deepEqual(top.commonPrefixes, ['a/', 'c/']);
      assert.deepEqual(
        top.objects.map((object) => object.key),
        ['b', 'd', 'z z', 'é', '\uff5e', '😀'],
      );
      const inA = await store.list(bucket, { prefix: 'a/', delimiter: '/' });
      assert.deepEqual(inA.commonPrefixes, ['a/sub/']);
      assert.deepEqual(
        inA.objects.map((object) => object.key),
        ['a/1', 'a/2'],
      );

      const seen: string[] = [];
      let startAfter: string | undefined;
      for (let page = 0; page < 20; page++) {
        const result = await store.list(bucket, {
          delimiter: '/',
          maxKeys: 3,
          ...(startAfter ? { startAfter } : {}),
        });
        assert.ok(result.objects.length + result.commonPrefixes.length <= 3);
        seen.push(...result.commonPrefixes, ...result.objects.map((object) => object.key));
        if (!result.isTruncated) break;
        assert.ok(result.nextStartAfter !== null);
        startAfter = result.nextStartAfter;
      }
      assert.deepEqual(
        seen.sort(),
        [...top.commonPrefixes, ...top.objects.map((object) => object.key)].sort(),
      );
      assert.equal(new Set(seen).size, seen.length);

      const after = await store.list(bucket, { startAfter: 'c/x' });
      assert.equal(after.objects[0]?.key, 'd');
    });

    test('delete removes the object and reports an event only when something was deleted', async () => {
      const bucket = await newBucket();
      await store.put(bucket, 'gone', Buffer.from('bye'));
      await store.delete(bucket, 'gone', { principal: 'bob', sourceIp: '10.0.0.9' });
      await rejectsWith(() => store.head(bucket, 'gone'), 'OBJECT_NOT_FOUND');
      await store.delete(bucket, 'gone');
      await store.delete(bucket, 'never-was');
      const events = eventsFor(bucket);
      assert.deepEqual(
        events.map((event) => event.name),
        ['ObjectCreated:Put', 'ObjectRemoved:Delete'],
      );
      assert.equal(events[1]?.principal, 'bob');
      assert.equal(events[1]?.sourceIp, '10.0.0.9');
      assert.equal(events[1]?.size, 3);
      await rejectsWith(() => store.delete('no-such-bucket-here', 'k'), 'BUCKET_NOT_FOUND');
    });

    test('unsafe keys are INVALID_KEY for every operation and nothing is stored', async () => {
      const bucket = await newBucket();
      for (const key of [
        '../x',
        'a/../../b',
        '..',
        './x',
        'a\\..\\b',
        '/abs',
        'nul\u0000byte',
        '',
        'x'.repeat(1025),
      ]) {
        await rejectsWith(() => store.put(bucket, key, Buffer.from('evil')), 'INVALID_KEY');
        await rejectsWith(() => store.get(bucket, key), 'INVALID_KEY');
        await rejectsWith(() => store.delete(bucket, key), 'INVALID_KEY');
      }
      assert.deepEqual((await store.list(bucket)).objects, []);
      assert.deepEqual(eventsFor(bucket), []);
    });

    test('localPath is null or a read-only file with the object bytes', async () => {
      const bucket = await newBucket();
      await store.put(bucket, 'local', Buffer.from('on disk'));
      const path = await store.localPath(bucket, 'local');
      if (path !== null) assert.equal(await readFile(path, 'utf8'), 'on disk');
    });
  });
}
