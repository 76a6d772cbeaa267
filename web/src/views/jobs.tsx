/**
 * A service's jobs, 70 a page from the server (so 10,000 jobs cost one page), filtered by status, updated
 * live from the event stream; and one job in detail with its log following while it runs.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, enc, getJson, saveResponse, sendJson, subscribeEvents } from '../api';
import { formatDuration, formatTime } from '../format';
import { useLiveJobs, type Job } from '../live';
import { href } from '../router';

interface Page {
  jobs: Record<string, Omit<Job, 'id' | 'service'>>;
  next_page: string;
  remaining_jobs: number;
}

const PAGE_SIZE = 70;
const STATUSES = ['', 'Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled'] as const;

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export function JobList({ service, selected }: { service: string; selected?: string }) {
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState('');
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [total, setTotal] = useState(0);
  // The page the rows on screen belong to (the requested one may still be loading).
  const [shownPage, setShownPage] = useState(0);
  const [error, setError] = useState('');
  const reloadTimer = useRef<number | null>(null);

  const load = useCallback(() => {
    const query = `page=${page}${filter ? `&status=${filter}` : ''}`;
    getJson<Page>(`/system/logs/${enc(service)}?${query}`)
      .then((answer) => {
        const list = Object.entries(answer.jobs).map(([id, job]) => ({ id, service, ...job }));
        setJobs(list);
        setTotal(page * PAGE_SIZE + list.length + answer.remaining_jobs);
        setShownPage(page);
        setError('');
      })
      .catch((e: Error) => setError(e.message));
  }, [service, page, filter]);

  useEffect(load, [load]);

  // Rows on screen change in place; a new or deleted job reloads the page, at most once a second.
  const onJobs = useCallback(
    (changed: Job[], deleted: string[], resync: boolean) => {
      const mine = changed.filter((job) => job.service === service);
      let structural = resync || deleted.length > 0;
      setJobs((current) => {
        if (!current) return current;
        const byId = new Map(mine.map((job) => [job.id, job]));
        const next = current.map((job) => byId.get(job.id) ?? job);
        const known = new Set(current.map((job) => job.id));
        if (mine.some((job) => !known.has(job.id))) structural = true;
        return next;
      });
      if (structural && reloadTimer.current === null) {
        reloadTimer.current = window.setTimeout(() => {
          reloadTimer.current = null;
          load();
        }, 1000);
      }
    },
    [service, load],
  );
  useLiveJobs(onJobs);
  useEffect(
    () => () => {
      if (reloadTimer.current !== null) clearTimeout(reloadTimer.current);
    },
    [],
  );

  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <section aria-labelledby="jobs-title">
      <div class="title-row">
        <h2 id="jobs-title">Jobs</h2>
        <label class="inline">
          Status{' '}
          <select
            value={filter}
            onChange={(e) => {
              setFilter(e.currentTarget.value);
              setPage(0);
            }}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'All'}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {jobs && jobs.length === 0 && (
        <p>No jobs yet: upload a file to an input folder or invoke the service.</p>
      )}
      {jobs && jobs.length > 0 && (
        <div class="table-wrap">
          <table class="jobs">
            <caption class="visually-hidden">Jobs of {service}</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Duration</th>
                <th scope="col" class="num">
                  Exit
                </th>
                <th scope="col">Input</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id} data-job={job.id} class={job.id === selected ? 'selected' : undefined}>
                  <th scope="row">
                    <a
                      href={href('services', service, 'jobs', job.id)}
                      aria-current={job.id === selected ? 'true' : undefined}
                    >
                      {job.id.slice(service.length + 1, service.length + 9) || job.id}
                    </a>
                  </th>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>{formatTime(job.creation_time)}</td>
                  <td>{formatDuration(job.start_time, job.finish_time)}</td>
                  <td class="num">{job.exit_code ?? '—'}</td>
                  <td class="truncate">{job.input ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Job pages">
        <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Newer
        </button>
        <span>
          Page {shownPage + 1} of {pages} ({total} jobs)
        </span>
        <button
          type="button"
          class="secondary"
          disabled={page + 1 >= pages}
          onClick={() => setPage(page + 1)}
        >
          Older
        </button>
      </nav>
    </section>
  );
}

export function JobDetail({ service, id }: { service: string; id: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [log, setLog] = useState('');
  const [following, setFollowing] = useState(false);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [attempt, setAttempt] = useState(0);
  const logBox = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setLog('');
    setError('');
    setFollowing(true);
    getJson<Job>(`/system/jobs/${enc(service)}/${enc(id)}`)
      .then(setJob)
      .catch((e: Error) => setError(e.message));
    const stop = subscribeEvents(`/system/logs/${enc(service)}/${enc(id)}/follow`, (event, data) => {
      if (event === 'log') setLog((text) => text + (data as { text: string }).text);
      else if (event === 'job') setJob(data as Job);
      else if (event === 'end') {
        if (!(data as { deleted?: boolean }).deleted) setJob(data as Job);
        setFollowing(false);
      }
    });
    return stop;
  }, [service, id, attempt]);

  useEffect(() => {
    const box = logBox.current;
    if (box && following) box.scrollTop = box.scrollHeight;
  }, [log, following]);

  const retry = async () => {
    try {
      await sendJson('POST', `/system/logs/${enc(service)}/${enc(id)}/retry`);
      setNote('Queued again.');
      setAttempt((n) => n + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const download = async () => {
    const response = await call(`/system/logs/${enc(service)}/${enc(id)}`);
    await saveResponse(response, `${id}.log`);
  };

  return (
    <section class="job-detail" aria-labelledby="job-title">
      <div class="title-row">
        <h2 id="job-title">Job {id}</h2>
        <a href={href('services', service)}>Close</a>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {job && (
        <dl class="facts">
          <dt>Status</dt>
          <dd data-testid="job-status">
            <StatusBadge status={job.status} />
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(job.creation_time)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(job.start_time)}</dd>
          <dt>Finished</dt>
          <dd>{formatTime(job.finish_time)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(job.start_time, job.finish_time)}</dd>
          <dt>Exit code</dt>
          <dd data-testid="job-exit-code">{job.exit_code ?? '—'}</dd>
          <dt>Attempts</dt>
          <dd>
            {job.attempts} of {job.max_attempts}
          </dd>
          <dt>Input</dt>
          <dd>{job.input ?? '—'}</dd>
          {job.error && (
            <>
              <dt>Error</dt>
              <dd>
                <code>{job.error.code}</code> {job.error.message}
              </dd>
            </>
          )}
        </dl>
      )}
      <div class="actions">
        {job && (job.status === 'Failed' || job.status === 'Cancelled' || job.status === 'Succeeded') && (
          <button
            type="button"
            class={job.status === 'Succeeded' ? 'secondary' : ''}
            onClick={() => void retry()}
          >
            Retry
          </button>
        )}
        <button type="button" class="secondary" onClick={() => void download()}>
          Download log
        </button>
      </div>
      {note && <p role="status">{note}</p>}
      <h3>Log {following && <span class="badge status-running">following</span>}</h3>
      <pre class="log" ref={logBox} tabIndex={0} aria-label="Job log" aria-live="off" data-testid="job-log">
        {log || (following ? 'Waiting for output…' : '(empty)')}
      </pre>
    </section>
  );
}
