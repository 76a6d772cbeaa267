/**
 * @module cli/http-request
 * One HTTP(S) request with an overall deadline, the body buffered. Built on node:http rather than fetch
 * because oscar-cli's `--disable-ssl` (self-signed clusters) needs per-request certificate checks, which
 * Node's built-in fetch cannot switch off without a process-wide setting.
 */
import { request as httpRequestFn, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequestFn } from 'node:https';
import type { Readable } from 'node:stream';

/** One request. */
export interface HttpRequestOptions {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer or string is sent with its length; a stream is sent chunked. */
  body?: Buffer | string | Readable | undefined;
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Check the server's TLS certificate (false for `--disable-ssl` clusters). @default true */
  verifyTls?: boolean;
}

/** The answer, body buffered. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Thrown (as an ordinary Error with code ETIMEDOUT) when the deadline passes. */
export class RequestTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'RequestTimeoutError';
  }
}

/** Sends one request; rejects with the socket's error (ECONNREFUSED, ENOTFOUND, …) or RequestTimeoutError. */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const { url, body } = options;
  const send = url.protocol === 'https:' ? httpsRequestFn : httpRequestFn;
  const headers: Record<string, string> = { ...options.headers };
  if (typeof body === 'string' || Buffer.isBuffer(body))
    headers['content-length'] = String(Buffer.byteLength(body));

  return new Promise<HttpResponse>((resolvePromise, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, response?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolvePromise(response as HttpResponse);
    };
    const req = send(url, {
      method: options.method,
      headers,
      rejectUnauthorized: options.verifyTls ?? true,
    });
    const timer = setTimeout(() => {
      const error = new RequestTimeoutError(options.timeoutMs);
      req.destroy(error);
      finish(error);
    }, options.timeoutMs);
    req.on('error', (error) => finish(error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => finish(error));
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      body.on('error', (error) => {
        req.destroy(error);
        finish(error);
      });
      body.pipe(req);
    }
  });
}
