/** Jobs that failed for good, over all services, each re-drivable (queued again with fresh attempts). */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { enc, getJson, sendJson } from '../api';
import { formatTime } from '../format';
import { useLiveJobs, type Job } from '../live';
import { href } from '../router';

export function DeadLetters() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const load = useCallback(() => {
    getJson<{ jobs: Job[] }>('/system/dead-letters')
      .then((answer) => setJobs(answer.jobs))
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);
  const onJobs = useCallback(
    (changed: Job[], _deleted: string[], resync: boolean) => {
      if (resync || changed.some((job) => job.status === 'Failed')) load();
    },
    [load],
  );
  useLiveJobs(onJobs);

  const redrive = async (job: Job) => {
    try {
      await sendJson('POST', `/system/logs/${enc(job.service)}/${enc(job.id)}/retry`);
      setNote(`Re-driven: ${job.id}`);
      setJobs((all) => all?.filter((j) => j.id !== job.id) ?? null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section>
      <h1>Dead letters</h1>
      <p class="hint">
        Jobs that failed after all their attempts. Re-drive queues one again with fresh attempts.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {note && <p role="status">{note}</p>}
      {jobs?.length === 0 && <p>No dead letters.</p>}
      {jobs && jobs.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Dead letters</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Service</th>
                <th scope="col">Finished</th>
                <th scope="col" class="num">
                  Exit
                </th>
                <th scope="col">Error</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id} data-job={job.id}>
                  <th scope="row">
                    <a href={href('services', job.service, 'jobs', job.id)}>{job.id}</a>
                  </th>
                  <td>{job.service}</td>
                  <td>{formatTime(job.finish_time)}</td>
                  <td class="num">{job.exit_code ?? '—'}</td>
                  <td>{job.error ? `${job.error.code}: ${job.error.message}` : '—'}</td>
                  <td>
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => void redrive(job)}
                      aria-label={`Re-drive ${job.id}`}
                    >
                      Re-drive
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
