/** A browsable reference of the REST API, read from /openapi.json. */
import { useEffect, useState } from 'preact/hooks';
import { getJson, saveBlob } from '../api';

interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  security: unknown[];
  parameters: { name: string; in: string; description?: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}

interface Document {
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
}

export function ApiReference() {
  const [doc, setDoc] = useState<Document | null>(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  useEffect(() => {
    getJson<Document>('/openapi.json')
      .then(setDoc)
      .catch((e: Error) => setError(e.message));
  }, []);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!doc) return <p>Loading…</p>;
  const byTag = new Map<string, { path: string; method: string; op: Operation }[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const text = `${method} ${path} ${op.summary}`.toLowerCase();
      if (filter && !text.includes(filter.toLowerCase())) continue;
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), { path, method, op }]);
    }
  }
  return (
    <section class="api-ref">
      <h1>
        {doc.info.title} <span class="hint">{doc.info.version}</span>
      </h1>
      <p>{doc.info.description}</p>
      <p>
        The machine-readable document is <code>/openapi.json</code> (it needs the same credentials).{' '}
        <button
          type="button"
          class="link"
          onClick={() =>
            saveBlob(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }), 'openapi.json')
          }
        >
          Download it
        </button>
      </p>
      <label for="api-filter">Filter</label>
      <input id="api-filter" type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      {[...byTag.entries()].map(([tag, ops]) => (
        <section key={tag}>
          <h2>{tag}</h2>
          {ops.map(({ path, method, op }) => (
            <details key={method + path}>
              <summary>
                <span class={`method method-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>{' '}
                <span>{op.summary}</span>
              </summary>
              {op.description && <p>{op.description}</p>}
              <p class="hint">
                {op.security.length === 0
                  ? 'No credentials needed.'
                  : 'Credentials: ' + op.security.map((s) => Object.keys(s as object).join('')).join(' or ')}
              </p>
              {op.parameters.length > 0 && (
                <ul>
                  {op.parameters.map((p) => (
                    <li key={p.in + p.name}>
                      <code>{p.name}</code> ({p.in}){p.description ? `: ${p.description}` : ''}
                    </li>
                  ))}
                </ul>
              )}
              {op.requestBody && <p>Body: {Object.keys(op.requestBody.content).join(', ')}</p>}
              <ul>
                {Object.entries(op.responses).map(([status, r]) => (
                  <li key={status}>
                    <code>{status}</code> {r.description}
                    {r.content ? ` (${Object.keys(r.content).join(', ')})` : ''}
                  </li>
                ))}
              </ul>
            </details>
          ))}
        </section>
      ))}
    </section>
  );
}
