/** The services: name, how they run, live job counts; links to each service and to a new one. */
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api';
import { counts, useLiveJobs } from '../live';
import { href } from '../router';

export interface ServiceJson {
  name: string;
  image?: string;
  script?: string;
  token?: string;
  memory?: string;
  cpu?: string;
  input?: { storage_provider: string; path: string }[];
  output?: { storage_provider: string; path: string }[];
  executor?: string;
  [key: string]: unknown;
}

export function Services() {
  const [services, setServices] = useState<ServiceJson[] | null>(null);
  const [error, setError] = useState('');
  useLiveJobs();
  useEffect(() => {
    getJson<ServiceJson[]>('/system/services')
      .then(setServices)
      .catch((e: Error) => setError(e.message));
  }, []);
  const live = counts.value;

  return (
    <section>
      <div class="title-row">
        <h1>Services</h1>
        <a class="button" href="#/services/new">
          New service
        </a>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {services === null && !error && <p>Loading…</p>}
      {services !== null && services.length === 0 && (
        <p>
          No services yet. <a href="#/services/new">Create one from an FDL file</a>.
        </p>
      )}
      {services !== null && services.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Services and their jobs</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Input</th>
                <th scope="col" class="num">
                  Queued
                </th>
                <th scope="col" class="num">
                  Running
                </th>
                <th scope="col" class="num">
                  Failed
                </th>
                <th scope="col" class="num">
                  Succeeded
                </th>
              </tr>
            </thead>
            <tbody>
              {services.map((service) => {
                const c = live[service.name];
                return (
                  <tr key={service.name} data-service={service.name}>
                    <th scope="row">
                      <a href={href('services', service.name)}>{service.name}</a>
                    </th>
                    <td>
                      <span class="badge ok">Ready</span>
                    </td>
                    <td>{(service.input ?? []).map((io) => io.path).join(', ') || '—'}</td>
                    <td class="num" data-count="queued">
                      {c?.queued ?? 0}
                    </td>
                    <td class="num" data-count="running">
                      {c?.running ?? 0}
                    </td>
                    <td class="num" data-count="failed">
                      {c?.failed ?? 0}
                    </td>
                    <td class="num" data-count="succeeded">
                      {c?.succeeded ?? 0}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
