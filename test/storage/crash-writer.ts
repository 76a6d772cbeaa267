/**
 * @module test/storage/crash-writer
 * Child process of the crash-safety test: PUTs objects into the embedded store as fast as it can, four at
 * a time, printing `ack <n>` once each PUT has resolved, until it is killed. Its event hook records a job
 * row in the same transaction, as the events domain does. Usage: crash-writer.js <dir> <first-index>.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase } from '../../src/state/index.js';
import { createFsObjectStore } from '../../src/storage/index.js';

/** The bytes of object n: deterministic, of varied sizes (empty included). */
export function objectBytes(n: number): Buffer {
  const size = (n * 7919) % 200_000;
  const seed = createHash('sha256').update(`object-${n}`).digest();
  const out = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += seed.length) seed.copy(out, offset);
  return out;
}

export function objectKey(n: number): string {
  return `in/${n % 7}/object-${n}.bin`;
}

async function main(): Promise<void> {
  const [dir = '', firstText = '0'] = process.argv.slice(2);
  const db = openDatabase(join(dir, 'nubes.db'));
  const insertJob = db.prepare(
    `INSERT INTO jobs (id, service, kind, status, event, input_bucket, input_key, max_attempts, run_after, created_at, seq)
     VALUES (?, 'crash-test', 'storage', 'queued', ?, ?, ?, 1, 0, 0, 0)`,
  );
  const store = await createFsObjectStore({
    db,
    rootDir: join(dir, 'objects'),
    onEvent: (event) => {
      insertJob.run(`${event.bucket}/${event.key}`, JSON.stringify(event), event.bucket, event.key);
    },
  });
  await store.ensureBucket('crash');
  let next = Number(firstText);
  const worker = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      await store.put('crash', objectKey(n), objectBytes(n));
      process.stdout.write(`ack ${n}\n`);
    }
  };
  process.stdout.write('ready\n');
  await Promise.all([worker(), worker(), worker(), worker()]);
}

if (process.argv[1]?.endsWith('crash-writer.js')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
