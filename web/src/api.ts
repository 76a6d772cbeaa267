/**
 * The REST API as the dashboard uses it: every call carries the session's credentials; errors arrive as
 * `{ error: { code, message, details } }` and become ApiError.
 */
import { session } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function authHeader(): Record<string, string> {
  const current = session.value;
  if (!current) return {};
  return { authorization: current.authorization };
}

async function failure(response: Response): Promise<ApiError> {
  let code = 'HTTP_' + response.status;
  let message = response.statusText || `HTTP ${response.status}`;
  let details: unknown;
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      details = body.error.details;
    }
  } catch {
    // not JSON: keep the status text
  }
  if (response.status === 401) session.expired();
  return new ApiError(response.status, code, message, details);
}

/** A raw call: the response when its status is 2xx. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, {
    ...init,
    headers: { ...authHeader(), ...(init.headers as Record<string, string> | undefined) },
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await call(path)).json() as Promise<T>;
}

export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await call(
    path,
    body === undefined
      ? { method }
      : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export const enc = encodeURIComponent;

/** Server-sent events over fetch (EventSource cannot send credentials in a header). */
export function subscribeEvents(
  path: string,
  onEvent: (event: string, data: unknown) => void,
  onState?: (connected: boolean) => void,
): () => void {
  const controller = new AbortController();
  let retryMs = 1000;
  const run = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      try {
        const response = await call(path, {
          signal: controller.signal,
          headers: { accept: 'text/event-stream' },
        });
        onState?.(true);
        retryMs = 1000;
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let boundary = buffer.indexOf('\n\n');
          while (boundary >= 0) {
            const block = buffer.slice(0, boundary);
            buffer = buffer.slice(boundary + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
            boundary = buffer.indexOf('\n\n');
          }
        }
        // The server ended the stream on purpose (a finished log): do not reconnect.
        return;
      } catch (error) {
        if (controller.signal.aborted) return;
        onState?.(false);
        if (error instanceof ApiError && error.status < 500) return;
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(30_000, retryMs * 2);
      }
    }
  };
  void run();
  return () => controller.abort();
}

/** Saves a response body as a file through a blob link (works for same-origin authenticated downloads). */
export async function saveResponse(response: Response, fileName: string): Promise<void> {
  const blob = await response.blob();
  saveBlob(blob, fileName);
}

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
