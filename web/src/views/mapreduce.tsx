/**
 * MapReduce jobs (GET /system/mapreduce/jobs): state and progress of each, and one job's tasks (each map
 * task's byte range, each reduce task's partition) with their attempts and logs. Refreshed every two
 * seconds only while a job on screen is still running.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { call, enc, getJson } from '../api';
import { formatBytes, formatTime } from '../format';
import { href } from '../router';

interface Progress {
  mapsTotal: number;
  mapsDone: number;
  bytesTotal: number;
  bytesRead: number;
  reducesTotal: number;
  reducesDone: number;
}

interface Attempt {
  attempt: number;
  state: string;
  speculative: boolean;
  startedMs: number;
  finishedMs: number | null;
  error: string | null;
}

interface Task {
  id: string;
  kind: 'map' | 'reduce';
  state: string;
  object: string | null;
  start: number | null;
  end: number | null;
  partition: number | null;
  attempts: Attempt[];
  records: number;
}

interface MapReduceJob {
  id: string;
  name: string;
  state: string;
  createdMs: number;
  finishedMs: number | null;
  trigger: string;
  input: string;
  output: string;
  progress: Progress;
  outputs: string[];
  error: { message: string; task: string | null } | null;
  tasks?: Task[];
}

const ENDED = ['succeeded', 'failed', 'cancelled'];
const REFRESH_MS = 2000;

function Bar({ label, done, total }: { label: string; done: number; total: number }) {
  return (
    <span class="progress-cell">
      <progress max={Math.max(1, total)} value={done} aria-label={label} />{' '}
      <span>
        {done}/{total}
      </span>
    </span>
  );
}

function usePolling<T>(load: () => Promise<T>, running: (value: T) => boolean) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      try {
        const next = await load();
        if (stopped) return;
        setValue(next);
        setError('');
        if (running(next)) timer = window.setTimeout(() => void tick(), REFRESH_MS);
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [load, running]);
  return { value, error };
}

const anyRunning = (jobs: MapReduceJob[]) => jobs.some((job) => !ENDED.includes(job.state));
const isRunning = (job: MapReduceJob) => !ENDED.includes(job.state);

export function MapReduceJobs({ id }: { id?: string }) {
  return id ? <MapReduceJobDetail id={id} /> : <MapReduceList />;
}

function MapReduceList() {
  const load = useCallback(() => getJson<MapReduceJob[]>('/system/mapreduce/jobs'), []);
  const { value: jobs, error } = usePolling(load, anyRunning);
  return (
    <section>
      <h1>MapReduce</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {jobs?.length === 0 && (
        <p>
          No MapReduce jobs yet: <code>nubes mapreduce run</code>, or an upload into a definition&apos;s
          input.
        </p>
      )}
      {jobs && jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">MapReduce jobs</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Maps</th>
                <th scope="col">Reduces</th>
                <th scope="col">Input</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id} data-mapreduce={job.id}>
                  <th scope="row">
                    <a href={href('mapreduce', job.id)}>{job.name}</a>
                  </th>
                  <td>
                    <span class={`badge status-${job.state}`}>{job.state}</span>
                  </td>
                  <td>
                    <Bar
                      label={`Map tasks of ${job.name}`}
                      done={job.progress.mapsDone}
                      total={job.progress.mapsTotal}
                    />
                  </td>
                  <td>
                    <Bar
                      label={`Reduce tasks of ${job.name}`}
                      done={job.progress.reducesDone}
                      total={job.progress.reducesTotal}
                    />
                  </td>
                  <td class="truncate">{job.input}</td>
                  <td>{formatTime(new Date(job.createdMs).toISOString())}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function MapReduceJobDetail({ id }: { id: string }) {
  const load = useCallback(() => getJson<MapReduceJob>(`/system/mapreduce/jobs/${enc(id)}`), [id]);
  const { value: job, error } = usePolling(load, isRunning);
  const [log, setLog] = useState<{ task: string; text: string } | null>(null);
  const showLog = async (task: string) => {
    const response = await call(`/system/mapreduce/jobs/${enc(id)}/tasks/${enc(task)}/log`);
    setLog({ task, text: await response.text() });
  };
  return (
    <section>
      <p>
        <a href="#/mapreduce">All MapReduce jobs</a>
      </p>
      <h1>MapReduce job {job?.name ?? id}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {job && (
        <>
          <dl class="facts card">
            <dt>State</dt>
            <dd data-testid="mapreduce-state">
              <span class={`badge status-${job.state}`}>{job.state}</span>
            </dd>
            <dt>Input → output</dt>
            <dd>
              {job.input} → {job.output}
            </dd>
            <dt>Trigger</dt>
            <dd>{job.trigger}</dd>
            <dt>Read</dt>
            <dd>
              <Bar label="Bytes read" done={job.progress.bytesRead} total={job.progress.bytesTotal} />{' '}
              {formatBytes(job.progress.bytesRead)} of {formatBytes(job.progress.bytesTotal)}
            </dd>
            <dt>Maps / reduces</dt>
            <dd>
              <Bar label="Map tasks" done={job.progress.mapsDone} total={job.progress.mapsTotal} />{' '}
              <Bar label="Reduce tasks" done={job.progress.reducesDone} total={job.progress.reducesTotal} />
            </dd>
            {job.outputs.length > 0 && (
              <>
                <dt>Outputs</dt>
                <dd>{job.outputs.join(', ')}</dd>
              </>
            )}
            {job.error && (
              <>
                <dt>Error</dt>
                <dd class="error">{job.error.message}</dd>
              </>
            )}
          </dl>
          <h2>Tasks</h2>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Tasks of the job</caption>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">State</th>
                  <th scope="col">Reads</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col" class="num">
                    Records
                  </th>
                  <th scope="col">Log</th>
                </tr>
              </thead>
              <tbody>
                {(job.tasks ?? []).map((task) => (
                  <tr key={task.id} data-task={task.id}>
                    <th scope="row">{task.id}</th>
                    <td>
                      <span class={`badge status-${task.state}`}>{task.state}</span>
                    </td>
                    <td>
                      {task.kind === 'map'
                        ? `${task.object ?? ''} bytes ${task.start ?? 0}–${task.end ?? 0}`
                        : `partition ${task.partition ?? 0}`}
                    </td>
                    <td class="num">{task.attempts.length}</td>
                    <td class="num">{task.records}</td>
                    <td>
                      <button
                        type="button"
                        class="link"
                        onClick={() => void showLog(task.id)}
                        aria-label={`Log of task ${task.id}`}
                      >
                        Log
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {log && (
            <>
              <h3>Log of {log.task}</h3>
              <pre class="log" tabIndex={0} aria-label={`Log of task ${log.task}`}>
                {log.text || '(empty)'}
              </pre>
            </>
          )}
        </>
      )}
    </section>
  );
}
