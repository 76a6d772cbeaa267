/**
 * @module mapreduce/task-io
 * The store-facing side of tasks: ranged reads of input objects (from the local file when the store keeps
 * one), intermediate objects written and fetched as local run files, and outputs uploaded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../storage/index.js';
import type { RangeReader } from './line-splitter.js';

/** Collects a readable stream into one buffer. */
async function collect(body: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** A range reader over one object: positioned reads of its local file, or ranged GETs. */
export async function openRangeReader(
  store: ObjectStore,
  bucket: string,
  key: string,
): Promise<{ read: RangeReader; localPath: string | null; close(): Promise<void> }> {
  const localPath = await store.localPath(bucket, key);
  if (localPath !== null) {
    const handle = await open(localPath, 'r');
    return {
      localPath,
      read: async (start, endInclusive) => {
        const buffer = Buffer.allocUnsafe(endInclusive - start + 1);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
        return buffer.subarray(0, bytesRead);
      },
      close: () => handle.close(),
    };
  }
  return {
    localPath: null,
    read: async (start, endInclusive) => {
      const { body } = await store.get(bucket, key, { start, end: endInclusive });
      return collect(body);
    },
    close: async () => undefined,
  };
}

/** Bytes [start, end) of an object, in memory. */
export async function readRange(
  store: ObjectStore,
  bucket: string,
  key: string,
  start: number,
  end: number,
): Promise<Buffer> {
  const { body } = await store.get(bucket, key, { start, end: end - 1 });
  return collect(body);
}

/** Writes bytes [start, end) of an object to a local file. */
export async function copyRangeToFile(
  store: ObjectStore,
  bucket: string,
  key: string,
  start: number,
  end: number,
  path: string,
): Promise<void> {
  if (end <= start) {
    await pipeline(async function* () {}, createWriteStream(path));
    return;
  }
  const { body } = await store.get(bucket, key, { start, end: end - 1 });
  await pipeline(body, createWriteStream(path));
}

/** An intermediate object as a local file: the store's own file, or a download into `dir`. */
export async function localRun(
  store: ObjectStore,
  bucket: string,
  key: string,
  dir: string,
  name: string,
): Promise<string> {
  const local = await store.localPath(bucket, key);
  if (local !== null) return local;
  const path = join(dir, name);
  const { body } = await store.get(bucket, key);
  await pipeline(body, createWriteStream(path));
  return path;
}

/** Uploads a local file as an object. */
export async function uploadFile(
  store: ObjectStore,
  bucket: string,
  key: string,
  path: string,
  principal: string,
  contentType = 'text/plain; charset=utf-8',
): Promise<void> {
  await store.put(bucket, key, createReadStream(path), { contentType, principal });
}
