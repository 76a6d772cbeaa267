/**
 * The Nubes dashboard: log in, then services (FDL editor, jobs, invoke), buckets, dead letters and the
 * API reference, each at a hash route.
 */
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import './styles.css';
import { route, segments } from './router';
import { session } from './session';
import { ApiReference } from './views/api-reference';
import { Buckets } from './views/buckets';
import { DeadLetters } from './views/dead-letters';
import { FdlEditorPage } from './views/fdl-editor';
import { Login } from './views/login';
import { MapReduceJobs } from './views/mapreduce';
import { ServiceDetail } from './views/service-detail';
import { Services } from './views/services';

const NAV: { path: string; label: string; adminOnly?: boolean }[] = [
  { path: '/services', label: 'Services' },
  { path: '/buckets', label: 'Buckets' },
  { path: '/dead-letters', label: 'Dead letters' },
  { path: '/mapreduce', label: 'MapReduce' },
  { path: '/api', label: 'API' },
];

function Page({ path }: { path: string }) {
  const parts = segments(path);
  switch (parts[0]) {
    case 'services':
      if (parts[1] === undefined || parts[1] === '') return <Services />;
      if (parts[1] === 'new') return <FdlEditorPage />;
      if (parts[2] === 'edit') return <FdlEditorPage service={parts[1]} />;
      return <ServiceDetail name={parts[1]} job={parts[2] === 'jobs' ? parts[3] : undefined} />;
    case 'buckets':
      return <Buckets bucket={parts[1]} prefix={parts.slice(2).join('/')} />;
    case 'dead-letters':
      return <DeadLetters />;
    case 'mapreduce':
      return <MapReduceJobs id={parts[1] || undefined} />;
    case 'api':
      return <ApiReference />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{path}</code>. <a href="#/services">Go to the services</a>.
          </p>
        </section>
      );
  }
}

function App() {
  const who = session.signal.value;
  const path = route.value;
  const main = useRef<HTMLElement>(null);
  // After a navigation, move focus to the new page so that keyboard and screen-reader users start there.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [path]);
  if (!who) return <Login />;
  const section = '/' + (segments(path)[0] ?? '');
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => (event.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/services">
          Nubes
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.adminOnly || who.admin !== false).map((item) => (
              <li key={item.path}>
                <a href={'#' + item.path} aria-current={section === item.path ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{who.who}</span>
        <button type="button" class="link" onClick={() => session.end()}>
          Log out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Page path={path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
