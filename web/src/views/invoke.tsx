/** The sync invoke form: text or a file in (POST /run/{svc}?raw=true), the answer shown or downloaded. */
import { useState } from 'preact/hooks';
import { ApiError, authHeader, enc, saveBlob } from '../api';
import { formatBytes } from '../format';

interface Answer {
  status: number;
  contentType: string;
  blob: Blob;
  text: string | null;
  ms: number;
}

function isText(type: string): boolean {
  return /^text\/|json|xml|yaml|csv|javascript/.test(type);
}

/** The answer as text when it is text: declared so, or bytes that are valid UTF-8 without control codes. */
async function asText(blob: Blob, type: string): Promise<string | null> {
  if (isText(type)) return blob.text();
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(await blob.arrayBuffer());
    // eslint-disable-next-line no-control-regex -- control bytes are what tells binary from text here
    return /[\x00-\x08\x0e-\x1f]/.test(text) ? null : text;
  } catch {
    return null;
  }
}

export function InvokeForm({ service }: { service: string }) {
  const [mode, setMode] = useState<'text' | 'file'>('text');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [error, setError] = useState('');

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    setAnswer(null);
    const started = performance.now();
    try {
      const response = await fetch(`/run/${enc(service)}?raw=true`, {
        method: 'POST',
        headers: {
          ...authHeader(),
          'content-type': mode === 'file' ? file?.type || 'application/octet-stream' : 'text/plain',
        },
        body: mode === 'file' ? file : text,
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as {
          error?: { code: string; message: string; details?: { exit_code?: number; log?: string } };
        };
        const failure = body.error;
        const exit = failure?.details?.exit_code;
        throw new ApiError(
          response.status,
          failure?.code ?? `HTTP_${response.status}`,
          `${failure?.message ?? response.statusText}${exit !== undefined && exit !== null ? ` (exit code ${exit})` : ''}${failure?.details?.log ? `\n${failure.details.log}` : ''}`,
        );
      }
      const contentType = response.headers.get('content-type') ?? 'application/octet-stream';
      const blob = await response.blob();
      setAnswer({
        status: response.status,
        contentType,
        blob,
        text: blob.size < 1024 * 1024 ? await asText(blob, contentType) : null,
        ms: performance.now() - started,
      });
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="invoke-title">
      <h2 id="invoke-title">Invoke</h2>
      <form onSubmit={(event) => void submit(event)} class="invoke">
        <fieldset class="tabs">
          <legend>Send</legend>
          <label>
            <input
              type="radio"
              name="invoke-mode"
              checked={mode === 'text'}
              onChange={() => setMode('text')}
            />{' '}
            Text
          </label>
          <label>
            <input
              type="radio"
              name="invoke-mode"
              checked={mode === 'file'}
              onChange={() => setMode('file')}
            />{' '}
            A file
          </label>
        </fieldset>
        {mode === 'text' ? (
          <>
            <label for="invoke-text">Input text</label>
            <textarea
              id="invoke-text"
              rows={4}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </>
        ) : (
          <>
            <label for="invoke-file">Input file</label>
            <input
              id="invoke-file"
              type="file"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          </>
        )}
        <button type="submit" disabled={busy || (mode === 'file' && !file)}>
          {busy ? 'Running…' : 'Run'}
        </button>
      </form>
      {error && (
        <pre class="error" role="alert">
          {error}
        </pre>
      )}
      {answer && (
        <div class="answer" role="status">
          <p>
            Answer: {formatBytes(answer.blob.size)} of <code>{answer.contentType}</code> in{' '}
            {Math.round(answer.ms)} ms.{' '}
            <button type="button" class="link" onClick={() => saveBlob(answer.blob, `${service}-output`)}>
              Download
            </button>
          </p>
          {answer.text !== null && (
            <pre class="log" data-testid="invoke-output" tabIndex={0} aria-label="Answer">
              {answer.text}
            </pre>
          )}
        </div>
      )}
    </section>
  );
}
