/**
 * @module mapreduce/job-model
 * A MapReduce job as the engine runs it and the API shows it: the resolved definition, and the job's and
 * each task's state, attempts, progress counters and failure.
 */

/** How a user function is written, which decides where and how it runs. */
export type FunctionKind = 'js' | 'python' | 'executable';

/** A user function file, its content included (the server never reads the client's files). */
export interface FunctionSource {
  /** The file's name as given (its extension tells the kind). */
  fileName: string;
  kind: FunctionKind;
  content: Buffer;
}

/** Where output goes: one object per reducer plus a manifest, or one merged object plus a manifest. */
export type OutputMode = 'per-reducer' | 'merged';

/** A fully resolved job definition: no optional fields. */
export interface MapReduceSpec {
  /** The FDL definition's name, or `adhoc`. */
  name: string;
  /** Who runs it (and sees its jobs): a user's name, or '' for the administrator. */
  owner: string;
  input: { bucket: string; prefix: string };
  /** Set when the job reads one object; otherwise every object under `input.prefix` is read. */
  inputKey: string | null;
  output: { bucket: string; prefix: string };
  mapper: FunctionSource;
  reducer: FunctionSource;
  combiner: FunctionSource | null;
  reducers: number;
  /** Bytes per map task; null to size chunks from the data, `mappers`, memory and workers. */
  chunkBytes: number | null;
  /** Target number of map tasks; null for none. */
  mappers: number | null;
  /** Memory of one task (worker heap limit, process memory limit). */
  memoryBytes: number;
  outputMode: OutputMode;
  /** Executor of process tasks (Python and executable functions). */
  executor: string;
  /** Attempts per task in all, the first included. */
  maxAttempts: number;
  /** Re-run a task much slower than its peers and keep the first result. */
  speculative: boolean;
  /**
   * For a definition: the file name whose upload starts one job over every object of its folder (the
   * marker itself left out); null to start one job per uploaded object.
   */
  startOn: string | null;
}

export type JobState =
  'pending' | 'splitting' | 'mapping' | 'reducing' | 'writing' | 'succeeded' | 'failed' | 'cancelled';
export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface AttemptRecord {
  attempt: number;
  state: TaskState;
  speculative: boolean;
  startedMs: number;
  finishedMs: number | null;
  error: string | null;
}

export interface TaskRecord {
  id: string;
  kind: 'map' | 'reduce';
  state: TaskState;
  /** Map: the object and byte range read; reduce: the partition. */
  object: string | null;
  start: number | null;
  end: number | null;
  partition: number | null;
  attempts: AttemptRecord[];
  /** Which attempt's result was kept. */
  winner: number | null;
  /** Records written by the task. */
  records: number;
}

export interface JobProgress {
  mapsTotal: number;
  mapsDone: number;
  bytesTotal: number;
  bytesRead: number;
  reducesTotal: number;
  reducesDone: number;
}

export interface JobRecord {
  id: string;
  name: string;
  state: JobState;
  createdMs: number;
  finishedMs: number | null;
  /** What started it: `api` or the object whose upload triggered it. */
  trigger: string;
  /** The user it runs for ('' for the administrator): only they and the administrator see it. */
  owner: string;
  /** Times the job was started again from the beginning after a server restart cut it short. */
  resumes: number;
  input: string;
  output: string;
  reducers: number;
  chunkBytes: number;
  progress: JobProgress;
  tasks: TaskRecord[];
  /** Objects written, for a succeeded job. */
  outputs: string[];
  error: { message: string; task: string | null; log: string | null } | null;
}

/** A job as listed (without its tasks). */
export function jobSummary(job: JobRecord): Omit<JobRecord, 'tasks'> {
  const { tasks: _tasks, ...summary } = job;
  return summary;
}
