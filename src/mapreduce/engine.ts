/**
 * @module mapreduce/engine
 * The MapReduce engine of one server: jobs submitted through the API or started by an upload into the
 * input of a deployed definition (from an FDL `mapreduce` section), their states kept in memory and in
 * `<dataDir>/mapreduce/jobs/<id>/job.json` beside the job's spec, and the task logs. A job cut short by a
 * restart (a shutdown, or the process killed) is started again from the beginning when the server comes
 * back, up to MAX_RESUMES times; after that, or without its spec, it is reported failed, saying why.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import type { Logger } from '../core/index.js';
import { PlatformError, newId } from '../core/index.js';
import type { Executor } from '../executors/index.js';
import type { ObjectStore, StorageEvent } from '../storage/index.js';
import { defaultWorkers, mapreducePrincipal, removeIntermediates, runJob } from './coordinator.js';
import { jobSummary, type JobRecord, type MapReduceSpec } from './job-model.js';
import {
  definitionFromJson,
  definitionToJson,
  specFromStored,
  specToStored,
  type MapReduceDefinitionJson,
} from './spec-json.js';

export interface MapReduceEngineOptions {
  store: ObjectStore;
  executor: (name: string) => Executor;
  dataDir: string;
  logger: Logger;
  /** Worker threads per job. @default one per core */
  workers?: number;
}

interface ActiveJob {
  controller: AbortController;
  done: Promise<void>;
}

/** Finished jobs kept in memory (older ones stay on disk until removed). */
const MAX_KEPT_JOBS = 500;
/** Restarts a job survives before it is failed (a job that brings the server down must not loop). */
export const MAX_RESUMES = 3;
/** The abort reason of a shutdown: the job stays resumable. */
const SHUTDOWN = 'shutdown';
const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

export class MapReduceEngine {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly active = new Map<string, ActiveJob>();
  private readonly definitions = new Map<string, MapReduceSpec>();
  private readonly saveTimers = new Map<string, NodeJS.Timeout>();
  private readonly root: string;
  private closed = false;

  private constructor(private readonly options: MapReduceEngineOptions) {
    this.root = join(options.dataDir, 'mapreduce');
  }

  /** Creates the engine and loads deployed definitions and past jobs. */
  static async create(options: MapReduceEngineOptions): Promise<MapReduceEngine> {
    const engine = new MapReduceEngine(options);
    await engine.load();
    return engine;
  }

  private get jobRoot(): string {
    return join(this.root, 'jobs');
  }

  private get definitionFile(): string {
    return join(this.root, 'definitions.json');
  }

  private async load(): Promise<void> {
    await mkdir(this.jobRoot, { recursive: true, mode: 0o700 });
    try {
      const stored = JSON.parse(await readFile(this.definitionFile, 'utf8')) as StoredDefinition[];
      for (const { owner, ...json } of stored) {
        const spec = definitionFromJson(json, owner ?? '');
        this.definitions.set(spec.name, spec);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const resumable: { job: JobRecord; spec: MapReduceSpec }[] = [];
    for (const id of await readdir(this.jobRoot)) {
      let job: JobRecord;
      try {
        job = JSON.parse(await readFile(join(this.jobRoot, id, 'job.json'), 'utf8')) as JobRecord;
      } catch {
        // A folder without a readable record: a job that never got going.
        continue;
      }
      job.owner ??= '';
      job.resumes ??= 0;
      this.jobs.set(job.id, job);
      if (ENDED.has(job.state)) continue;
      const spec = await readFile(join(this.jobRoot, id, 'spec.json'), 'utf8')
        .then(specFromStored)
        .catch(() => null);
      // Whatever it left behind goes: a resumed job starts from nothing, a failed one keeps nothing.
      await removeIntermediates(this.options.store, job.id).catch(() => undefined);
      await rm(join(this.jobRoot, id, 'work'), { recursive: true, force: true });
      if (spec !== null && job.resumes < MAX_RESUMES) {
        resumable.push({ job, spec });
        continue;
      }
      job.state = 'failed';
      job.finishedMs = Date.now();
      job.error = {
        message:
          spec === null
            ? 'the server stopped while the job ran, and its definition was not saved; run it again'
            : `the server stopped while the job ran, ${job.resumes} times; it is not resumed again`,
        task: null,
        log: null,
      };
      await this.save(job);
    }
    for (const { job, spec } of resumable) {
      job.resumes++;
      Object.assign(job, freshState(spec));
      this.options.logger.info({ job: job.id, resumes: job.resumes }, 'resuming a MapReduce job');
      this.start(job, spec);
    }
  }

  /** Starts a job; resolves with its record as soon as it is queued. */
  submit(spec: MapReduceSpec, trigger = 'api'): JobRecord {
    if (this.closed) throw new PlatformError('UNAVAILABLE', 'the MapReduce engine is shutting down');
    const input =
      spec.inputKey !== null
        ? `${spec.input.bucket}/${spec.inputKey}`
        : `${spec.input.bucket}/${spec.input.prefix}`;
    const job: JobRecord = {
      id: `mr-${newId()}`,
      name: spec.name,
      createdMs: Date.now(),
      trigger,
      owner: spec.owner,
      resumes: 0,
      input,
      output: spec.output.prefix === '' ? spec.output.bucket : `${spec.output.bucket}/${spec.output.prefix}`,
      reducers: spec.reducers,
      ...freshState(spec),
    };
    this.jobs.set(job.id, job);
    this.trim();
    this.start(job, spec);
    return job;
  }

  private start(job: JobRecord, spec: MapReduceSpec): void {
    const id = job.id;
    const controller = new AbortController();
    const jobDir = join(this.jobRoot, id);
    const done = (async () => {
      await mkdir(jobDir, { recursive: true, mode: 0o700 });
      // The spec (function files included) first, so that a restart can run the job again.
      if (job.resumes === 0) await writeFile(join(jobDir, 'spec.json'), specToStored(spec), { mode: 0o600 });
      await this.save(job);
      await runJob(
        spec,
        job,
        {
          store: this.options.store,
          executor: this.options.executor,
          logger: this.options.logger,
          jobDir,
          workers: this.options.workers ?? defaultWorkers(),
          changed: () => this.scheduleSave(job),
        },
        controller.signal,
      );
      if (controller.signal.reason === SHUTDOWN && !ENDED.has(job.state)) {
        this.options.logger.info(
          { job: id },
          'MapReduce job interrupted by the shutdown; it resumes at start',
        );
      }
    })()
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, job: id }, 'mapreduce job crashed');
        job.state = 'failed';
        job.error = {
          message: error instanceof Error ? error.message : String(error),
          task: null,
          log: null,
        };
      })
      .finally(async () => {
        this.active.delete(id);
        const timer = this.saveTimers.get(id);
        if (timer) clearTimeout(timer);
        this.saveTimers.delete(id);
        await this.save(job).catch(() => undefined);
      });
    this.active.set(id, { controller, done });
  }

  private trim(): void {
    if (this.jobs.size <= MAX_KEPT_JOBS) return;
    for (const [id] of this.jobs) {
      if (this.jobs.size <= MAX_KEPT_JOBS) break;
      if (!this.active.has(id)) this.jobs.delete(id);
    }
  }

  private scheduleSave(job: JobRecord): void {
    if (this.saveTimers.has(job.id)) return;
    this.saveTimers.set(
      job.id,
      setTimeout(() => {
        this.saveTimers.delete(job.id);
        void this.save(job).catch(() => undefined);
      }, 500),
    );
  }

  private async save(job: JobRecord): Promise<void> {
    const dir = join(this.jobRoot, job.id);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, 'job.json.tmp');
    await writeFile(temp, JSON.stringify(job));
    await rename(temp, join(dir, 'job.json'));
  }

  get(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job) throw new PlatformError('JOB_NOT_FOUND', `no MapReduce job "${id}"`);
    return job;
  }

  /** Jobs, newest first, without their tasks: all of them, or those of one owner. */
  list(owner: string | null = null): ReturnType<typeof jobSummary>[] {
    return [...this.jobs.values()]
      .filter((job) => owner === null || job.owner === owner)
      .sort((a, b) => b.createdMs - a.createdMs)
      .map(jobSummary);
  }

  /** Resolves when the job has ended. */
  async wait(id: string): Promise<JobRecord> {
    const job = this.get(id);
    await this.active.get(id)?.done;
    return job;
  }

  cancel(id: string): JobRecord {
    const job = this.get(id);
    this.active.get(id)?.controller.abort();
    return job;
  }

  /** Deletes a finished job's record and logs. */
  async remove(id: string): Promise<void> {
    this.get(id);
    if (this.active.has(id))
      throw new PlatformError('CONFLICT', `job "${id}" is still running; cancel it first`);
    this.jobs.delete(id);
    await rm(join(this.jobRoot, id), { recursive: true, force: true });
  }

  /** The log of a task's attempt (the last one by default). */
  async taskLog(id: string, taskId: string, attempt?: number): Promise<string> {
    const job = this.get(id);
    const task = job.tasks.find((candidate) => candidate.id === taskId);
    if (!task) throw new PlatformError('NOT_FOUND', `job "${id}" has no task "${taskId}"`);
    const number = attempt ?? task.attempts.length;
    if (!Number.isInteger(number) || number < 1 || number > task.attempts.length)
      throw new PlatformError('NOT_FOUND', `task "${taskId}" has no attempt ${String(number)}`);
    try {
      return await readFile(join(this.jobRoot, id, 'logs', `${taskId}.${number}.log`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  }

  /** Deploys (or replaces) a definition: uploads into its input start a job over the uploaded object. */
  async saveDefinition(spec: MapReduceSpec): Promise<{ created: boolean }> {
    const created = !this.definitions.has(spec.name);
    this.definitions.set(spec.name, spec);
    await this.options.store.ensureBucket(spec.input.bucket);
    await this.options.store.ensureBucket(spec.output.bucket);
    await this.persistDefinitions();
    return { created };
  }

  async deleteDefinition(name: string): Promise<void> {
    if (!this.definitions.delete(name))
      throw new PlatformError('NOT_FOUND', `no MapReduce definition "${name}"`);
    await this.persistDefinitions();
  }

  getDefinition(name: string): MapReduceSpec {
    const spec = this.definitions.get(name);
    if (!spec) throw new PlatformError('NOT_FOUND', `no MapReduce definition "${name}"`);
    return spec;
  }

  listDefinitions(): MapReduceSpec[] {
    return [...this.definitions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private async persistDefinitions(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const temp = `${this.definitionFile}.tmp`;
    const stored: StoredDefinition[] = this.listDefinitions().map((spec) => ({
      ...definitionToJson(spec),
      owner: spec.owner,
    }));
    await writeFile(temp, JSON.stringify(stored), { mode: 0o600 });
    await rename(temp, this.definitionFile);
  }

  /**
   * The storage hook: a created object inside a definition's input starts a job over that object, with
   * its output in `<output>/<object name without extension>/` (MARLA's layout); with `startOn`, only the
   * marker's upload starts a job, over every object of the marker's folder, its output in
   * `<output>/<folder below the input>/`. Called inside the store's transaction, so the job starts once
   * the current call stack is done.
   */
  readonly onStorageEvent = (event: StorageEvent): void => {
    if (!event.name.startsWith('ObjectCreated') || this.closed) return;
    for (const spec of this.definitions.values()) {
      if (spec.input.bucket !== event.bucket) continue;
      if (spec.input.prefix !== '' && !event.key.startsWith(`${spec.input.prefix}/`)) continue;
      if (event.principal === mapreducePrincipal(spec.name)) continue;
      if (event.key.endsWith('/')) continue;
      const jobSpec = triggeredSpec(spec, event.key);
      if (jobSpec === null) continue;
      setImmediate(() => {
        try {
          this.submit(jobSpec, `${event.bucket}/${event.key}`);
        } catch (error) {
          this.options.logger.warn({ err: error, definition: spec.name }, 'could not start a MapReduce job');
        }
      });
    }
  };

  /** Stops running jobs (they resume when the server starts again) and waits for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.active.values()) job.controller.abort(SHUTDOWN);
    await Promise.allSettled([...this.active.values()].map((job) => job.done));
    for (const timer of this.saveTimers.values()) clearTimeout(timer);
  }
}

/** The job an upload of `key` starts for a definition, or null when the upload starts none. */
export function triggeredSpec(spec: MapReduceSpec, key: string): MapReduceSpec | null {
  const join = (prefix: string, name: string) => (prefix === '' ? name : `${prefix}/${name}`);
  if (spec.startOn === null) {
    const base = posix.basename(key).replace(/\.[^.]*$/, '') || 'input';
    return {
      ...spec,
      inputKey: key,
      output: { bucket: spec.output.bucket, prefix: join(spec.output.prefix, base) },
    };
  }
  if (posix.basename(key) !== spec.startOn) return null;
  const folder = posix.dirname(key) === '.' ? '' : posix.dirname(key);
  const below = spec.input.prefix === '' ? folder : folder.slice(spec.input.prefix.length + 1);
  return {
    ...spec,
    input: { bucket: spec.input.bucket, prefix: folder },
    inputKey: null,
    output: {
      bucket: spec.output.bucket,
      prefix: below === '' ? spec.output.prefix : join(spec.output.prefix, below),
    },
  };
}

/** A definition as stored: its JSON and its owner. */
type StoredDefinition = MapReduceDefinitionJson & { owner?: string };

/** The parts of a job record that a (re)start begins again. */
function freshState(
  spec: MapReduceSpec,
): Pick<JobRecord, 'state' | 'finishedMs' | 'chunkBytes' | 'progress' | 'tasks' | 'outputs' | 'error'> {
  return {
    state: 'pending',
    finishedMs: null,
    chunkBytes: spec.chunkBytes ?? 0,
    progress: {
      mapsTotal: 0,
      mapsDone: 0,
      bytesTotal: 0,
      bytesRead: 0,
      reducesTotal: spec.reducers,
      reducesDone: 0,
    },
    tasks: [],
    outputs: [],
    error: null,
  };
}
