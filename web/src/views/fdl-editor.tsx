/**
 * Create or update services from FDL text. The server validates as you type (POST /system/fdl/validate)
 * and every problem is shown at its line: marked in the gutter and listed below, each entry moving the
 * cursor to its line. Scripts the FDL names are edited beside it.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, sendJson } from '../api';
import { href, navigate } from '../router';
import { toYaml } from '../yaml-emit';
import type { ServiceJson } from './services';

interface Diagnostic {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

interface ValidateAnswer {
  valid: boolean;
  services: string[];
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
}

interface ScriptFile {
  name: string;
  text: string;
}

const TEMPLATE = `functions:
  oscar:
    - local:
        name: my-service
        image: docker.io/library/alpine:3.20
        script: script.sh
        memory: 128Mi
        input:
          - storage_provider: minio.default
            path: my-service/in
        output:
          - storage_provider: minio.default
            path: my-service/out
`;

const TEMPLATE_SCRIPT = `#!/bin/sh
# Runs once per uploaded file: $INPUT_FILE_PATH in, files written to $TMP_OUTPUT_DIR are uploaded.
set -eu
name=$(basename "$INPUT_FILE_PATH")
echo "processing $STORAGE_OBJECT_KEY"
tr '[:lower:]' '[:upper:]' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name"
`;

const READ_ONLY = ['token', 'owner', 'bucket_list', 'namespace', 'volume_status', 'deployment', 'nubes_jobs'];

/** A deployed service as FDL text plus its script. */
function serviceToFdl(service: ServiceJson): { fdl: string; script: ScriptFile } {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(service)) {
    if (!READ_ONLY.includes(key)) fields[key] = value;
  }
  const script = typeof fields.script === 'string' ? fields.script : '';
  fields.script = 'script.sh';
  delete fields.storage_providers;
  delete fields.clusters;
  return {
    fdl: toYaml({ functions: { oscar: [{ local: fields }] } }),
    script: { name: 'script.sh', text: script },
  };
}

export function FdlEditorPage({ service }: { service?: string }) {
  const [fdl, setFdl] = useState(service ? '' : TEMPLATE);
  const [scripts, setScripts] = useState<ScriptFile[]>(
    service ? [] : [{ name: 'script.sh', text: TEMPLATE_SCRIPT }],
  );
  const [loading, setLoading] = useState(service !== undefined);
  const [result, setResult] = useState<ValidateAnswer | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!service) return;
    getJson<ServiceJson>(`/system/services/${encodeURIComponent(service)}`)
      .then((json) => {
        const loaded = serviceToFdl(json);
        setFdl(loaded.fdl);
        setScripts([loaded.script]);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setLoading(false));
  }, [service]);

  const scriptMap = useMemo(() => Object.fromEntries(scripts.map((s) => [s.name, s.text])), [scripts]);

  // Validate a moment after the last keystroke.
  useEffect(() => {
    if (loading) return;
    let current = true;
    const timer = setTimeout(() => {
      sendJson<ValidateAnswer>('POST', '/system/fdl/validate', { fdl, scripts: scriptMap })
        .then((answer) => current && setResult(answer))
        .catch((e: Error) => current && setError(e.message));
    }, 400);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [fdl, scriptMap, loading]);

  const problems = [...(result?.diagnostics ?? []), ...(result?.warnings ?? [])];
  const byLine = new Map<number, Diagnostic[]>();
  for (const d of problems) byLine.set(d.line, [...(byLine.get(d.line) ?? []), d]);
  const lineCount = fdl.split('\n').length;

  const goTo = (line: number, column: number) => {
    const area = editor.current;
    if (!area) return;
    const lines = fdl.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += (lines[i]?.length ?? 0) + 1;
    offset += Math.max(0, column - 1);
    area.focus();
    area.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (line - 3) * lineHeight);
  };

  const deploy = async () => {
    setBusy(true);
    setError('');
    setStatus('');
    try {
      const answer = await sendJson<{ services: { name: string; action: string; warnings: string[] }[] }>(
        'POST',
        '/system/fdl/apply',
        { fdl, scripts: scriptMap },
      );
      const names = answer.services.map((s) => `${s.name} (${s.action})`).join(', ');
      setStatus(`Deployed: ${names}`);
      const first = answer.services[0];
      if (first) navigate(href('services', first.name).slice(1));
    } catch (e) {
      if (e instanceof ApiError) {
        const details = e.details as { diagnostics?: Diagnostic[] } | undefined;
        if (details?.diagnostics)
          setResult({ valid: false, services: [], diagnostics: details.diagnostics, warnings: [] });
        setError(`${e.code}: ${e.message}`);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  const errors = result?.diagnostics.length ?? 0;
  return (
    <section>
      <h1>{service ? `Edit ${service}` : 'New service'}</h1>
      <p class="hint">
        OSCAR or SCAR FDL. Problems are checked as you type and shown at their line. Scripts named by{' '}
        <code>script:</code> are edited below the FDL.
      </p>
      {loading ? (
        <p>Loading…</p>
      ) : (
        <>
          <label for="fdl-text">FDL</label>
          <div class="editor">
            <div class="gutter" ref={gutter} aria-hidden="true">
              {Array.from({ length: lineCount }, (_, i) => {
                const here = byLine.get(i + 1);
                const severity = here?.some((d) => d.severity === 'error') ? 'error' : here ? 'warning' : '';
                return (
                  <div
                    key={i}
                    class={`gutter-line ${severity}`}
                    data-line={i + 1}
                    title={here?.map((d) => d.message).join('\n')}
                  >
                    {i + 1}
                  </div>
                );
              })}
            </div>
            <textarea
              id="fdl-text"
              ref={editor}
              spellcheck={false}
              wrap="off"
              rows={Math.min(30, Math.max(14, lineCount + 1))}
              value={fdl}
              aria-invalid={errors > 0}
              aria-describedby="fdl-problems"
              onInput={(e) => setFdl(e.currentTarget.value)}
              onScroll={(e) => {
                if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
              }}
            />
          </div>
          <div id="fdl-problems" aria-live="polite">
            {result === null ? (
              <p class="hint">Checking…</p>
            ) : problems.length === 0 ? (
              <p class="ok-text">Valid: {result.services.join(', ')}</p>
            ) : (
              <ul class="diagnostics">
                {problems.map((d, i) => (
                  <li key={i} class={d.severity}>
                    <button type="button" class="link" onClick={() => goTo(d.line, d.column)}>
                      {`${d.file}:${d.line}:${d.column}`}
                    </button>{' '}
                    <span class="severity">{d.severity}</span> {d.path && <code>{d.path}</code>} {d.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
          {scripts.map((script, index) => (
            <div class="script" key={index}>
              <label for={`script-name-${index}`}>Script file name</label>
              <input
                id={`script-name-${index}`}
                value={script.name}
                onInput={(e) => {
                  const name = e.currentTarget.value;
                  setScripts((all) => all.map((s, i) => (i === index ? { ...s, name } : s)));
                }}
              />
              <label for={`script-text-${index}`}>Script {script.name}</label>
              <textarea
                id={`script-text-${index}`}
                class="code"
                spellcheck={false}
                wrap="off"
                rows={10}
                value={script.text}
                onInput={(e) => {
                  const text = e.currentTarget.value;
                  setScripts((all) => all.map((s, i) => (i === index ? { ...s, text } : s)));
                }}
              />
            </div>
          ))}
          <div class="actions">
            <button
              type="button"
              class="secondary"
              onClick={() => setScripts((all) => [...all, { name: `script-${all.length + 1}.sh`, text: '' }])}
            >
              Add a script file
            </button>
            <button type="button" onClick={() => void deploy()} disabled={busy || errors > 0}>
              {busy ? 'Deploying…' : service ? 'Update service' : 'Create service'}
            </button>
          </div>
          {status && <p role="status">{status}</p>}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </section>
  );
}
