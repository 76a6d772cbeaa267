/**
 * @module test/executors/aws/fake-aws
 * An in-test AWS endpoint (node:http on port 0) that the official SDK v3 clients talk to through their
 * `endpoint` override: Lambda (REST-JSON, with a Runtime API per execution environment that runs the
 * function's entry point as a host process), CloudWatch Logs (JSON 1.1), the notification subresource of
 * S3 buckets (REST-XML), and AWS Batch (REST-JSON). Every request is recorded with its operation and
 * checked against a zod schema of the request as the API reference documents it; a request that does not
 * match is answered as the service answers a malformed request (400 ValidationException) and kept in
 * `invalid`, so a test can assert that there is none. Tests can inject answers (throttling with
 * Retry-After, 5xx, any error type) per operation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';

export type AwsServiceName = 'lambda' | 'logs' | 's3' | 'batch';

export interface AwsRequest {
  service: AwsServiceName;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  /** The JSON body, when the body is JSON. */
  json: unknown;
}

export interface AwsReply {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

/** One operation a service recognised in a request. */
export interface Routed {
  operation: string;
  /** The request's shape, checked before `run` (null: nothing to check, e.g. a GET). */
  schema: z.ZodTypeAny | null;
  /** What is checked against `schema` (the JSON body by default). */
  input?: unknown;
  run(): Promise<AwsReply> | AwsReply;
}

/** A simulated service: maps a request to an operation, or null when the path is not its. */
export interface FakeService {
  route(request: AwsRequest): Routed | null;
  /** Answer for a request that failed its schema, in the service's own error format. */
  validationError(message: string): AwsReply;
  close(): Promise<void>;
}

export interface RecordedAwsRequest extends AwsRequest {
  operation: string;
  requestId: string;
}

export class FakeAws {
  readonly requests: RecordedAwsRequest[] = [];
  /** Requests whose shape did not match the API reference (each answered 400). */
  readonly invalid: { operation: string; issues: string[] }[] = [];
  private readonly services = new Map<AwsServiceName, FakeService>();
  private readonly injected: { operation: string; replies: AwsReply[] }[] = [];
  private server: Server | null = null;
  url = '';

  register(name: AwsServiceName, service: FakeService): void {
    this.services.set(name, service);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: { message: String(error) } }, randomUUID());
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next requests of `operation` (e.g. `Invoke`, `SubmitJob`) get these answers, in order. */
  inject(operation: string, ...replies: AwsReply[]): void {
    this.injected.push({ operation, replies });
  }

  /** Recorded requests of an operation. */
  calls(operation: string): RecordedAwsRequest[] {
    return this.requests.filter((request) => request.operation === operation);
  }

  async close(): Promise<void> {
    for (const service of this.services.values()) await service.close();
    await new Promise<void>((resolve) => {
      if (this.server === null) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const target = req.headers['x-amz-target'];
    const service: AwsServiceName =
      typeof target === 'string' && target.startsWith('Logs_')
        ? 'logs'
        : /^\/20\d\d-\d\d-\d\d\//.test(url.pathname)
          ? 'lambda'
          : url.pathname.startsWith('/v1/')
            ? 'batch'
            : 's3';
    let json: unknown = null;
    if (raw.length > 0 && service !== 's3') {
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = null;
      }
    }
    const request: AwsRequest = {
      service,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      raw,
      json,
    };
    const requestId = randomUUID();
    const handler = this.services.get(service);
    const routed = handler?.route(request) ?? null;
    this.requests.push({ ...request, operation: routed?.operation ?? 'Unknown', requestId });
    if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) {
      return send(res, { status: 403, body: { message: 'Missing Authentication Token' } }, requestId);
    }
    if (handler === undefined || routed === null) {
      return send(
        res,
        {
          status: 404,
          headers: { 'x-amzn-errortype': 'UnknownOperationException' },
          body: { message: `no route for ${request.method} ${request.path}` },
        },
        requestId,
      );
    }
    const injection = this.injected.find((i) => i.operation === routed.operation && i.replies.length > 0);
    const forced = injection?.replies.shift();
    if (forced !== undefined) return send(res, forced, requestId);
    if (routed.schema !== null) {
      const checked = routed.schema.safeParse(routed.input ?? request.json);
      if (!checked.success) {
        const issues = checked.error.issues.map(
          (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
        );
        this.invalid.push({ operation: routed.operation, issues });
        return send(
          res,
          handler.validationError(`${issues.length} validation error(s) detected: ${issues.join('; ')}`),
          requestId,
        );
      }
    }
    const reply = await routed.run();
    send(res, reply, reply.headers?.['x-amzn-requestid'] ?? requestId);
  }
}

/** A REST-JSON error (Lambda, Batch): the type in `X-Amzn-ErrorType`, a JSON body with the message. */
export function restJsonError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): AwsReply {
  return {
    status,
    headers: { 'x-amzn-errortype': type, ...headers },
    body: { Type: status >= 500 ? 'Service' : 'User', message },
  };
}

/** A JSON 1.1 error (CloudWatch Logs): `__type` in the body, status 400 (or as given). */
export function json11Error(type: string, message: string, status = 400): AwsReply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: { __type: type, message },
  };
}

function send(res: ServerResponse, reply: AwsReply, requestId: string): void {
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId, ...reply.headers };
  let body: Buffer;
  if (reply.body === undefined) body = Buffer.alloc(0);
  else if (Buffer.isBuffer(reply.body)) body = reply.body;
  else if (typeof reply.body === 'string') body = Buffer.from(reply.body);
  else {
    body = Buffer.from(JSON.stringify(reply.body));
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
