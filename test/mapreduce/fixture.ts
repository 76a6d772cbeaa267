/**
 * @module test/mapreduce/fixture
 * A real embedded store, a real local executor (sandboxed when bubblewrap works) and a MapReduce engine
 * in a temporary data directory, plus helpers to build jobs and read their outputs.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { createLocalExecutor, type LocalExecutor } from '../../src/executors/index.js';
import {
  MapReduceEngine,
  functionKind,
  type JobRecord,
  type MapReduceSpec,
} from '../../src/mapreduce/index.js';
import { openDatabase, type Db } from '../../src/state/index.js';
import { createFsObjectStore, type FsObjectStore } from '../../src/storage/index.js';

export interface MapReduceFixture {
  dir: string;
  db: Db;
  store: FsObjectStore;
  executor: LocalExecutor;
  engine: MapReduceEngine;
  /** Closes the engine as a server shutdown does and starts a new one on the same data directory. */
  restartEngine(): Promise<MapReduceEngine>;
  close(): Promise<void>;
}

export async function startMapReduceFixture(): Promise<MapReduceFixture> {
  // Outside /tmp: the sandbox gives scripts a private /tmp.
  await mkdir('/var/tmp', { recursive: true });
  const dir = await mkdtemp('/var/tmp/nubes-mr-');
  const logger = silentLogger();
  const db = openDatabase(join(dir, 'nubes.db'), { durable: false });
  let engine: MapReduceEngine | null = null;
  const store = await createFsObjectStore({
    db,
    rootDir: join(dir, 'objects'),
    onEvent: (event) => engine?.onStorageEvent(event),
  });
  const executor = await createLocalExecutor({
    dataDir: dir,
    sandbox: 'auto',
    maxConcurrentJobs: 4,
    store,
    logger,
  });
  const create = () =>
    MapReduceEngine.create({
      store,
      executor: () => executor,
      dataDir: dir,
      logger,
      workers: 2,
    });
  engine = await create();
  const fixture: MapReduceFixture = {
    dir,
    db,
    store,
    executor,
    engine,
    async restartEngine() {
      await fixture.engine.close();
      engine = await create();
      fixture.engine = engine;
      return engine;
    },
    async close() {
      await fixture.engine.close();
      await executor.close();
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A function file from its name and text. */
export function fn(fileName: string, text: string) {
  const content = Buffer.from(text);
  return { fileName, kind: functionKind(fileName, content), content };
}

/** A job spec with test defaults. */
export function jobSpec(
  overrides: Partial<MapReduceSpec> & Pick<MapReduceSpec, 'mapper' | 'reducer'>,
): MapReduceSpec {
  return {
    name: 'test',
    owner: '',
    input: { bucket: 'data', prefix: '' },
    inputKey: 'in.txt',
    output: { bucket: 'data', prefix: 'out' },
    combiner: null,
    reducers: 3,
    chunkBytes: null,
    mappers: null,
    memoryBytes: 256 * 1024 * 1024,
    outputMode: 'per-reducer',
    executor: 'local',
    maxAttempts: 3,
    speculative: false,
    startOn: null,
    ...overrides,
  };
}

/** Runs a job to its end. */
export async function runToEnd(fixture: MapReduceFixture, spec: MapReduceSpec): Promise<JobRecord> {
  const job = fixture.engine.submit(spec);
  return fixture.engine.wait(job.id);
}

/** Reads an object as text. */
export async function readText(store: FsObjectStore, bucket: string, key: string): Promise<string> {
  const { body } = await store.get(bucket, key);
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * The `key\tvalue` lines of a job's output objects (the manifest left out), as a map; fails unless each
 * object's keys are in byte order (what `LC_ALL=C sort` gives) and appear once.
 */
export async function outputPairs(store: FsObjectStore, job: JobRecord): Promise<Map<string, string>> {
  const pairs = new Map<string, string>();
  for (const path of job.outputs) {
    if (path.endsWith('_manifest.json')) continue;
    const slash = path.indexOf('/');
    const text = await readText(store, path.slice(0, slash), path.slice(slash + 1));
    let previous: Buffer | null = null;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const tab = line.indexOf('\t');
      const key = line.slice(0, tab);
      const bytes = Buffer.from(key);
      if (previous !== null && Buffer.compare(previous, bytes) >= 0)
        throw new Error(
          `${path}: key ${JSON.stringify(key)} comes after ${JSON.stringify(previous.toString())}`,
        );
      previous = bytes;
      if (pairs.has(key)) throw new Error(`key ${key} appears twice in the output`);
      pairs.set(key, line.slice(tab + 1));
    }
  }
  return pairs;
}

/** Runs a shell pipeline over `input` and returns its stdout. */
export function shell(command: string, input: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      '/bin/sh',
      ['-c', command],
      { maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } },
      (error, stdout) => {
        if (error) reject(new Error(error.message));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input);
  });
}

/** Word counts by coreutils, as `uniq -c` prints them. */
export async function coreutilsWordCount(text: Buffer | string): Promise<Map<string, string>> {
  const out = await shell(`tr -s ' \\t\\r\\n' '\\n' | grep -v '^$' | sort | uniq -c`, text);
  const counts = new Map<string, string>();
  for (const line of out.split('\n')) {
    const match = /^\s*(\d+) (.*)$/.exec(line);
    if (match) counts.set(match[2] as string, match[1] as string);
  }
  return counts;
}

/** A word-count mapper and reducer as a user would write them (ESM, combiner included). */
export const WORD_COUNT_JS = `
export function map(chunk, emit) {
  for (const word of chunk.toString('utf8').split(/[ \\t\\r\\n]+/)) if (word !== '') emit(word, 1);
}
export function combine(word, counts, emit) {
  let sum = 0;
  for (const count of counts) sum += count;
  emit(word, sum);
}
export function reduce(word, counts, emit) {
  let sum = 0;
  for (const count of counts) sum += count;
  emit(word, sum);
}
`;
