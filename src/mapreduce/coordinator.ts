/**
 * @module mapreduce/coordinator
 * Runs one job from its inputs to its output: lists the input objects, splits them into chunks of whole
 * lines, runs the map tasks (worker threads for JS, the executor for Python and executables), stores each
 * map task's sorted partitions as intermediate objects, runs one reduce task per partition, writes the
 * output and its manifest, and removes the intermediate objects whatever the outcome.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';
import type { Logger } from '../core/index.js';
import type { Executor } from '../executors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { writeJsModule } from './function-files.js';
import type { JobRecord, MapReduceSpec, TaskRecord } from './job-model.js';
import { splitLines } from './line-splitter.js';
import { runProcessMap, runProcessReduce } from './process-tasks.js';
import { runTasks, TaskFailedError } from './task-scheduler.js';
import { localRun, openRangeReader, readRange, uploadFile } from './task-io.js';
import type { MapTaskMessage, TaskReply } from './task-messages.js';
import { WorkerPool } from './worker-pool.js';

/** The bucket that holds intermediate objects while jobs run. */
export const INTERMEDIATE_BUCKET = 'nubes-mapreduce';
const MIB = 1024 * 1024;

export interface CoordinatorDeps {
  store: ObjectStore;
  executor: (name: string) => Executor;
  logger: Logger;
  /** Folder of the job (functions, logs, work files). */
  jobDir: string;
  /** Threads (and process tasks) running at once. */
  workers: number;
  /** Called when the job record changed (progress, states). */
  changed: () => void;
}

/** The chunk size for a job: as asked, or from the data, the target mapper count, memory and workers. */
export function chunkSizeFor(spec: MapReduceSpec, totalBytes: number, workers: number): number {
  if (spec.chunkBytes !== null) return spec.chunkBytes;
  const memoryCap = Math.max(MIB, Math.floor(spec.memoryBytes / 4));
  if (spec.mappers !== null) return Math.max(1, Math.min(memoryCap, Math.ceil(totalBytes / spec.mappers)));
  // Several chunks per worker keep every thread busy to the end, and leave room for speculative copies.
  const balanced = Math.ceil(totalBytes / (workers * 4));
  return Math.max(MIB, Math.min(64 * MIB, memoryCap, balanced));
}

/** The principal outputs are written as: a job's own outputs never trigger it again. */
export function mapreducePrincipal(name: string): string {
  return `mapreduce:${name}`;
}

interface MapInput {
  bucket: string;
  key: string;
  start: number;
  end: number;
}

/** Deletes every intermediate object of a job (what a killed server left behind included). */
export async function removeIntermediates(store: ObjectStore, jobId: string): Promise<void> {
  let startAfter: string | undefined;
  try {
    await store.headBucket(INTERMEDIATE_BUCKET);
  } catch {
    return;
  }
  for (;;) {
    const page = await store.list(INTERMEDIATE_BUCKET, { prefix: `${jobId}/`, startAfter });
    await Promise.all(page.objects.map((object) => store.delete(INTERMEDIATE_BUCKET, object.key)));
    if (!page.isTruncated || page.nextStartAfter === null) return;
    startAfter = page.nextStartAfter;
  }
}

/** Runs the job described by `spec`, updating `job` as it goes; never throws (failures end in `job`). */
export async function runJob(
  spec: MapReduceSpec,
  job: JobRecord,
  deps: CoordinatorDeps,
  signal: AbortSignal,
): Promise<void> {
  const { store } = deps;
  const workDir = join(deps.jobDir, 'work');
  const logDir = join(deps.jobDir, 'logs');
  const functionDir = join(deps.jobDir, 'functions');
  const intermediate: string[] = [];
  const mapInputs = new Map<string, MapInput>();
  // Map task id → the intermediate object of each non-empty partition.
  const mapOutputs = new Map<string, Map<number, string>>();
  let pool: WorkerPool | null = null;
  const set = (patch: Partial<JobRecord>) => {
    Object.assign(job, patch);
    deps.changed();
  };

  try {
    await Promise.all([
      mkdir(workDir, { recursive: true }),
      mkdir(logDir, { recursive: true }),
      mkdir(functionDir, { recursive: true }),
    ]);
    await store.ensureBucket(INTERMEDIATE_BUCKET);
    // The administrator's JS functions run in the server's worker threads; a user's run as sandboxed
    // processes on the executor, like Python and executables (their code must not run inside the server).
    const inThreads = spec.owner === '';
    const threadModule = async (source: MapReduceSpec['combiner'], role: string) =>
      inThreads && source?.kind === 'js' ? writeJsModule(source, functionDir, role) : null;
    const modules = {
      mapper: await threadModule(spec.mapper, 'mapper'),
      reducer: await threadModule(spec.reducer, 'reducer'),
      combiner: await threadModule(spec.combiner, 'combiner'),
    };
    // Without a combiner file, a JS mapper module that exports `combine` combines its own output.
    const combinerPath = modules.combiner;

    set({ state: 'splitting' });
    const objects = await listInputs(spec, store);
    const totalBytes = objects.reduce((sum, object) => sum + object.size, 0);
    const workers = Math.max(1, deps.workers);
    const chunkBytes = chunkSizeFor(spec, totalBytes, workers);
    const tasks: TaskRecord[] = [];
    for (const object of objects) {
      const reader = await openRangeReader(store, spec.input.bucket, object.key);
      try {
        for (const chunk of await splitLines(object.size, chunkBytes, reader.read)) {
          const id = `m-${String(tasks.length).padStart(5, '0')}`;
          mapInputs.set(id, { bucket: spec.input.bucket, key: object.key, ...chunk });
          tasks.push(newTask(id, 'map', { object: object.key, start: chunk.start, end: chunk.end }));
        }
      } finally {
        await reader.close();
      }
    }
    const reduceTasks = Array.from({ length: spec.reducers }, (_, r) =>
      newTask(`r-${String(r).padStart(5, '0')}`, 'reduce', { partition: r }),
    );
    job.tasks = [...tasks, ...reduceTasks];
    set({
      chunkBytes,
      progress: {
        ...job.progress,
        mapsTotal: tasks.length,
        bytesTotal: totalBytes,
        reducesTotal: spec.reducers,
      },
    });
    if (signal.aborted) throw new Error('cancelled');

    pool = new WorkerPool(workers, {
      maxOldGenerationSizeMb: Math.max(64, Math.floor(spec.memoryBytes / MIB)),
      // Map functions allocate a string per token: a young generation this size holds what a map call
      // makes of a 1 MiB block, so that it dies young (cheap to collect); a larger one (64 MiB) took as
      // much CPU time and 100 MiB more memory per thread, a smaller one (16 MiB) more CPU time.
      maxYoungGenerationSizeMb: 32,
    });
    const activePool = pool;
    const runPool = async (
      message: Parameters<WorkerPool['run']>[0],
      transfer: ArrayBuffer[],
      attemptSignal: AbortSignal,
    ): Promise<TaskReply> => {
      const task = activePool.run(message, transfer);
      const cancel = () => task.cancel();
      attemptSignal.addEventListener('abort', cancel, { once: true });
      try {
        const reply = await task.result;
        if (reply.type === 'failed') throw new Error(reply.message);
        return reply;
      } finally {
        attemptSignal.removeEventListener('abort', cancel);
      }
    };
    const logOf = (task: TaskRecord, attempt: number) => join(logDir, `${task.id}.${attempt}.log`);
    const budgetBytes = Math.max(16 * MIB, Math.floor(spec.memoryBytes / 4));

    set({ state: 'mapping' });
    await runTasks<Extract<TaskReply, { type: 'map-done' }>>({
      tasks,
      slots: workers,
      maxAttempts: spec.maxAttempts,
      speculative: spec.speculative,
      signal,
      run: async (task, attempt, attemptSignal) => {
        const input = mapInputs.get(task.id) as MapInput;
        const taskDir = join(workDir, `${task.id}.${attempt.attempt}`);
        await mkdir(taskDir, { recursive: true });
        try {
          const base = {
            type: 'map' as const,
            taskId: `${task.id}.${attempt.attempt}`,
            combinerPath,
            reducers: spec.reducers,
            budgetBytes,
            logPath: logOf(task, attempt.attempt),
          };
          if (modules.mapper !== null) {
            const local = await store.localPath(input.bucket, input.key);
            let message: MapTaskMessage;
            const transfer: ArrayBuffer[] = [];
            if (local !== null) {
              message = {
                ...base,
                map: { kind: 'module', path: modules.mapper },
                input: { path: local, start: input.start, end: input.end },
              };
            } else {
              const bytes = await readRange(store, input.bucket, input.key, input.start, input.end);
              const owned = new Uint8Array(bytes);
              transfer.push(owned.buffer);
              message = { ...base, map: { kind: 'module', path: modules.mapper }, input: { bytes: owned } };
            }
            return (await runPool(message, transfer, attemptSignal)) as Extract<
              TaskReply,
              { type: 'map-done' }
            >;
          }
          const pairs = await runProcessMap({
            store,
            executor: deps.executor(spec.executor),
            spec,
            input,
            taskDir,
            taskId: `${job.id}-${task.id}.${attempt.attempt}`,
            logPath: base.logPath,
            signal: attemptSignal,
          });
          const message: MapTaskMessage = {
            ...base,
            // The Python and JS runners have combined already (Python with the reducer, as MARLA does).
            combinerPath: spec.mapper.kind === 'executable' ? combinerPath : null,
            map: { kind: spec.mapper.kind === 'executable' ? 'streaming-pairs' : 'python-pairs' },
            input: { path: pairs, start: 0, end: (await stat(pairs)).size },
          };
          return (await runPool(message, [], attemptSignal)) as Extract<TaskReply, { type: 'map-done' }>;
        } finally {
          await rm(taskDir, { recursive: true, force: true });
        }
      },
      onSuccess: async (task, reply) => {
        const outputs = new Map<number, string>();
        let records = 0;
        for (const [partition, bytes] of reply.partitions.entries()) {
          records += reply.records[partition] ?? 0;
          if (bytes.byteLength === 0) continue;
          const key = `${job.id}/${task.id}/part-${partition}`;
          intermediate.push(key);
          await store.put(
            INTERMEDIATE_BUCKET,
            key,
            Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
            {
              contentType: 'application/octet-stream',
              principal: mapreducePrincipal(spec.name),
            },
          );
          outputs.set(partition, key);
        }
        task.records = records;
        mapOutputs.set(task.id, outputs);
        const input = mapInputs.get(task.id) as MapInput;
        job.progress.mapsDone++;
        job.progress.bytesRead += input.end - input.start;
        deps.changed();
      },
    });

    set({ state: 'reducing' });
    const outDir = join(workDir, 'out');
    const runDir = join(workDir, 'runs');
    await Promise.all([mkdir(outDir, { recursive: true }), mkdir(runDir, { recursive: true })]);
    const outFiles = new Map<number, string>();
    await runTasks<string>({
      tasks: reduceTasks,
      slots: workers,
      maxAttempts: spec.maxAttempts,
      speculative: spec.speculative,
      signal,
      run: async (task, attempt, attemptSignal) => {
        const partition = task.partition as number;
        const runs: string[] = [];
        for (const mapTask of tasks) {
          const key = mapOutputs.get(mapTask.id)?.get(partition);
          if (key !== undefined)
            runs.push(await localRun(store, INTERMEDIATE_BUCKET, key, runDir, key.replace(/\//g, '_')));
        }
        const taskDir = join(workDir, `${task.id}.${attempt.attempt}`);
        await mkdir(taskDir, { recursive: true });
        const outPath = join(outDir, `${task.id}.${attempt.attempt}`);
        const logPath = logOf(task, attempt.attempt);
        const taskId = `${task.id}.${attempt.attempt}`;
        try {
          if (modules.reducer !== null) {
            await runPool(
              {
                type: 'reduce',
                taskId,
                mode: { kind: 'module', path: modules.reducer },
                combine: { mapperPath: modules.mapper, combinerPath: modules.combiner },
                runs,
                spillDir: taskDir,
                budgetBytes,
                outPath,
                logPath,
              },
              [],
              attemptSignal,
            );
          } else {
            const merged = join(taskDir, 'merged');
            await runPool(
              {
                type: 'reduce',
                taskId,
                mode: { kind: 'lines' },
                combine: { mapperPath: null, combinerPath: null },
                runs,
                spillDir: taskDir,
                budgetBytes,
                outPath: merged,
                logPath,
              },
              [],
              attemptSignal,
            );
            await runProcessReduce({
              executor: deps.executor(spec.executor),
              spec,
              merged,
              outPath,
              taskDir,
              taskId: `${job.id}-${taskId}`,
              logPath,
              signal: attemptSignal,
            });
            // Keys sorted in every output, whatever order the process wrote them in.
            await runPool(
              {
                type: 'lines',
                taskId,
                op: 'sort',
                paths: [outPath],
                outPath,
                spillDir: taskDir,
                budgetBytes,
                logPath,
              },
              [],
              attemptSignal,
            );
          }
          return outPath;
        } finally {
          await rm(taskDir, { recursive: true, force: true });
        }
      },
      onSuccess: (task, outPath) => {
        outFiles.set(task.partition as number, outPath);
        job.progress.reducesDone++;
        deps.changed();
      },
    });

    set({ state: 'writing' });
    let files = [...outFiles.entries()].sort((a, b) => a[0] - b[0]).map(([, path]) => path);
    if (spec.outputMode === 'merged') {
      // One object sorted by key: the reducers' sorted outputs merged.
      const merged = join(workDir, 'merged-results');
      await runPool(
        {
          type: 'lines',
          taskId: 'merge',
          op: 'merge',
          paths: files,
          outPath: merged,
          spillDir: workDir,
          budgetBytes,
          logPath: join(logDir, 'merge.log'),
        },
        [],
        signal,
      );
      files = [merged];
    }
    const outputs = await writeOutputs(spec, job, files, store);
    set({ state: 'succeeded', outputs, finishedMs: Date.now() });
  } catch (error) {
    if (signal.aborted && signal.reason === 'shutdown') {
      // Left unfinished on purpose: the engine starts it again when the server comes back.
      set({ state: 'pending' });
    } else if (signal.aborted) {
      set({
        state: 'cancelled',
        finishedMs: Date.now(),
        error: { message: 'the job was cancelled', task: null, log: null },
      });
    } else if (error instanceof TaskFailedError) {
      const log = await readFile(join(logDir, `${error.task.id}.${error.attempt.attempt}.log`), 'utf8').catch(
        () => '',
      );
      set({
        state: 'failed',
        finishedMs: Date.now(),
        error: { message: error.message, task: error.task.id, log: log.slice(-64 * 1024) },
      });
    } else {
      deps.logger.warn({ err: error, job: job.id }, 'mapreduce job failed');
      set({
        state: 'failed',
        finishedMs: Date.now(),
        error: { message: error instanceof Error ? error.message : String(error), task: null, log: null },
      });
    }
  } finally {
    await pool?.close();
    await Promise.all(
      intermediate.map((key) => store.delete(INTERMEDIATE_BUCKET, key).catch(() => undefined)),
    );
    await rm(workDir, { recursive: true, force: true });
    deps.changed();
  }
}

function newTask(id: string, kind: 'map' | 'reduce', where: Partial<TaskRecord>): TaskRecord {
  return {
    id,
    kind,
    state: 'pending',
    object: null,
    start: null,
    end: null,
    partition: null,
    attempts: [],
    winner: null,
    records: 0,
    ...where,
  };
}

/** The objects a job reads: its one key, or every object under its prefix (folder markers skipped). */
async function listInputs(spec: MapReduceSpec, store: ObjectStore): Promise<{ key: string; size: number }[]> {
  if (spec.inputKey !== null) {
    const info = await store.head(spec.input.bucket, spec.inputKey);
    return [{ key: info.key, size: info.size }];
  }
  const objects: { key: string; size: number }[] = [];
  const prefix = spec.input.prefix === '' ? '' : `${spec.input.prefix}/`;
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(spec.input.bucket, { prefix, startAfter });
    for (const object of page.objects) {
      if (object.key.endsWith('/') && object.size === 0) continue;
      // The marker that started the job is not data.
      if (spec.startOn !== null && posix.basename(object.key) === spec.startOn) continue;
      objects.push({ key: object.key, size: object.size });
    }
    if (!page.isTruncated || page.nextStartAfter === null) break;
    startAfter = page.nextStartAfter;
  }
  return objects;
}

/** Uploads the reducers' files (one object each, or one merged object) and the manifest. */
async function writeOutputs(
  spec: MapReduceSpec,
  job: JobRecord,
  files: string[],
  store: ObjectStore,
): Promise<string[]> {
  const principal = mapreducePrincipal(spec.name);
  const prefix = spec.output.prefix === '' ? '' : `${spec.output.prefix}/`;
  const parts: { key: string; bytes: number }[] = [];
  for (const [index, file] of files.entries()) {
    const key =
      spec.outputMode === 'merged' ? `${prefix}results` : `${prefix}part-r-${String(index).padStart(5, '0')}`;
    await uploadFile(store, spec.output.bucket, key, file, principal);
    parts.push({ key, bytes: (await stat(file)).size });
  }
  // Written last: its presence says the output is complete.
  const manifest = {
    job: job.id,
    name: spec.name,
    input: job.input,
    inputs: [...new Set(job.tasks.flatMap((task) => (task.object === null ? [] : [task.object])))],
    reducers: spec.reducers,
    outputMode: spec.outputMode,
    order: 'each part sorted by key bytes (code-point order, as LC_ALL=C sort)',
    parts,
    progress: job.progress,
    finishedAt: new Date().toISOString(),
  };
  const manifestKey = `${prefix}_manifest.json`;
  await store.put(spec.output.bucket, manifestKey, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), {
    contentType: 'application/json',
    principal,
  });
  return [
    ...parts.map((part) => `${spec.output.bucket}/${part.key}`),
    `${spec.output.bucket}/${manifestKey}`,
  ];
}

/** Worker threads by default: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}
