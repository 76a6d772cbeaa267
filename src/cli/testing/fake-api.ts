/**
 * @module cli/testing/fake-api
 * An in-test HTTP server standing in for the Nubes REST API: it records every request the CLI sends
 * (method, path, query, headers, body) and answers with the handlers a test gives it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A request as the fake API received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** What a handler answers. */
export interface FakeAnswer {
  status?: number;
  json?: unknown;
  text?: string;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Do not answer for this long (to test deadlines). */
  delayMs?: number;
}

/** Answers one request (undefined: the default 404). */
export type FakeHandler = (request: RecordedRequest) => FakeAnswer | undefined;

/** A running fake API. */
export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts the fake API on a free port. `routes` maps `METHOD /path` (exact path, no query) to a handler;
 * anything else answers 404 with Nubes' error body.
 */
export async function startFakeApi(routes: Record<string, FakeHandler>): Promise<FakeApi> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const handler = routes[`${recorded.method} ${recorded.path}`];
      const answer = handler?.(recorded) ?? {
        status: 404,
        json: { error: { code: 'NOT_FOUND', message: `no route ${recorded.method} ${recorded.path}` } },
      };
      const send = (): void => {
        const headers = { ...answer.headers };
        let body: Buffer;
        if (answer.json !== undefined) {
          body = Buffer.from(JSON.stringify(answer.json));
          headers['content-type'] = 'application/json';
        } else {
          body = answer.body ?? Buffer.from(answer.text ?? '');
        }
        res.writeHead(answer.status ?? 200, headers);
        res.end(body);
      };
      if (answer.delayMs !== undefined) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
