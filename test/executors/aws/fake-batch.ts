/**
 * @module test/executors/aws/fake-batch
 * AWS Batch as its API reference documents it (REST-JSON, `POST /v1/<operation>`): managed compute
 * environments and job queues that are CREATING before VALID (a queue refuses an environment that is not
 * VALID), job definitions with revisions (24 KiB at most), and jobs that go SUBMITTED → RUNNABLE →
 * STARTING → RUNNING → SUCCEEDED | FAILED. A running job's container is played by a host process (the
 * definition's command with its environment and the submission's overrides, at most 8 KiB), logging to
 * CloudWatch Logs (`/aws/batch/job`, one stream per job); TerminateJob and the attempt duration kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { restJsonError, type AwsReply, type AwsRequest, type FakeService, type Routed } from './fake-aws.js';
import type { FakeLogs } from './fake-logs.js';
import { ACCOUNT } from './fake-lambda.js';
import { containerTmp } from '../../support/container-tmp.js';
import {
  createComputeEnvironmentSchema,
  createJobQueueSchema,
  deregisterJobDefinitionSchema,
  describeComputeEnvironmentsSchema,
  describeJobDefinitionsSchema,
  describeJobQueuesSchema,
  describeJobsSchema,
  registerJobDefinitionSchema,
  submitJobSchema,
  terminateJobSchema,
} from './batch-api-schemas.js';

const REGION = 'us-east-1';
const LOG_GROUP = '/aws/batch/job';

type JobStatus = 'SUBMITTED' | 'PENDING' | 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

interface Definition {
  name: string;
  revision: number;
  arn: string;
  status: 'ACTIVE' | 'INACTIVE';
  request: z.infer<typeof registerJobDefinitionSchema>;
}

interface FakeJob {
  id: string;
  name: string;
  arn: string;
  queue: string;
  definition: Definition;
  request: z.infer<typeof submitJobSchema>;
  status: JobStatus;
  statusReason?: string;
  createdAt: number;
  startedAt?: number;
  stoppedAt?: number;
  exitCode?: number;
  logStreamName?: string;
  child: ChildProcess | null;
  timer: NodeJS.Timeout | null;
}

export interface FakeBatchOptions {
  /** How long environments and queues stay CREATING, and each job step lasts. @default 20 */
  transitionMs?: number;
  roleCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /**
   * Milliseconds one second of an attempt duration lasts here: Batch's minimum is 60 s, which a test
   * compresses (20 makes 60 s last 1.2 s). @default 1000
   */
  attemptSecondMs?: number;
}

export class FakeBatch implements FakeService {
  readonly environments = new Map<
    string,
    { request: z.infer<typeof createComputeEnvironmentSchema>; arn: string; validAt: number }
  >();
  readonly queues = new Map<
    string,
    { request: z.infer<typeof createJobQueueSchema>; arn: string; validAt: number }
  >();
  readonly definitions: Definition[] = [];
  readonly jobs = new Map<string, FakeJob>();
  private readonly exits = new Set<Promise<void>>();

  constructor(
    private readonly logs: FakeLogs,
    private readonly options: FakeBatchOptions = {},
  ) {}

  /** Ids of the jobs whose container runs, for a service (its `nubes:service` tag). */
  runningJobs(service: string): string[] {
    return [...this.jobs.values()]
      .filter((job) => job.child !== null && job.request.tags?.['nubes:service'] === service)
      .map((job) => job.id);
  }

  route(request: AwsRequest): Routed | null {
    if (request.method !== 'POST') return null;
    const body = request.json;
    const op = <S extends z.ZodTypeAny>(
      operation: string,
      schema: S,
      run: (input: z.infer<S>) => AwsReply,
    ): Routed => ({
      operation,
      schema,
      run: () => run(schema.parse(body ?? {}) as z.infer<S>),
    });
    switch (request.path) {
      case '/v1/createcomputeenvironment':
        return op('CreateComputeEnvironment', createComputeEnvironmentSchema, (input) =>
          this.createEnvironment(input),
        );
      case '/v1/describecomputeenvironments':
        return op('DescribeComputeEnvironments', describeComputeEnvironmentsSchema, (input) =>
          this.describeEnvironments(input),
        );
      case '/v1/createjobqueue':
        return op('CreateJobQueue', createJobQueueSchema, (input) => this.createQueue(input));
      case '/v1/describejobqueues':
        return op('DescribeJobQueues', describeJobQueuesSchema, (input) => this.describeQueues(input));
      case '/v1/registerjobdefinition':
        return op('RegisterJobDefinition', registerJobDefinitionSchema, (input) =>
          this.register(input, request.raw.length),
        );
      case '/v1/describejobdefinitions':
        return op('DescribeJobDefinitions', describeJobDefinitionsSchema, (input) =>
          this.describeDefinitions(input),
        );
      case '/v1/deregisterjobdefinition':
        return op('DeregisterJobDefinition', deregisterJobDefinitionSchema, (input) =>
          this.deregister(input.jobDefinition),
        );
      case '/v1/submitjob':
        return op('SubmitJob', submitJobSchema, (input) => this.submit(input));
      case '/v1/describejobs':
        return op('DescribeJobs', describeJobsSchema, (input) => this.describeJobs(input.jobs));
      case '/v1/terminatejob':
        return op('TerminateJob', terminateJobSchema, (input) => this.terminate(input.jobId, input.reason));
      default:
        return null;
    }
  }

  validationError(message: string): AwsReply {
    return restJsonError(400, 'ClientException', message);
  }

  async close(): Promise<void> {
    const exits: Promise<void>[] = [];
    for (const job of this.jobs.values()) {
      if (job.timer !== null) clearTimeout(job.timer);
      const child = job.child;
      if (child !== null) {
        exits.push(new Promise((resolve) => child.once('close', () => resolve())));
        kill(child);
      }
    }
    await Promise.all([...exits, ...this.exits]);
  }

  private get step(): number {
    return this.options.transitionMs ?? 20;
  }

  private createEnvironment(input: z.infer<typeof createComputeEnvironmentSchema>): AwsReply {
    if (this.environments.has(input.computeEnvironmentName)) {
      return restJsonError(400, 'ClientException', `Object already exists`);
    }
    const arn = `arn:aws:batch:${REGION}:${ACCOUNT}:compute-environment/${input.computeEnvironmentName}`;
    this.environments.set(input.computeEnvironmentName, {
      request: input,
      arn,
      validAt: Date.now() + this.step,
    });
    return {
      status: 200,
      body: { computeEnvironmentName: input.computeEnvironmentName, computeEnvironmentArn: arn },
    };
  }

  private describeEnvironments(input: z.infer<typeof describeComputeEnvironmentsSchema>): AwsReply {
    const names = input.computeEnvironments ?? [...this.environments.keys()];
    const found = names.flatMap((name) => {
      const environment = this.environments.get(name.split('/').pop() ?? name);
      if (environment === undefined) return [];
      const valid = Date.now() >= environment.validAt;
      return [
        {
          computeEnvironmentName: environment.request.computeEnvironmentName,
          computeEnvironmentArn: environment.arn,
          ecsClusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${environment.request.computeEnvironmentName}`,
          type: environment.request.type,
          state: environment.request.state ?? 'ENABLED',
          status: valid ? 'VALID' : 'CREATING',
          statusReason: valid ? 'ComputeEnvironment Healthy' : 'Creation in progress',
          computeResources: environment.request.computeResources,
        },
      ];
    });
    return { status: 200, body: { computeEnvironments: found } };
  }

  private createQueue(input: z.infer<typeof createJobQueueSchema>): AwsReply {
    if (this.queues.has(input.jobQueueName))
      return restJsonError(400, 'ClientException', 'Object already exists');
    for (const entry of input.computeEnvironmentOrder) {
      const environment = this.environments.get(entry.computeEnvironment.split('/').pop() ?? '');
      if (environment === undefined || Date.now() < environment.validAt) {
        return restJsonError(400, 'ClientException', `${entry.computeEnvironment} is not valid`);
      }
    }
    const arn = `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${input.jobQueueName}`;
    this.queues.set(input.jobQueueName, { request: input, arn, validAt: Date.now() + this.step });
    return { status: 200, body: { jobQueueName: input.jobQueueName, jobQueueArn: arn } };
  }

  private describeQueues(input: z.infer<typeof describeJobQueuesSchema>): AwsReply {
    const names = input.jobQueues ?? [...this.queues.keys()];
    const found = names.flatMap((name) => {
      const queue = this.queues.get(name.split('/').pop() ?? name);
      if (queue === undefined) return [];
      const valid = Date.now() >= queue.validAt;
      return [
        {
          jobQueueName: queue.request.jobQueueName,
          jobQueueArn: queue.arn,
          state: queue.request.state ?? 'ENABLED',
          status: valid ? 'VALID' : 'CREATING',
          priority: queue.request.priority,
          computeEnvironmentOrder: queue.request.computeEnvironmentOrder,
        },
      ];
    });
    return { status: 200, body: { jobQueues: found } };
  }

  private register(input: z.infer<typeof registerJobDefinitionSchema>, size: number): AwsReply {
    if (size > 24 * 1024)
      return restJsonError(400, 'ClientException', 'Job definition size exceeds the 24 KiB limit');
    const revision = this.definitions.filter((d) => d.name === input.jobDefinitionName).length + 1;
    const arn = `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/${input.jobDefinitionName}:${revision}`;
    this.definitions.push({ name: input.jobDefinitionName, revision, arn, status: 'ACTIVE', request: input });
    return {
      status: 200,
      body: { jobDefinitionName: input.jobDefinitionName, jobDefinitionArn: arn, revision },
    };
  }

  private describeDefinitions(input: z.infer<typeof describeJobDefinitionsSchema>): AwsReply {
    const found = this.definitions
      .filter((d) => input.jobDefinitionName === undefined || d.name === input.jobDefinitionName)
      .filter((d) => input.status === undefined || d.status === input.status)
      .map((d) => ({
        jobDefinitionName: d.name,
        jobDefinitionArn: d.arn,
        revision: d.revision,
        status: d.status,
        type: d.request.type,
        // Batch fills in defaults of its own; Nubes must ignore them when comparing.
        containerProperties: {
          volumes: [],
          mountPoints: [],
          ulimits: [],
          secrets: [],
          ...d.request.containerProperties,
        },
        ...(d.request.timeout === undefined ? {} : { timeout: d.request.timeout }),
        retryStrategy: d.request.retryStrategy,
        platformCapabilities: d.request.platformCapabilities ?? ['EC2'],
        tags: d.request.tags ?? {},
      }));
    return { status: 200, body: { jobDefinitions: found } };
  }

  private deregister(reference: string): AwsReply {
    const definition = this.definitions.find(
      (d) => d.arn === reference || `${d.name}:${d.revision}` === reference,
    );
    if (definition === undefined) return restJsonError(400, 'ClientException', `${reference} does not exist`);
    definition.status = 'INACTIVE';
    return { status: 200, body: {} };
  }

  private submit(input: z.infer<typeof submitJobSchema>): AwsReply {
    const queue = this.queues.get(input.jobQueue.split('/').pop() ?? '');
    if (queue === undefined || Date.now() < queue.validAt) {
      return restJsonError(
        400,
        'ClientException',
        `Job Queue ${input.jobQueue} does not exist or is not valid`,
      );
    }
    if (input.containerOverrides !== undefined && JSON.stringify(input.containerOverrides).length > 8192) {
      return restJsonError(400, 'ClientException', 'Container Overrides length must be at most 8192');
    }
    // By name: the latest ACTIVE revision; `name:revision` or an ARN: that one.
    const active = this.definitions.filter((d) => d.status === 'ACTIVE');
    const definition =
      active.find(
        (d) => d.arn === input.jobDefinition || `${d.name}:${d.revision}` === input.jobDefinition,
      ) ?? active.filter((d) => d.name === input.jobDefinition).sort((a, b) => b.revision - a.revision)[0];
    if (definition === undefined) {
      return restJsonError(
        400,
        'ClientException',
        `JobDefinition ${input.jobDefinition} does not exist or is not ACTIVE`,
      );
    }
    const id = randomUUID();
    const job: FakeJob = {
      id,
      name: input.jobName,
      arn: `arn:aws:batch:${REGION}:${ACCOUNT}:job/${id}`,
      queue: queue.request.jobQueueName,
      definition,
      request: input,
      status: 'SUBMITTED',
      createdAt: Date.now(),
      child: null,
      timer: null,
    };
    this.jobs.set(id, job);
    this.advance(job, ['PENDING', 'RUNNABLE', 'STARTING']);
    return { status: 200, body: { jobName: job.name, jobId: id, jobArn: job.arn } };
  }

  /** Walks a job through the scheduler's states, one step each, then starts its container. */
  private advance(job: FakeJob, steps: JobStatus[]): void {
    job.timer = setTimeout(() => {
      if (job.status === 'FAILED') return;
      const next = steps.shift();
      if (next === undefined) return this.start(job);
      job.status = next;
      this.advance(job, steps);
    }, this.step);
  }

  private start(job: FakeJob): void {
    const properties = job.definition.request.containerProperties;
    const overrides = job.request.containerOverrides;
    const argv = overrides?.command ?? properties?.command ?? [];
    const tmp = containerTmp();
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...tmp.env };
    for (const { name, value } of [...(properties?.environment ?? []), ...(overrides?.environment ?? [])])
      env[name] = value;
    const credentials = this.options.roleCredentials;
    Object.assign(env, {
      AWS_BATCH_JOB_ID: job.id,
      AWS_BATCH_JQ_NAME: job.queue,
      AWS_BATCH_JOB_ATTEMPT: '1',
      AWS_REGION: REGION,
      ...(credentials === undefined
        ? {}
        : {
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_SESSION_TOKEN: credentials.sessionToken,
          }),
    });
    job.logStreamName = `${job.definition.name}/default/${randomBytes(16).toString('hex')}`;
    job.status = 'RUNNING';
    job.startedAt = Date.now();
    const child = spawn(argv[0] ?? '/bin/false', argv.slice(1), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    job.child = child;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.logs.write(LOG_GROUP, job.logStreamName ?? '', line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('close', (code, signal) => {
      tmp.remove();
      if (pending !== '') this.logs.write(LOG_GROUP, job.logStreamName ?? '', pending);
      job.child = null;
      if (job.timer !== null) clearTimeout(job.timer);
      if (job.status !== 'RUNNING') return;
      job.exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      job.stoppedAt = Date.now();
      job.status = job.exitCode === 0 ? 'SUCCEEDED' : 'FAILED';
      job.statusReason =
        job.exitCode === 0 ? 'Essential container in task exited' : 'Essential container in task exited';
    });
    const seconds =
      job.request.timeout?.attemptDurationSeconds ?? job.definition.request.timeout?.attemptDurationSeconds;
    if (seconds !== undefined) {
      job.timer = setTimeout(
        () => this.stop(job, 'Job attempt duration exceeded timeout'),
        seconds * (this.options.attemptSecondMs ?? 1000),
      );
    }
  }

  private stop(job: FakeJob, reason: string): void {
    if (job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
    if (job.timer !== null) clearTimeout(job.timer);
    const wasRunning = job.child !== null;
    job.status = 'FAILED';
    job.statusReason = reason;
    job.stoppedAt = Date.now();
    if (wasRunning) job.exitCode = 137;
    // As the kubelet: the container is killed at once; the job no longer counts as running.
    if (job.child !== null) kill(job.child);
    job.child = null;
  }

  private describeJobs(ids: string[]): AwsReply {
    const jobs = ids.flatMap((id) => {
      const job = this.jobs.get(id);
      if (job === undefined) return [];
      return [
        {
          jobArn: job.arn,
          jobName: job.name,
          jobId: job.id,
          jobQueue: `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${job.queue}`,
          status: job.status,
          ...(job.statusReason === undefined ? {} : { statusReason: job.statusReason }),
          createdAt: job.createdAt,
          ...(job.startedAt === undefined ? {} : { startedAt: job.startedAt }),
          ...(job.stoppedAt === undefined ? {} : { stoppedAt: job.stoppedAt }),
          jobDefinition: job.definition.arn,
          dependsOn: [],
          tags: job.request.tags ?? {},
          platformCapabilities: job.definition.request.platformCapabilities ?? ['EC2'],
          container: {
            image: job.definition.request.containerProperties?.image,
            command: job.definition.request.containerProperties?.command,
            ...(job.exitCode === undefined ? {} : { exitCode: job.exitCode }),
            ...(job.logStreamName === undefined ? {} : { logStreamName: job.logStreamName }),
            resourceRequirements: job.definition.request.containerProperties?.resourceRequirements ?? [],
          },
        },
      ];
    });
    return { status: 200, body: { jobs } };
  }

  private terminate(id: string, reason: string): AwsReply {
    const job = this.jobs.get(id);
    if (job === undefined) return restJsonError(400, 'ClientException', `Job ${id} does not exist`);
    this.stop(job, reason);
    return { status: 200, body: {} };
  }
}

function kill(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}
