import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { integrityCheck, openDatabase } from '../../src/state/index.js';
import { createFsObjectStore } from '../../src/storage/index.js';
import { readAll } from './object-store.contract.js';
import { objectBytes, objectKey } from './crash-writer.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));

/** Runs the writer until `acks` PUTs have resolved (plus a random moment), then SIGKILLs it. */
async function runAndKill(dir: string, first: number, acks: number): Promise<number[]> {
  const child = spawn(process.execPath, [WRITER, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const acknowledged: number[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^ack (\d+)$/.exec(line);
    if (match) acknowledged.push(Number(match[1]));
    if (acknowledged.length === acks) {
      // Kill at an arbitrary point of the next PUTs: mid-write, mid-rename or mid-commit.
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 25));
    }
  }
  const signal = await exited;
  assert.equal(signal, 'SIGKILL', `the writer should have been killed, not exit (${stderr})`);
  return acknowledged;
}

test(
  'PUTs acknowledged before a SIGKILL survive it whole; no orphan file or row remains',
  { timeout: 120_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nubes-crash-'));
    try {
      const acknowledged = [...(await runAndKill(dir, 0, 150)), ...(await runAndKill(dir, 100_000, 150))];
      assert.ok(acknowledged.length >= 300);

      const db = openDatabase(join(dir, 'nubes.db'));
      assert.equal(integrityCheck(db), 'ok');
      const store = await createFsObjectStore({ db, rootDir: join(dir, 'objects') });
      try {
        for (const n of acknowledged) {
          const expected = objectBytes(n);
          const got = await store.get('crash', objectKey(n));
          assert.equal(got.info.etag, createHash('md5').update(expected).digest('hex'), `object ${n}`);
          assert.ok((await readAll(got.body)).equals(expected), `bytes of object ${n}`);
        }
        // Every row has its file and its job (they committed together), and every file its row.
        const rows = db.prepare('SELECT key, file FROM objects WHERE bucket = ?').all('crash') as {
          key: string;
          file: string;
        }[];
        const jobs = new Set(
          (db.prepare('SELECT input_key FROM jobs').all() as { input_key: string }[]).map(
            (row) => row.input_key,
          ),
        );
        assert.equal(jobs.size, rows.length);
        for (const row of rows) assert.ok(jobs.has(row.key), `job of ${row.key}`);
        const files = await readdir(join(dir, 'objects', 'crash'));
        assert.deepEqual(files.sort(), rows.map((row) => row.file).sort());
        assert.deepEqual(await readdir(join(dir, 'objects', '.tmp')), []);
      } finally {
        await store.close();
        db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
