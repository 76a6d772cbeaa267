/**
 * @module executors/batch/batch-executor
 * Runs services as AWS Batch jobs (SCAR's `batch` mode): the compute environment and job queue are used as
 * they are or created as configured (waiting until VALID), deploy registers the service's job definition
 * (a new revision only when it changed, older ones deregistered), and each job is one SubmitJob followed
 * by DescribeJobs until SUCCEEDED or FAILED, its log read from CloudWatch Logs as it runs, its result from
 * the supervisor's result line. Cancel and close terminate the job (TerminateJob).
 */
import type { BatchClient } from '@aws-sdk/client-batch';
import type { Logger } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { splitResultLine } from '../../supervisor/result-line.js';
import { awsClientConfig } from '../aws/aws-connection.js';
import { checkReply, toAwsError } from '../aws/aws-errors.js';
import { CloudWatchLogReader } from '../aws/cloudwatch-logs.js';
import type { DeployResult, Executor, Invocation, InvocationResult } from '../executor.js';
import { RunningJobs } from '../running-jobs.js';
import { failedRun, writeRunLog, pause } from '../run-results.js';
import {
  computeEnvironmentsSchema,
  describeJobsSchema,
  jobDefinitionsSchema,
  jobQueuesSchema,
  registerReplySchema,
  submitReplySchema,
  type BatchJob,
} from './batch-replies.js';
import type { BatchExecutorConfig } from './config-schema.js';
import {
  batchJobName,
  jobDefinition,
  jobDefinitionName,
  sameDefinition,
  submissionEnvironment,
} from './job-definition.js';

type BatchSdk = typeof import('@aws-sdk/client-batch');

export interface BatchExecutorOptions {
  config: BatchExecutorConfig;
  logger: Logger;
}

/** Loads the SDK clients and creates the executor. */
export async function createBatchExecutor(options: BatchExecutorOptions): Promise<Executor> {
  const [batchSdk, logsSdk] = await Promise.all([
    import('@aws-sdk/client-batch'),
    import('@aws-sdk/client-cloudwatch-logs'),
  ]);
  const client = new batchSdk.BatchClient(awsClientConfig(options.config, 'batch'));
  const logs = new logsSdk.CloudWatchLogsClient(awsClientConfig(options.config, 'logs'));
  return new BatchExecutor(
    options.config,
    options.logger,
    batchSdk,
    client,
    new CloudWatchLogReader(logsSdk, logs),
    () => {
      client.destroy();
      logs.destroy();
    },
  );
}

class BatchExecutor implements Executor {
  readonly name = 'batch';
  readonly capabilities;
  private readonly runs = new RunningJobs('batch');
  private infrastructure: Promise<void> | null = null;

  constructor(
    private readonly config: BatchExecutorConfig,
    private readonly logger: Logger,
    private readonly sdk: BatchSdk,
    private readonly client: BatchClient,
    private readonly logs: CloudWatchLogReader,
    private readonly destroyClients: () => void,
  ) {
    this.capabilities = {
      sync: false,
      gpu: config.computeEnvironment?.type.startsWith('FARGATE') !== true,
      containers: true,
      maxConcurrency: config.maxConcurrentJobs,
      // Batch has no limit of its own on a job's time or memory (the instance types bound the memory).
      limits: { timeoutMs: 0, memoryBytes: 0 },
    };
  }

  async deploy(service: ServiceSpec): Promise<DeployResult> {
    await this.ensureInfrastructure();
    const { input, warnings } = jobDefinition(service, this.config);
    const active = await this.activeDefinitions(input.jobDefinitionName);
    const latest = active.reduce<(typeof active)[number] | null>(
      (best, definition) => (best === null || definition.revision > best.revision ? definition : best),
      null,
    );
    if (latest !== null && sameDefinition(latest, input)) return { warnings };
    const reply = await this.call(`register job definition ${input.jobDefinitionName}`, () =>
      this.client.send(new this.sdk.RegisterJobDefinitionCommand(input)),
    );
    const registered = checkReply('Batch', 'RegisterJobDefinition', registerReplySchema, reply);
    // Older revisions are retired so that only the current one can be submitted by name.
    for (const definition of active) {
      if (definition.revision === registered.revision) continue;
      await this.call(`deregister ${definition.jobDefinitionArn}`, () =>
        this.client.send(
          new this.sdk.DeregisterJobDefinitionCommand({ jobDefinition: definition.jobDefinitionArn }),
        ),
      );
    }
    return { warnings };
  }

  async undeploy(serviceName: string): Promise<void> {
    const name = jobDefinitionName(this.config, serviceName);
    for (const definition of await this.activeDefinitions(name)) {
      await this.call(`deregister ${definition.jobDefinitionArn}`, () =>
        this.client.send(
          new this.sdk.DeregisterJobDefinitionCommand({ jobDefinition: definition.jobDefinitionArn }),
        ),
      );
    }
  }

  run(invocation: Invocation): Promise<InvocationResult> {
    return this.runs.track(invocation.signal, (signal) => this.follow(invocation, signal));
  }

  async close(): Promise<void> {
    await this.runs.close();
    this.destroyClients();
  }

  private async follow(invocation: Invocation, signal: AbortSignal): Promise<InvocationResult> {
    const startedMs = Date.now();
    const definition = jobDefinitionName(this.config, invocation.service.name);
    const reply = await this.call('submit a job', () =>
      this.client.send(
        new this.sdk.SubmitJobCommand({
          jobName: batchJobName(invocation.jobId),
          jobQueue: this.config.jobQueue.name,
          jobDefinition: definition,
          containerOverrides: {
            environment: submissionEnvironment(invocation.jobId, invocation.event),
          },
          tags: { 'nubes:service': invocation.service.name, 'nubes:job': invocation.jobId },
          propagateTags: true,
        }),
      ),
    );
    const { jobId } = checkReply('Batch', 'SubmitJob', submitReplySchema, reply);
    let job: BatchJob | null = null;
    for (;;) {
      if (signal.aborted) return this.terminate(invocation, jobId, startedMs);
      job = await this.describe(jobId);
      if (job.container?.logStreamName !== undefined && job.status === 'RUNNING') {
        const lines = await this.logs
          .streamMessages(this.config.logGroup, job.container.logStreamName)
          .catch(() => null);
        if (lines !== null) await writeRunLog(invocation.logPath, splitResultLine(joinLines(lines)).log);
      }
      if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
      await pause(this.config.pollIntervalMs, signal);
    }
    return this.collect(invocation, job, startedMs);
  }

  private async collect(invocation: Invocation, job: BatchJob, startedMs: number): Promise<InvocationResult> {
    const stream = job.container?.logStreamName;
    const lines = stream === undefined ? [] : await this.logs.streamMessages(this.config.logGroup, stream);
    const { log, result } = splitResultLine(joinLines(lines));
    await writeRunLog(invocation.logPath, log);
    const exitCode = job.container?.exitCode ?? result?.exitCode ?? null;
    const reason = job.statusReason ?? job.container?.reason ?? '';
    const finishedMs = Date.now();
    if (job.status === 'FAILED' && /attempt duration exceeded timeout/i.test(reason)) {
      return failedRun(startedMs, exitCode, {
        code: 'JOB_TIMEOUT',
        message: `the job ran past its time limit (service timeout ${invocation.service.timeoutMs} ms): ${reason}`,
        retryable: true,
      });
    }
    if (result !== null) {
      return { ...result, exitCode, outputFiles: [], outputDir: '', startedMs, finishedMs };
    }
    if (job.status === 'SUCCEEDED') {
      return {
        status: 'succeeded',
        exitCode: 0,
        termSignal: null,
        error: null,
        outputs: [],
        outputFiles: [],
        outputDir: '',
        startedMs,
        finishedMs,
      };
    }
    if (/OutOfMemory/i.test(reason)) {
      return failedRun(startedMs, exitCode, {
        code: 'JOB_OUT_OF_MEMORY',
        message: `the job ran out of memory: ${reason}`,
        retryable: false,
      });
    }
    return failedRun(startedMs, exitCode, {
      code: 'JOB_FAILED',
      message:
        exitCode !== null
          ? `the job's container exited with code ${exitCode}`
          : `the job failed: ${reason || 'no reason given'}`,
      retryable: false,
    });
  }

  private async terminate(
    invocation: Invocation,
    jobId: string,
    startedMs: number,
  ): Promise<InvocationResult> {
    const why = this.runs.closeSignal.aborted ? 'the executor was closed' : 'the job was cancelled';
    await this.call(`terminate job ${jobId}`, () =>
      this.client.send(new this.sdk.TerminateJobCommand({ jobId, reason: `Nubes: ${why}` })),
    );
    this.logger.debug({ jobId, service: invocation.service.name }, 'batch job terminated');
    return failedRun(startedMs, null, { code: 'JOB_CANCELLED', message: why, retryable: false });
  }

  private async describe(jobId: string): Promise<BatchJob> {
    const reply = await this.call(`describe job ${jobId}`, () =>
      this.client.send(new this.sdk.DescribeJobsCommand({ jobs: [jobId] })),
    );
    const job = checkReply('Batch', 'DescribeJobs', describeJobsSchema, reply).jobs.find(
      (j) => j.jobId === jobId,
    );
    if (job === undefined) {
      throw new PlatformError('BACKEND_REJECTED', `Batch: job ${jobId} is unknown to DescribeJobs`, {
        retryable: true,
      });
    }
    return job;
  }

  private async activeDefinitions(name: string) {
    const found: ReturnType<typeof jobDefinitionsSchema.parse>['jobDefinitions'] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 100; page++) {
      const reply = await this.call(`describe job definition ${name}`, () =>
        this.client.send(
          new this.sdk.DescribeJobDefinitionsCommand({
            jobDefinitionName: name,
            status: 'ACTIVE',
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        ),
      );
      const checked = checkReply('Batch', 'DescribeJobDefinitions', jobDefinitionsSchema, reply);
      found.push(...checked.jobDefinitions);
      nextToken = checked.nextToken;
      if (nextToken === undefined) break;
    }
    return found;
  }

  /** The compute environment and job queue, created once when configured and missing. */
  private ensureInfrastructure(): Promise<void> {
    this.infrastructure ??= this.createInfrastructure().catch((error: unknown) => {
      this.infrastructure = null;
      throw error;
    });
    return this.infrastructure;
  }

  private async createInfrastructure(): Promise<void> {
    const environment = this.config.computeEnvironment;
    if (environment !== undefined) {
      const existing = await this.computeEnvironment(environment.name);
      if (existing === null) {
        const fargate = environment.type.startsWith('FARGATE');
        await this.call(`create compute environment ${environment.name}`, () =>
          this.client.send(
            new this.sdk.CreateComputeEnvironmentCommand({
              computeEnvironmentName: environment.name,
              type: 'MANAGED',
              state: 'ENABLED',
              computeResources: {
                type: environment.type,
                maxvCpus: environment.maxvCpus,
                subnets: environment.subnets,
                securityGroupIds: environment.securityGroupIds,
                ...(fargate
                  ? {}
                  : {
                      minvCpus: environment.minvCpus,
                      instanceTypes: environment.instanceTypes,
                      ...(environment.desiredvCpus === undefined
                        ? {}
                        : { desiredvCpus: environment.desiredvCpus }),
                      ...(environment.instanceRole === undefined
                        ? {}
                        : { instanceRole: environment.instanceRole }),
                    }),
              },
              ...(environment.serviceRole === undefined ? {} : { serviceRole: environment.serviceRole }),
              tags: { 'nubes:managed': 'true' },
            }),
          ),
        );
      }
      await this.waitValid(`compute environment ${environment.name}`, async () =>
        this.computeEnvironment(environment.name),
      );
    }
    const queue = this.config.jobQueue;
    const existing = await this.jobQueue(queue.name);
    if (existing === null) {
      if (!queue.create) {
        throw new PlatformError(
          'CONFIG_INVALID',
          `Batch job queue ${queue.name} does not exist and jobQueue.create is off`,
        );
      }
      const order = [...(environment === undefined ? [] : [environment.name]), ...queue.computeEnvironments];
      if (order.length === 0) {
        throw new PlatformError(
          'CONFIG_INVALID',
          `Batch job queue ${queue.name} does not exist: name a computeEnvironment (or jobQueue.computeEnvironments) to create it`,
        );
      }
      await this.call(`create job queue ${queue.name}`, () =>
        this.client.send(
          new this.sdk.CreateJobQueueCommand({
            jobQueueName: queue.name,
            state: 'ENABLED',
            priority: queue.priority,
            computeEnvironmentOrder: order.map((name, index) => ({
              order: index + 1,
              computeEnvironment: name,
            })),
            tags: { 'nubes:managed': 'true' },
          }),
        ),
      );
    }
    await this.waitValid(`job queue ${queue.name}`, async () => this.jobQueue(queue.name));
  }

  private async computeEnvironment(name: string) {
    const reply = await this.call(`describe compute environment ${name}`, () =>
      this.client.send(new this.sdk.DescribeComputeEnvironmentsCommand({ computeEnvironments: [name] })),
    );
    const found = checkReply(
      'Batch',
      'DescribeComputeEnvironments',
      computeEnvironmentsSchema,
      reply,
    ).computeEnvironments;
    return found.find((environment) => environment.computeEnvironmentName === name) ?? null;
  }

  private async jobQueue(name: string) {
    const reply = await this.call(`describe job queue ${name}`, () =>
      this.client.send(new this.sdk.DescribeJobQueuesCommand({ jobQueues: [name] })),
    );
    const found = checkReply('Batch', 'DescribeJobQueues', jobQueuesSchema, reply).jobQueues;
    return found.find((queue) => queue.jobQueueName === name) ?? null;
  }

  private async waitValid(
    what: string,
    read: () => Promise<{ status?: string | undefined; statusReason?: string | undefined } | null>,
  ): Promise<void> {
    const deadline = Date.now() + this.config.readyTimeoutMs;
    let delayMs = 100;
    for (;;) {
      const current = await read();
      if (current?.status === 'VALID') return;
      if (current?.status === 'INVALID') {
        throw new PlatformError(
          'BACKEND_REJECTED',
          `Batch: ${what} is INVALID: ${current.statusReason ?? 'no reason given'}`,
        );
      }
      if (Date.now() > deadline) {
        throw new PlatformError(
          'BACKEND_THROTTLED',
          `Batch: ${what} is still ${current?.status ?? 'missing'}`,
        );
      }
      await pause(delayMs, this.runs.closeSignal);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toAwsError('Batch', what, error);
    }
  }
}

/** CloudWatch keeps one event per line; the supervisor's lines end with `\n` or not. */
function joinLines(lines: string[]): string {
  return lines.map((line) => (line.endsWith('\n') ? line : `${line}\n`)).join('');
}
