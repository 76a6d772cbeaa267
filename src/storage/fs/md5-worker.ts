/**
 * @module storage/fs/md5-worker
 * The worker thread behind Md5Hasher: keeps one MD5 per upload and feeds it the batches the main thread
 * transfers (and transfers each buffer back once hashed). MD5 (the ETag S3 clients check) runs at well under the speed of a disk, so a PUT that hashed on
 * the main thread would spend as long hashing as writing; here it runs beside the socket and the disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** What the main thread sends. */
export type Md5Request =
  | { op: 'update'; id: number; bytes: ArrayBuffer; length: number }
  | { op: 'digest'; id: number }
  | { op: 'abort'; id: number };

/** What the worker answers: every update is acknowledged (the main thread's backpressure). */
export type Md5Reply =
  { op: 'ack'; id: number; bytes: ArrayBuffer } | { op: 'digest'; id: number; hex: string };

const hashes = new Map<number, Hash>();
const port = parentPort;
if (port === null) throw new Error('md5-worker runs as a worker thread');

port.on('message', (message: Md5Request) => {
  switch (message.op) {
    case 'update': {
      let hash = hashes.get(message.id);
      if (hash === undefined) {
        hash = createHash('md5');
        hashes.set(message.id, hash);
      }
      hash.update(new Uint8Array(message.bytes, 0, message.length));
      // The buffer goes back to be filled again: the memory of hashing stays a few buffers, whatever the
      // traffic, instead of waiting for this thread's garbage collector.
      port.postMessage({ op: 'ack', id: message.id, bytes: message.bytes } satisfies Md5Reply, [
        message.bytes,
      ]);
      return;
    }
    case 'digest': {
      const hex = (hashes.get(message.id) ?? createHash('md5')).digest('hex');
      hashes.delete(message.id);
      port.postMessage({ op: 'digest', id: message.id, hex } satisfies Md5Reply);
      return;
    }
    case 'abort':
      hashes.delete(message.id);
  }
});
