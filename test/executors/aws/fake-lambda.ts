/**
 * @module test/executors/aws/fake-lambda
 * AWS Lambda as its API reference documents it, for container-image functions: functions with states
 * (Pending after create, LastUpdateStatus InProgress after an update, ResourceConflictException when
 * invoked or updated too early), the 4 KB environment limit, resource policies, tags, and Invoke in
 * RequestResponse and Event modes with the documented status codes and headers (X-Amz-Function-Error,
 * X-Amz-Log-Result). An invocation runs in an execution environment: the function's image entry point is
 * started as a host process with Lambda's environment variables and its own Runtime API endpoint (GET
 * next, POST response/error), kept warm for the next invocation, killed at the function's timeout
 * (`Task timed out after …`). Its output goes to CloudWatch Logs between START and END lines, as in Lambda.
 */
import { containerTmp } from '../../support/container-tmp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { restJsonError, type AwsReply, type AwsRequest, type FakeService, type Routed } from './fake-aws.js';
import type { FakeLogs } from './fake-logs.js';
import {
  addPermissionSchema,
  createFunctionSchema,
  eventInvokeConfigSchema,
  invokeHeadersSchema,
  tagResourceSchema,
  updateCodeSchema,
  updateConfigurationSchema,
} from './lambda-api-schemas.js';

export const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

interface Statement {
  Sid: string;
  Principal: string;
  Action: string;
  SourceArn?: string;
  SourceAccount?: string;
}

interface FakeFunction {
  name: string;
  arn: string;
  request: z.infer<typeof createFunctionSchema>;
  imageUri: string;
  tags: Record<string, string>;
  policy: Statement[];
  maxRetryAttempts: number | null;
  readyAtMs: number;
  updatedAtMs: number;
  environments: Environment[];
  revision: number;
}

/** How an invocation ended: the response (or error) payload, the error kind, the lines it logged. */
export interface Outcome {
  payload: Buffer;
  functionError: string | null;
  logTail: string;
}

interface PendingInvocation {
  requestId: string;
  payload: Buffer;
  resolve(outcome: Outcome): void;
}

export interface FakeLambdaOptions {
  /** How long a function stays Pending, and an update InProgress. @default 30 */
  transitionMs?: number;
  /** Credentials given to functions as their role's (AWS_ACCESS_KEY_ID…). */
  roleCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Invocations running at once before Invoke answers 429 TooManyRequestsException. @default 1000 */
  concurrencyLimit?: number;
}

export class FakeLambda implements FakeService {
  private readonly functions = new Map<string, FakeFunction>();
  /** Event invocations accepted and their outcomes, by request id. */
  readonly eventOutcomes = new Map<string, Outcome | null>();

  constructor(
    private readonly logs: FakeLogs,
    private readonly options: FakeLambdaOptions = {},
  ) {}

  /** A function made by someone else (not through the API), allowed to be invoked by `buckets`. */
  addForeignFunction(name: string, buckets: string[]): string {
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    this.functions.set(name, {
      name,
      arn,
      request: createFunctionSchema.parse({
        FunctionName: name,
        Role: `arn:aws:iam::${ACCOUNT}:role/other`,
        Code: { ImageUri: 'x' },
        PackageType: 'Image',
      }),
      imageUri: 'x',
      tags: {},
      policy: buckets.map((bucket) => ({
        Sid: `s3-${bucket}`,
        Principal: 's3.amazonaws.com',
        Action: 'lambda:InvokeFunction',
        SourceArn: `arn:aws:s3:::${bucket}`,
      })),
      maxRetryAttempts: null,
      readyAtMs: 0,
      updatedAtMs: 0,
      environments: [],
      revision: 1,
    });
    return arn;
  }

  fn(name: string): FakeFunction | undefined {
    return this.functions.get(name);
  }

  /** Pids of the function's environments that are running an invocation. */
  busyEnvironments(name: string): number[] {
    return (this.functions.get(name)?.environments ?? [])
      .filter((env) => env.current !== null)
      .map((env) => env.pid);
  }

  /** All environment processes still alive, idle or not. */
  liveProcesses(name: string): number[] {
    return (this.functions.get(name)?.environments ?? []).filter((env) => env.alive).map((env) => env.pid);
  }

  allowsBucket(functionArn: string, bucket: string): boolean {
    const fn = [...this.functions.values()].find((f) => f.arn === functionArn);
    return (fn?.policy ?? []).some(
      (statement) =>
        statement.Principal === 's3.amazonaws.com' &&
        statement.Action === 'lambda:InvokeFunction' &&
        (statement.SourceArn === undefined || statement.SourceArn === `arn:aws:s3:::${bucket}`),
    );
  }

  invokeFromS3(functionArn: string, event: string): void {
    const fn = [...this.functions.values()].find((f) => f.arn === functionArn);
    if (fn === undefined) return;
    const requestId = randomUUID();
    this.eventOutcomes.set(requestId, null);
    void this.execute(fn, requestId, Buffer.from(event)).then((outcome) =>
      this.eventOutcomes.set(requestId, outcome),
    );
  }

  route(request: AwsRequest): Routed | null {
    const path = request.path;
    const m = request.method;
    if (path === '/2015-03-31/functions' && m === 'POST') {
      return {
        operation: 'CreateFunction',
        schema: createFunctionSchema,
        run: () => this.create(createFunctionSchema.parse(request.json)),
      };
    }
    const tags = /^\/2017-03-31\/tags\/(.+)$/.exec(path);
    if (tags !== null) {
      const arn = decodeURIComponent(tags[1] ?? '');
      if (m === 'POST')
        return {
          operation: 'TagResource',
          schema: tagResourceSchema,
          run: () => this.tag(arn, tagResourceSchema.parse(request.json).Tags),
        };
      if (m === 'DELETE')
        return {
          operation: 'UntagResource',
          schema: null,
          run: () => this.untag(arn, request.query.getAll('tagKeys')),
        };
      return null;
    }
    const eic = /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config$/.exec(path);
    if (eic !== null && m === 'PUT') {
      const name = decodeURIComponent(eic[1] ?? '');
      return {
        operation: 'PutFunctionEventInvokeConfig',
        schema: eventInvokeConfigSchema,
        run: () => this.eventInvokeConfig(name, eventInvokeConfigSchema.parse(request.json)),
      };
    }
    const match = /^\/2015-03-31\/functions\/([^/]+)(\/[a-z]+)?(?:\/([^/]+))?$/.exec(path);
    if (match === null) return null;
    const name = decodeURIComponent(match[1] ?? '');
    const sub = match[2] ?? '';
    if (sub === '' && m === 'GET')
      return {
        operation: 'GetFunction',
        schema: null,
        run: () => this.withFunction(name, (fn) => this.getFunction(fn)),
      };
    if (sub === '' && m === 'DELETE')
      return { operation: 'DeleteFunction', schema: null, run: () => this.delete(name) };
    if (sub === '/configuration' && m === 'GET') {
      return {
        operation: 'GetFunctionConfiguration',
        schema: null,
        run: () => this.withFunction(name, (fn) => ok(this.configuration(fn))),
      };
    }
    if (sub === '/configuration' && m === 'PUT') {
      return {
        operation: 'UpdateFunctionConfiguration',
        schema: updateConfigurationSchema,
        run: () =>
          this.withFunction(name, (fn) =>
            this.updateConfiguration(fn, updateConfigurationSchema.parse(request.json)),
          ),
      };
    }
    if (sub === '/code' && m === 'PUT') {
      return {
        operation: 'UpdateFunctionCode',
        schema: updateCodeSchema,
        run: () => this.withFunction(name, (fn) => this.updateCode(fn, updateCodeSchema.parse(request.json))),
      };
    }
    if (sub === '/policy' && m === 'POST' && match[3] === undefined) {
      return {
        operation: 'AddPermission',
        schema: addPermissionSchema,
        run: () =>
          this.withFunction(name, (fn) => this.addPermission(fn, addPermissionSchema.parse(request.json))),
      };
    }
    if (sub === '/policy' && m === 'DELETE' && match[3] !== undefined) {
      const sid = decodeURIComponent(match[3]);
      return {
        operation: 'RemovePermission',
        schema: null,
        run: () => this.withFunction(name, (fn) => this.removePermission(fn, sid)),
      };
    }
    if (sub === '/invocations' && m === 'POST') {
      return {
        operation: 'Invoke',
        schema: invokeHeadersSchema,
        input: request.headers,
        run: () => this.withFunction(name, (fn) => this.invoke(fn, request)),
      };
    }
    return null;
  }

  validationError(message: string): AwsReply {
    return restJsonError(400, 'ValidationException', message);
  }

  async close(): Promise<void> {
    for (const fn of this.functions.values()) for (const env of fn.environments) env.kill();
    await Promise.all([...this.functions.values()].flatMap((fn) => fn.environments.map((env) => env.closed)));
  }

  private withFunction(
    name: string,
    fn: (f: FakeFunction) => AwsReply | Promise<AwsReply>,
  ): AwsReply | Promise<AwsReply> {
    const found = this.functions.get(name);
    if (found === undefined) {
      return restJsonError(
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
      );
    }
    return fn(found);
  }

  private create(request: z.infer<typeof createFunctionSchema>): AwsReply {
    if (this.functions.has(request.FunctionName)) {
      return restJsonError(
        409,
        'ResourceConflictException',
        `Function already exist: ${request.FunctionName}`,
      );
    }
    const environmentProblem = checkEnvironment(request.Environment?.Variables);
    if (environmentProblem !== null) return environmentProblem;
    const now = Date.now();
    const fn: FakeFunction = {
      name: request.FunctionName,
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${request.FunctionName}`,
      request,
      imageUri: request.Code.ImageUri ?? '',
      tags: { ...request.Tags },
      policy: [],
      maxRetryAttempts: null,
      readyAtMs: now + (this.options.transitionMs ?? 30),
      updatedAtMs: 0,
      environments: [],
      revision: 1,
    };
    this.functions.set(fn.name, fn);
    return { status: 201, body: this.configuration(fn) };
  }

  private configuration(fn: FakeFunction): Record<string, unknown> {
    const now = Date.now();
    const r = fn.request;
    return {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Role: r.Role,
      PackageType: r.PackageType ?? 'Zip',
      MemorySize: r.MemorySize ?? 128,
      Timeout: r.Timeout ?? 3,
      EphemeralStorage: { Size: r.EphemeralStorage?.Size ?? 512 },
      Description: r.Description ?? '',
      Environment: { Variables: { ...r.Environment?.Variables } },
      ImageConfigResponse: { ImageConfig: { ...r.ImageConfig } },
      Architectures: r.Architectures ?? ['x86_64'],
      Version: '$LATEST',
      RevisionId: `rev-${fn.revision}`,
      LastModified: new Date(fn.updatedAtMs || now).toISOString().replace('Z', '+0000'),
      State: now < fn.readyAtMs ? 'Pending' : 'Active',
      ...(now < fn.readyAtMs
        ? { StateReason: 'The function is being created.', StateReasonCode: 'Creating' }
        : {}),
      LastUpdateStatus: now < fn.updatedAtMs ? 'InProgress' : 'Successful',
    };
  }

  private getFunction(fn: FakeFunction): AwsReply {
    return ok({
      Configuration: this.configuration(fn),
      Code: {
        RepositoryType: 'ECR',
        ImageUri: fn.imageUri,
        ResolvedImageUri: `${fn.imageUri.split(':')[0] ?? ''}@sha256:${'0'.repeat(64)}`,
      },
      Tags: { ...fn.tags },
    });
  }

  /** Lambda refuses changes and invocations while the function is not ready (409 ResourceConflictException). */
  private busy(fn: FakeFunction): AwsReply | null {
    const now = Date.now();
    if (now < fn.readyAtMs) {
      return restJsonError(
        409,
        'ResourceConflictException',
        `The operation cannot be performed at this time. The function is currently in the following state: Pending`,
      );
    }
    if (now < fn.updatedAtMs) {
      return restJsonError(
        409,
        'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`,
      );
    }
    return null;
  }

  private updateConfiguration(
    fn: FakeFunction,
    request: z.infer<typeof updateConfigurationSchema>,
  ): AwsReply {
    const refused = this.busy(fn);
    if (refused !== null) return refused;
    const environmentProblem = checkEnvironment(request.Environment?.Variables);
    if (environmentProblem !== null) return environmentProblem;
    fn.request = { ...fn.request, ...request, Role: request.Role ?? fn.request.Role };
    this.startUpdate(fn);
    return ok(this.configuration(fn));
  }

  private updateCode(fn: FakeFunction, request: z.infer<typeof updateCodeSchema>): AwsReply {
    const refused = this.busy(fn);
    if (refused !== null) return refused;
    if (request.ImageUri === undefined)
      return restJsonError(
        400,
        'InvalidParameterValueException',
        'Please provide ImageUri when updating a function with packageType Image.',
      );
    fn.imageUri = request.ImageUri;
    this.startUpdate(fn);
    return ok(this.configuration(fn));
  }

  private startUpdate(fn: FakeFunction): void {
    fn.revision++;
    fn.updatedAtMs = Date.now() + (this.options.transitionMs ?? 30);
    // New code or configuration: the warm environments are not reused.
    for (const env of fn.environments) if (env.current === null) env.kill();
  }

  private delete(name: string): AwsReply {
    const fn = this.functions.get(name);
    if (fn === undefined)
      return restJsonError(404, 'ResourceNotFoundException', `Function not found: ${name}`);
    this.functions.delete(name);
    for (const env of fn.environments) if (env.current === null) env.kill();
    return { status: 204 };
  }

  private addPermission(fn: FakeFunction, request: z.infer<typeof addPermissionSchema>): AwsReply {
    if (fn.policy.some((statement) => statement.Sid === request.StatementId)) {
      return restJsonError(
        409,
        'ResourceConflictException',
        `The statement id (${request.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
      );
    }
    const statement: Statement = {
      Sid: request.StatementId,
      Principal: request.Principal,
      Action: request.Action,
      ...(request.SourceArn === undefined ? {} : { SourceArn: request.SourceArn }),
      ...(request.SourceAccount === undefined ? {} : { SourceAccount: request.SourceAccount }),
    };
    fn.policy.push(statement);
    return { status: 201, body: { Statement: JSON.stringify(statement) } };
  }

  private removePermission(fn: FakeFunction, sid: string): AwsReply {
    const index = fn.policy.findIndex((statement) => statement.Sid === sid);
    if (index === -1)
      return restJsonError(404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
    fn.policy.splice(index, 1);
    return { status: 204 };
  }

  private eventInvokeConfig(
    name: string,
    request: z.infer<typeof eventInvokeConfigSchema>,
  ): AwsReply | Promise<AwsReply> {
    return this.withFunction(name, (fn) => {
      fn.maxRetryAttempts = request.MaximumRetryAttempts ?? null;
      return ok({
        FunctionArn: fn.arn,
        MaximumRetryAttempts: fn.maxRetryAttempts,
        LastModified: Date.now() / 1000,
      });
    });
  }

  private tag(arn: string, tags: Record<string, string>): AwsReply {
    const fn = [...this.functions.values()].find((f) => f.arn === arn);
    if (fn === undefined)
      return restJsonError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    Object.assign(fn.tags, tags);
    return { status: 204 };
  }

  private untag(arn: string, keys: string[]): AwsReply {
    const fn = [...this.functions.values()].find((f) => f.arn === arn);
    if (fn === undefined)
      return restJsonError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    for (const key of keys) delete fn.tags[key];
    return { status: 204 };
  }

  private async invoke(fn: FakeFunction, request: AwsRequest): Promise<AwsReply> {
    const refused = this.busy(fn);
    if (refused !== null) return refused;
    const type = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const limit = type === 'Event' ? 256 * 1024 : 6 * 1024 * 1024;
    if (request.raw.length > limit) {
      return restJsonError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
      );
    }
    const running = [...this.functions.values()].reduce(
      (sum, f) => sum + f.environments.filter((e) => e.current !== null).length,
      0,
    );
    if (running >= (this.options.concurrencyLimit ?? 1000)) {
      return restJsonError(429, 'TooManyRequestsException', 'Rate Exceeded.', { 'retry-after': '1' });
    }
    const requestId = randomUUID();
    if (type === 'DryRun') return { status: 204, headers: { 'x-amzn-requestid': requestId } };
    if (type === 'Event') {
      this.eventOutcomes.set(requestId, null);
      void this.execute(fn, requestId, request.raw).then((outcome) =>
        this.eventOutcomes.set(requestId, outcome),
      );
      return { status: 202, headers: { 'x-amzn-requestid': requestId } };
    }
    const outcome = await this.execute(fn, requestId, request.raw);
    const headers: Record<string, string> = {
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': '$LATEST',
      'content-type': 'application/json',
    };
    if (outcome.functionError !== null) headers['x-amz-function-error'] = outcome.functionError;
    if (request.headers['x-amz-log-type'] === 'Tail') {
      headers['x-amz-log-result'] = Buffer.from(outcome.logTail).subarray(-4096).toString('base64');
    }
    return { status: 200, headers, body: outcome.payload };
  }

  /** Runs one invocation in a warm environment or a new one; resolves with its outcome. */
  private execute(fn: FakeFunction, requestId: string, payload: Buffer): Promise<Outcome> {
    let env = fn.environments.find((e) => e.alive && e.current === null && e.waiting !== null);
    if (env === undefined) {
      env = new Environment(fn, this.logs, this.options.roleCredentials);
      fn.environments.push(env);
      const started = env;
      void started.closed.then(() => {
        fn.environments = fn.environments.filter((e) => e !== started);
      });
    }
    return env.run(requestId, payload);
  }
}

/**
 * One execution environment: the image's entry point as a process group, with its own Runtime API
 * endpoint; it serves one invocation at a time and stays warm between them.
 */
class Environment {
  readonly stream: string;
  current: (PendingInvocation & { timer: NodeJS.Timeout; startedMs: number; log: string[] }) | null = null;
  waiting: ServerResponse | null = null;
  alive = true;
  pid = 0;
  readonly closed: Promise<void>;
  private readonly queue: PendingInvocation[] = [];
  private child: ChildProcess | null = null;
  private server: Server | null = null;
  private readonly group: string;

  constructor(
    private readonly fn: FakeFunction,
    private readonly logs: FakeLogs,
    credentials: FakeLambdaOptions['roleCredentials'],
  ) {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    this.stream = `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
    this.group = `/aws/lambda/${fn.name}`;
    let closedResolve: () => void = () => undefined;
    this.closed = new Promise((resolve) => (closedResolve = resolve));
    this.server = createServer((req, res) => void this.runtimeApi(req, res));
    this.server.listen(0, '127.0.0.1', () => {
      const port = (this.server?.address() as AddressInfo).port;
      const image = fn.request.ImageConfig ?? {};
      const argv = [...(image.EntryPoint ?? []), ...(image.Command ?? [])];
      // The environment's own /tmp, gone with it.
      const tmp = containerTmp();
      const child = spawn(argv[0] ?? '/bin/false', argv.slice(1), {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...tmp.env,
          ...fn.request.Environment?.Variables,
          AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
          AWS_LAMBDA_FUNCTION_NAME: fn.name,
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.request.MemorySize ?? 128),
          AWS_LAMBDA_LOG_GROUP_NAME: this.group,
          AWS_LAMBDA_LOG_STREAM_NAME: this.stream,
          AWS_REGION: REGION,
          AWS_DEFAULT_REGION: REGION,
          LAMBDA_TASK_ROOT: '/var/task',
          ...(credentials === undefined
            ? {}
            : {
                AWS_ACCESS_KEY_ID: credentials.accessKeyId,
                AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
                AWS_SESSION_TOKEN: credentials.sessionToken,
              }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      this.child = child;
      this.pid = child.pid ?? 0;
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.writeLog(line);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('close', () => {
        tmp.remove();
        if (pending !== '') this.writeLog(pending);
        this.alive = false;
        const current = this.current;
        if (current !== null) {
          clearTimeout(current.timer);
          this.finish(
            current,
            Buffer.from(
              JSON.stringify({
                errorType: 'Runtime.ExitError',
                errorMessage: `RequestId: ${current.requestId} Error: Runtime exited without providing a reason`,
              }),
            ),
            'Unhandled',
            'error Error Type: Runtime.ExitError',
          );
        }
        for (const queued of this.queue.splice(0)) {
          queued.resolve({
            payload: Buffer.from(
              JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' }),
            ),
            functionError: 'Unhandled',
            logTail: '',
          });
        }
        this.server?.close();
        this.server?.closeAllConnections();
        closedResolve();
      });
    });
  }

  run(requestId: string, payload: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ requestId, payload, resolve });
      this.dispatch();
    });
  }

  kill(): void {
    if (this.child?.pid !== undefined && this.alive) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    } else if (this.child === null) {
      // Not started yet: stop as soon as it is.
      setTimeout(() => this.kill(), 20);
    }
  }

  private writeLog(message: string): void {
    this.logs.write(this.group, this.stream, `${message}\n`);
    this.current?.log.push(message);
  }

  private dispatch(): void {
    if (this.current !== null || this.waiting === null) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    const res = this.waiting;
    this.waiting = null;
    const timeoutMs = (this.fn.request.Timeout ?? 3) * 1000;
    this.logs.write(this.group, this.stream, `START RequestId: ${next.requestId} Version: $LATEST\n`);
    const timer = setTimeout(() => this.timeout(), timeoutMs);
    this.current = { ...next, timer, startedMs: Date.now(), log: [] };
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': next.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + timeoutMs),
      'lambda-runtime-invoked-function-arn': this.fn.arn,
      'lambda-runtime-trace-id': `Root=1-${randomBytes(12).toString('hex')}`,
    });
    res.end(next.payload);
  }

  private timeout(): void {
    const current = this.current;
    if (current === null) return;
    const seconds = (this.fn.request.Timeout ?? 3).toFixed(2);
    this.logs.write(
      this.group,
      this.stream,
      `${new Date().toISOString()} ${current.requestId} Task timed out after ${seconds} seconds\n`,
    );
    this.finish(
      current,
      Buffer.from(
        JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${current.requestId} Error: Task timed out after ${seconds} seconds`,
        }),
      ),
      'Unhandled',
      'timeout',
    );
    this.kill();
  }

  private finish(
    current: NonNullable<Environment['current']>,
    payload: Buffer,
    functionError: string | null,
    status?: string,
  ): void {
    this.current = null;
    const ms = Date.now() - current.startedMs;
    this.logs.write(this.group, this.stream, `END RequestId: ${current.requestId}\n`);
    this.logs.write(
      this.group,
      this.stream,
      `REPORT RequestId: ${current.requestId}\tDuration: ${ms}.00 ms\tBilled Duration: ${ms} ms\tMemory Size: ${this.fn.request.MemorySize ?? 128} MB\tMax Memory Used: 64 MB${status === undefined ? '' : `\tStatus: ${status}`}\n`,
    );
    current.resolve({
      payload,
      functionError,
      logTail: current.log.join('\n'),
    });
  }

  private async runtimeApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      this.waiting = res;
      this.dispatch();
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && match !== null) {
      const current = this.current;
      if (current === null || current.requestId !== match[1]) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' }));
        return;
      }
      clearTimeout(current.timer);
      if (match[2] === 'response') {
        if (body.length > 6 * 1024 * 1024) {
          res.writeHead(413).end();
          return;
        }
        this.finish(current, body, null);
      } else {
        this.finish(
          current,
          body,
          'Unhandled',
          `error\tError Type: ${String(req.headers['lambda-runtime-function-error-type'] ?? 'Unknown')}`,
        );
      }
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"status":"OK"}');
      return;
    }
    if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
      res.writeHead(202).end('{"status":"OK"}');
      this.kill();
      return;
    }
    res.writeHead(404).end();
  }
}

function ok(body: unknown): AwsReply {
  return { status: 200, body };
}

/** Lambda's 4 KB limit on a function's environment (names and values, as Lambda counts them). */
function checkEnvironment(variables: Record<string, string> | undefined): AwsReply | null {
  let total = 0;
  for (const [name, value] of Object.entries(variables ?? {}))
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
  if (total <= 4096) return null;
  return restJsonError(
    400,
    'InvalidParameterValueException',
    'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.',
  );
}
