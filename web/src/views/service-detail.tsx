/** One service: its definition, token, invoke form, charts, jobs and (when chosen) one job. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, enc, getJson } from '../api';
import { counts, useLiveJobs, type Job } from '../live';
import { href, navigate } from '../router';
import { InvokeForm } from './invoke';
import { JobDetail, JobList } from './jobs';
import { ServiceCharts } from './service-charts';
import type { ServiceJson } from './services';

function folderLink(path: string): string {
  const [bucket = '', ...rest] = path.split('/');
  const folder = rest.filter(Boolean).join('/');
  return (
    href('buckets', bucket) + (folder ? '/' + folder.split('/').map(encodeURIComponent).join('/') + '/' : '')
  );
}

export function ServiceDetail({ name, job }: { name: string; job?: string }) {
  const [service, setService] = useState<ServiceJson | null>(null);
  const [error, setError] = useState('');
  const [showToken, setShowToken] = useState(false);
  const [copied, setCopied] = useState('');
  const [chartVersion, setChartVersion] = useState(0);
  const chartTimer = useRef<number | null>(null);

  useEffect(() => {
    setService(null);
    getJson<ServiceJson>(`/system/services/${enc(name)}`)
      .then(setService)
      .catch((e: Error) => setError(e.message));
  }, [name]);

  // Charts follow the jobs, redrawn at most every 5 s.
  const onJobs = useCallback(
    (changed: Job[]) => {
      if (!changed.some((j) => j.service === name) || chartTimer.current !== null) return;
      chartTimer.current = window.setTimeout(() => {
        chartTimer.current = null;
        setChartVersion((v) => v + 1);
      }, 5000);
    },
    [name],
  );
  useLiveJobs(onJobs);
  useEffect(
    () => () => {
      if (chartTimer.current !== null) clearTimeout(chartTimer.current);
    },
    [],
  );

  const remove = async () => {
    if (!confirm(`Delete service ${name}? Its buckets and files are kept.`)) return;
    try {
      await call(`/system/services/${enc(name)}`, { method: 'DELETE' });
      navigate('/services');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const copyToken = async () => {
    if (!service?.token) return;
    try {
      await navigator.clipboard.writeText(service.token);
      setCopied('Token copied.');
    } catch {
      setShowToken(true);
      setCopied('Copy the token from the field.');
    }
  };

  const c = counts.value[name];
  return (
    <div class="service">
      <div class="title-row">
        <h1>{name}</h1>
        <div class="actions">
          <a class="button secondary" href={href('services', name, 'edit')}>
            Edit FDL
          </a>
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {service && (
        <section aria-label="Definition" class="card">
          <dl class="facts">
            <dt>Image</dt>
            <dd>{service.image ?? '—'}</dd>
            <dt>Memory / CPU</dt>
            <dd>
              {service.memory ?? '—'} / {service.cpu ?? '—'}
            </dd>
            <dt>Input</dt>
            <dd>
              {(service.input ?? []).map((io) => (
                <a key={io.path} href={folderLink(io.path)} class="chip">
                  {io.path}
                </a>
              ))}
              {(service.input ?? []).length === 0 && '—'}
            </dd>
            <dt>Output</dt>
            <dd>
              {(service.output ?? []).map((io) => (
                <a key={io.path} href={folderLink(io.path)} class="chip">
                  {io.path}
                </a>
              ))}
              {(service.output ?? []).length === 0 && '—'}
            </dd>
            <dt>Jobs</dt>
            <dd>
              {c
                ? `${c.queued} queued, ${c.running} running, ${c.failed} failed, ${c.succeeded} succeeded`
                : 'none yet'}
            </dd>
            <dt>
              <label for="service-token">Token</label>
            </dt>
            <dd class="token">
              <input
                id="service-token"
                readOnly
                type={showToken ? 'text' : 'password'}
                value={service.token ?? ''}
              />
              <button
                type="button"
                class="secondary"
                onClick={() => setShowToken(!showToken)}
                aria-pressed={showToken}
              >
                {showToken ? 'Hide' : 'Show'}
              </button>
              <button type="button" class="secondary" onClick={() => void copyToken()}>
                Copy
              </button>
              <span role="status">{copied}</span>
            </dd>
          </dl>
        </section>
      )}
      <div class="columns">
        <div>
          {job ? <JobDetail service={name} id={job} /> : <InvokeForm service={name} />}
          <JobList service={name} selected={job} />
        </div>
        <div>
          <h2>Activity</h2>
          <ServiceCharts service={name} version={chartVersion} />
        </div>
      </div>
    </div>
  );
}
