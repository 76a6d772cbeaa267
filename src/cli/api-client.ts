/**
 * @module cli/api-client
 * The REST API as the CLI uses it: Basic auth on /system/*, the service token (Bearer) on /run and /job,
 * deadlines, and every failure turned into a PlatformError: an `{error: {code, message}}` body keeps its
 * code, an OSCAR plain-text body is mapped from the status, and a server that cannot be reached is a
 * system error that says so and suggests what to check.
 */
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { PlatformError, isErrorCode, type ErrorCode } from '../core/index.js';
import type { ClusterTarget } from './cluster-target.js';
import { withHint } from './error-output.js';
import { httpRequest, type HttpResponse } from './http-request.js';
import {
  jobsPageSchema,
  jobSubmittedSchema,
  serviceSchema,
  systemConfigSchema,
  type JobsPage,
  type Service,
  type SystemConfig,
} from './api-schemas.js';

const recordSchema = z.record(z.unknown());

/** oscar-cli's HTTP timeout. */
export const DEFAULT_TIMEOUT_MS = 20_000;

/** How a request authenticates: the cluster's Basic credentials, nothing, or a service token. */
export type RequestAuth = 'basic' | 'none' | { bearer: string };

/** The optional parts of a request. */
export interface ApiRequest {
  query?: Record<string, string | undefined>;
  body?: Buffer | string | Readable;
  contentType?: string;
  auth?: RequestAuth;
  timeoutMs?: number;
}

/** A client for one cluster. */
export class ApiClient {
  private readonly timeoutMs: number;

  constructor(
    readonly target: ClusterTarget,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends a request and returns the answer when its status is 2xx; throws a PlatformError otherwise. */
  async send(method: string, path: string, request: ApiRequest = {}): Promise<HttpResponse> {
    const url = new URL(this.target.endpoint + path);
    for (const [key, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    const auth = request.auth ?? 'basic';
    if (auth === 'basic' && this.target.auth !== undefined) {
      const { user, password } = this.target.auth;
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    } else if (typeof auth === 'object') {
      headers['authorization'] = `Bearer ${auth.bearer}`;
    }
    let response: HttpResponse;
    try {
      response = await httpRequest({
        method,
        url,
        headers,
        body: request.body,
        timeoutMs: request.timeoutMs ?? this.timeoutMs,
        verifyTls: this.target.sslVerify,
      });
    } catch (error) {
      throw this.networkError(error);
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw this.withAuthHint(errorFromResponse(response, `${method} ${url.pathname}`));
  }

  /** Sends a request and validates its JSON answer. */
  async json<S extends z.ZodTypeAny>(
    schema: S,
    method: string,
    path: string,
    request: ApiRequest = {},
  ): Promise<z.output<S>> {
    const response = await this.send(method, path, request);
    let raw: unknown;
    try {
      raw = JSON.parse(response.body.toString('utf8'));
    } catch (error) {
      throw new PlatformError(
        'INTERNAL',
        `${method} ${path}: the server answered with something other than JSON`,
        { cause: error },
      );
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PlatformError(
        'INTERNAL',
        `${method} ${path}: unexpected answer (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
        {
          details: { hint: 'the server may run another version of the API than this CLI' },
        },
      );
    }
    return parsed.data as z.output<S>;
  }

  /** GET /system/info, as returned. */
  info(): Promise<Record<string, unknown>> {
    return this.json(recordSchema, 'GET', '/system/info');
  }

  /** GET /system/config: the cluster's settings and the caller's MinIO credentials. */
  systemConfig(): Promise<SystemConfig> {
    return this.json(systemConfigSchema, 'GET', '/system/config');
  }

  /** GET /system/config, as returned (for display). */
  rawSystemConfig(): Promise<Record<string, unknown>> {
    return this.json(recordSchema, 'GET', '/system/config');
  }

  listServices(): Promise<Service[]> {
    return this.json(
      serviceSchema
        .array()
        .nullable()
        .transform((list) => list ?? []),
      'GET',
      '/system/services',
    );
  }

  /** GET /system/services/{name}; a 404 becomes SERVICE_NOT_FOUND. */
  async getService(name: string): Promise<Service> {
    try {
      return await this.json(serviceSchema, 'GET', `/system/services/${encodeURIComponent(name)}`);
    } catch (error) {
      throw asServiceNotFound(error, name);
    }
  }

  /** GET /system/services/{name} exactly as the server answers it (for display). */
  async getServiceDefinition(name: string): Promise<Record<string, unknown>> {
    try {
      return await this.json(recordSchema, 'GET', `/system/services/${encodeURIComponent(name)}`);
    } catch (error) {
      throw asServiceNotFound(error, name);
    }
  }

  /** Whether a service of that name exists. */
  async serviceExists(name: string): Promise<boolean> {
    try {
      await this.send('GET', `/system/services/${encodeURIComponent(name)}`);
      return true;
    } catch (error) {
      if (error instanceof PlatformError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * POST /system/services (create) or PUT /system/services (update), with the service JSON. Returns the
   * server's warnings: Nubes sends them in the 201 body (`warnings`) or, for a 204, in `x-nubes-warnings`.
   */
  async putService(json: unknown, mode: 'create' | 'update'): Promise<string[]> {
    const response = await this.send(mode === 'create' ? 'POST' : 'PUT', '/system/services', {
      body: JSON.stringify(json),
      contentType: 'application/json',
      timeoutMs: Math.max(this.timeoutMs, 120_000),
    });
    return deployWarnings(response);
  }

  async deleteService(name: string): Promise<void> {
    try {
      await this.send('DELETE', `/system/services/${encodeURIComponent(name)}`);
    } catch (error) {
      throw asServiceNotFound(error, name);
    }
  }

  /** POST /run/{name}: a synchronous call; returns the answer body (base64, or raw bytes with `raw`, a Nubes addition). */
  async run(
    name: string,
    token: string,
    body: Buffer | Readable,
    timeoutMs: number,
    raw = false,
  ): Promise<Buffer> {
    const response = await this.send('POST', `/run/${encodeURIComponent(name)}`, {
      query: { raw: raw ? 'true' : undefined },
      body,
      contentType: 'text/plain',
      auth: { bearer: token },
      timeoutMs,
    });
    return response.body;
  }

  /** POST /job/{name}: an asynchronous call; returns the job id when the answer names one. */
  async submitJob(name: string, token: string, body: Buffer | Readable): Promise<string | undefined> {
    const response = await this.send('POST', `/job/${encodeURIComponent(name)}`, {
      body,
      contentType: 'text/plain',
      auth: { bearer: token },
      timeoutMs: Math.max(this.timeoutMs, 300_000),
    });
    const text = response.body.toString('utf8').trim();
    if (text === '') return undefined;
    try {
      const parsed = jobSubmittedSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** GET /system/logs/{name}?page=&status= (OSCAR ignores `status`; Nubes filters with it). */
  async listJobs(name: string, page?: string, statuses?: string[]): Promise<JobsPage> {
    try {
      return await this.json(jobsPageSchema, 'GET', `/system/logs/${encodeURIComponent(name)}`, {
        query: { page, status: statuses?.join(',') },
      });
    } catch (error) {
      throw asServiceNotFound(error, name);
    }
  }

  /** GET /system/logs/{name}/{job}: the job's log text. */
  async jobLogs(name: string, job: string, timestamps: boolean): Promise<string> {
    const response = await this.send(
      'GET',
      `/system/logs/${encodeURIComponent(name)}/${encodeURIComponent(job)}`,
      {
        query: { timestamps: timestamps ? 'true' : undefined },
      },
    );
    return response.body.toString('utf8');
  }

  async deleteJob(name: string, job: string): Promise<void> {
    await this.send('DELETE', `/system/logs/${encodeURIComponent(name)}/${encodeURIComponent(job)}`);
  }

  /** DELETE /system/logs/{name}: finished jobs, or every job with `all`. */
  async deleteJobs(name: string, all: boolean): Promise<void> {
    await this.send('DELETE', `/system/logs/${encodeURIComponent(name)}`, {
      query: { all: all ? 'true' : undefined },
    });
  }

  private networkError(error: unknown): PlatformError {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ETIMEDOUT'
        ? (error as Error).message
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'unknown host'
            : (error as Error).message || String(code);
    const hint =
      this.target.source === 'local'
        ? 'is `npm start` running in the project folder? (no cluster is configured, so nubes talks to the local server)'
        : `is the server up? check the endpoint of cluster "${this.target.id}" with \`nubes cluster list\``;
    return new PlatformError('UNAVAILABLE', `cannot reach Nubes at ${this.target.endpoint}: ${reason}`, {
      cause: error,
      details: { hint },
    });
  }

  private withAuthHint(error: PlatformError): PlatformError {
    if (error.code !== 'UNAUTHENTICATED') return error;
    const hint =
      this.target.auth === undefined
        ? `no credentials found: start the server once with \`npm start\` (it writes ${this.target.origin}) or set NUBES_ADMIN_USER and NUBES_ADMIN_PASSWORD`
        : `the server refused the credentials of cluster "${this.target.id}" (from ${this.target.origin})`;
    return withHint(error, hint);
  }
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'UNAVAILABLE',
};

/** The error code for an HTTP status when the body names none. */
export function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

/**
 * Turns a non-2xx answer into a PlatformError: Nubes' `{error: {code, message, details}}`, OSCAR's
 * `{error: "…"}` or plain text, or nothing at all.
 */
export function errorFromResponse(response: HttpResponse, what: string): PlatformError {
  const text = response.body.toString('utf8').trim();
  let code = codeForStatus(response.status);
  let message = '';
  let details: unknown;
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
    const body = parsed.error;
    if (typeof body === 'string') {
      message = body;
    } else if (typeof body === 'object' && body !== null) {
      const { code: bodyCode, message: bodyMessage, details: bodyDetails } = body as Record<string, unknown>;
      if (typeof bodyCode === 'string' && isErrorCode(bodyCode)) code = bodyCode;
      if (typeof bodyMessage === 'string') message = bodyMessage;
      details = bodyDetails;
    }
  } else if (parsed === undefined && text !== '' && !text.startsWith('<')) {
    message = text.split('\n', 1)[0]?.slice(0, 300) ?? '';
  }
  if (message === '') message = `${what} failed with HTTP ${response.status}`;
  return new PlatformError(code, message, {
    details: details === undefined ? { status: response.status } : details,
  });
}

/** Warnings of a deploy answer, from its JSON body or its `x-nubes-warnings` header (URI-encoded, one per line). */
export function deployWarnings(response: HttpResponse): string[] {
  const header = response.headers['x-nubes-warnings'];
  const fromHeader = typeof header === 'string' && header !== '' ? safeDecode(header).split('\n') : [];
  let fromBody: string[] = [];
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { warnings?: unknown };
    if (Array.isArray(body.warnings))
      fromBody = body.warnings.filter((item): item is string => typeof item === 'string');
  } catch {
    // an empty or non-JSON body (OSCAR answers 201 with nothing)
  }
  return [...new Set([...fromBody, ...fromHeader].filter((warning) => warning.trim() !== ''))];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function asServiceNotFound(error: unknown, name: string): unknown {
  if (error instanceof PlatformError && error.code === 'NOT_FOUND') {
    return new PlatformError('SERVICE_NOT_FOUND', `service "${name}" not found`, { cause: error });
  }
  return error;
}
