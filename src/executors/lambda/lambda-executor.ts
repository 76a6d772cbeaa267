/**
 * @module executors/lambda/lambda-executor
 * Runs services as AWS Lambda container-image functions (SCAR's backend): deploy creates or updates the
 * service's function (code and configuration, waiting until Lambda has applied each change), its S3
 * triggers when inputs are AWS buckets, and turns off Lambda's own retries of async invocations (the
 * platform's queue retries). Each job is one invocation: RequestResponse waits for the runtime's answer;
 * Event returns at once and the job is followed in CloudWatch Logs until its END line.
 * Lambda cannot stop a running invocation: cancelling a job (or closing the executor) stops waiting for it,
 * and the function runs on until it ends or reaches its timeout.
 */
import { readFile } from 'node:fs/promises';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ErrorCode, ErrorData, Logger } from '../../core/index.js';
import { ERROR_CODES, PlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import {
  lambdaAnswerSchema,
  type LambdaAnswer,
  type LambdaEnvelope,
} from '../../supervisor/lambda-envelope.js';
import { splitResultLine } from '../../supervisor/result-line.js';
import { awsClientConfig } from '../aws/aws-connection.js';
import { checkReply, isAwsError, toAwsError } from '../aws/aws-errors.js';
import { CloudWatchLogReader } from '../aws/cloudwatch-logs.js';
import type { DeployResult, Executor, Invocation, InvocationResult } from '../executor.js';
import { RunningJobs } from '../running-jobs.js';
import { failedRun, writeRunLog, pause } from '../run-results.js';
import { resultFromAnswer } from '../remote-answer.js';
import { functionConfig } from '../kubernetes/manifests.js';
import { LAMBDA_LIMITS, type LambdaExecutorConfig } from './config-schema.js';
import {
  functionDefinition,
  functionName,
  logGroupName,
  type FunctionDefinition,
} from './function-definition.js';
import {
  functionConfigurationSchema,
  functionErrorPayloadSchema,
  getFunctionSchema,
  invokeReplySchema,
  type FunctionConfigurationReply,
} from './lambda-replies.js';
import { S3Triggers } from './s3-trigger-client.js';

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

export interface LambdaExecutorOptions {
  config: LambdaExecutorConfig;
  logger: Logger;
}

/** Tag of every function Nubes creates, with the service's name. */
export const SERVICE_TAG = 'nubes:service';

/** Loads the SDK clients and creates the executor. */
export async function createLambdaExecutor(options: LambdaExecutorOptions): Promise<LambdaExecutor> {
  const [lambdaSdk, logsSdk, s3Sdk] = await Promise.all([
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-cloudwatch-logs'),
    import('@aws-sdk/client-s3'),
  ]);
  const { config } = options;
  const lambda = new lambdaSdk.LambdaClient(awsClientConfig(config, 'lambda'));
  const logs = new logsSdk.CloudWatchLogsClient(awsClientConfig(config, 'logs'));
  const s3: S3Client = new s3Sdk.S3Client({
    ...awsClientConfig(config, 's3'),
    forcePathStyle: config.endpoints.s3 !== undefined,
  });
  return new LambdaExecutor(
    config,
    options.logger,
    lambdaSdk,
    lambda,
    new CloudWatchLogReader(logsSdk, logs),
    new S3Triggers(s3Sdk, s3, lambdaSdk, lambda, config),
    () => {
      lambda.destroy();
      logs.destroy();
      s3.destroy();
    },
  );
}

export class LambdaExecutor implements Executor {
  readonly name = 'lambda';
  readonly capabilities;
  private readonly runs = new RunningJobs('lambda');

  constructor(
    private readonly config: LambdaExecutorConfig,
    private readonly logger: Logger,
    private readonly sdk: LambdaSdk,
    private readonly client: LambdaClient,
    private readonly logs: CloudWatchLogReader,
    private readonly triggers: S3Triggers,
    private readonly destroyClients: () => void,
  ) {
    this.capabilities = {
      sync: true,
      gpu: LAMBDA_LIMITS.gpu,
      containers: true,
      maxConcurrency: config.maxConcurrentInvocations,
      // What one job may ask of Lambda: hybrid execution sends bigger ones to the batch executor.
      limits: {
        timeoutMs: config.maxTimeoutSeconds * 1000,
        memoryBytes: LAMBDA_LIMITS.memoryMiB * 1024 * 1024,
      },
    };
  }

  async deploy(service: ServiceSpec): Promise<DeployResult> {
    const definition = functionDefinition(service, this.config);
    const warnings = [...definition.warnings];
    const existing = await this.getFunction(definition.name);
    let arn: string;
    if (existing === null) {
      arn = await this.createFunction(service, definition);
    } else {
      arn = await this.updateFunction(definition, existing);
    }
    await this.call('set the async retries of', definition.name, () =>
      this.client.send(
        new this.sdk.PutFunctionEventInvokeConfigCommand({
          FunctionName: definition.name,
          // The platform's queue retries failed jobs; Lambda's own two retries would run them again.
          MaximumRetryAttempts: 0,
        }),
      ),
    );
    if (this.config.s3Triggers) {
      warnings.push(
        ...(await this.triggers.apply(definition.name, arn, service.input, existing?.Tags ?? {})),
      );
    } else if (service.input.some((io) => io.provider.startsWith('s3.'))) {
      warnings.push('inputs on AWS buckets start no jobs: S3 triggers are turned off in the configuration');
    }
    return { warnings };
  }

  async undeploy(serviceName: string): Promise<void> {
    const name = functionName(this.config, serviceName);
    const existing = await this.getFunction(name);
    if (existing === null) return;
    await this.triggers.remove(name, existing.Tags ?? {});
    try {
      await this.client.send(new this.sdk.DeleteFunctionCommand({ FunctionName: name }));
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return;
      throw toAwsError('Lambda', `delete function ${name}`, error);
    }
  }

  run(invocation: Invocation): Promise<InvocationResult> {
    return this.runs.track(invocation.signal, (signal) => this.invoke(invocation, signal));
  }

  async close(): Promise<void> {
    await this.runs.close();
    this.destroyClients();
  }

  private async invoke(invocation: Invocation, signal: AbortSignal): Promise<InvocationResult> {
    const name = functionName(this.config, invocation.service.name);
    const startedMs = Date.now();
    // Sync calls (a body and no queued job) must answer with the output files; queued jobs may use Event.
    const sync = this.config.invocationType === 'RequestResponse' || invocation.kind === 'http';
    const type = sync ? 'RequestResponse' : 'Event';
    const payload = await envelopeOf(invocation, sync);
    let reply;
    try {
      reply = await this.client.send(
        new this.sdk.InvokeCommand({
          FunctionName: name,
          InvocationType: type,
          LogType: sync ? 'Tail' : 'None',
          Payload: payload,
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (signal.aborted) return this.cancelled(invocation, startedMs);
      throw toAwsError('Lambda', `invoke ${name}`, error);
    }
    const checked = checkReply('Lambda', 'Invoke', invokeReplySchema, reply);
    if (!sync) {
      const requestId = checked.$metadata.requestId;
      if (checked.StatusCode !== 202 || requestId === undefined) {
        throw new PlatformError('BACKEND_REJECTED', `Lambda: an Event invoke answered ${checked.StatusCode}`);
      }
      return this.followInLogs(invocation, name, requestId, startedMs, signal);
    }
    if (checked.StatusCode !== 200) {
      throw new PlatformError(
        'BACKEND_REJECTED',
        `Lambda: a RequestResponse invoke answered ${checked.StatusCode}`,
      );
    }
    if (!(checked.Payload instanceof Uint8Array)) {
      throw new PlatformError(
        'BACKEND_REJECTED',
        'Lambda: a RequestResponse invoke answered with no payload',
      );
    }
    const text = Buffer.from(checked.Payload).toString('utf8');
    if (checked.FunctionError !== undefined) {
      const tail =
        checked.LogResult === undefined ? '' : Buffer.from(checked.LogResult, 'base64').toString('utf8');
      await writeRunLog(invocation.logPath, tail);
      return failedRun(startedMs, null, functionFailure(invocation.service, text));
    }
    let answer: LambdaAnswer;
    try {
      answer = checkReply('Lambda', 'the function', lambdaAnswerSchema, JSON.parse(text));
    } catch (error) {
      if (error instanceof PlatformError) throw error;
      throw new PlatformError(
        'BACKEND_REJECTED',
        `Lambda: the function's answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
    return resultFromAnswer(invocation, answer, startedMs, 'the function');
  }

  /** Follows an Event invocation in CloudWatch Logs until its END line (or the function's timeout passes). */
  private async followInLogs(
    invocation: Invocation,
    name: string,
    requestId: string,
    startedMs: number,
    signal: AbortSignal,
  ): Promise<InvocationResult> {
    const group = logGroupName(name);
    const timeoutSeconds = functionDefinition(invocation.service, this.config).settings.Timeout;
    const deadline = startedMs + timeoutSeconds * 1000 + this.config.logGraceMs;
    for (;;) {
      if (signal.aborted) return this.cancelled(invocation, startedMs);
      const found = await this.logs
        .invocation(group, requestId, startedMs - 60_000, signal)
        .catch((error: unknown) => {
          if (signal.aborted) return null;
          throw error;
        });
      if (found !== null) {
        const { log, result } = splitResultLine(found.lines.join('\n'));
        await writeRunLog(invocation.logPath, log);
        if (found.ended) {
          if (result !== null)
            return { ...result, outputFiles: [], outputDir: '', startedMs, finishedMs: Date.now() };
          return failedRun(startedMs, null, reportFailure(invocation.service, found.report, log));
        }
      }
      if (Date.now() > deadline) {
        return failedRun(startedMs, null, {
          code: 'BACKEND_REJECTED',
          message: `invocation ${requestId} did not end in CloudWatch Logs within ${timeoutSeconds} s and the grace`,
          retryable: true,
        });
      }
      await pause(this.config.logPollIntervalMs, signal);
    }
  }

  private cancelled(invocation: Invocation, startedMs: number): InvocationResult {
    const why = this.runs.closeSignal.aborted ? 'the executor was closed' : 'the job was cancelled';
    return failedRun(startedMs, null, {
      code: 'JOB_CANCELLED',
      message:
        `${why}; Lambda cannot stop a running invocation: it runs on until it ends or reaches the ` +
        `function's timeout, and its result is ignored`,
      retryable: false,
    });
  }

  private async getFunction(name: string) {
    try {
      const reply = await this.client.send(new this.sdk.GetFunctionCommand({ FunctionName: name }));
      return checkReply('Lambda', 'GetFunction', getFunctionSchema, reply);
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return null;
      throw toAwsError('Lambda', `read function ${name}`, error);
    }
  }

  private async createFunction(service: ServiceSpec, definition: FunctionDefinition): Promise<string> {
    try {
      const reply = await this.client.send(
        new this.sdk.CreateFunctionCommand({
          FunctionName: definition.name,
          PackageType: 'Image',
          Code: { ImageUri: definition.imageUri },
          Architectures: [this.config.architecture],
          Tags: { [SERVICE_TAG]: service.name },
          ...definition.settings,
        }),
      );
      checkReply('Lambda', 'CreateFunction', functionConfigurationSchema, reply);
    } catch (error) {
      // Created meanwhile (another deploy of the same service): update it instead.
      if (isAwsError(error, 'ResourceConflictException')) {
        const existing = await this.getFunction(definition.name);
        if (existing !== null) return this.updateFunction(definition, existing);
      }
      throw toAwsError('Lambda', `create function ${definition.name}`, error);
    }
    return (await this.waitReady(definition.name)).FunctionArn;
  }

  private async updateFunction(
    definition: FunctionDefinition,
    existing: { Configuration: FunctionConfigurationReply; Code?: { ImageUri?: string } },
  ): Promise<string> {
    const name = definition.name;
    let current = await this.waitReady(name);
    if (existing.Code?.ImageUri !== definition.imageUri) {
      await this.call('update the code of', name, () =>
        this.client.send(
          new this.sdk.UpdateFunctionCodeCommand({ FunctionName: name, ImageUri: definition.imageUri }),
        ),
      );
      current = await this.waitReady(name);
    }
    if (!sameSettings(current, definition)) {
      await this.call('update the configuration of', name, () =>
        this.client.send(
          new this.sdk.UpdateFunctionConfigurationCommand({ FunctionName: name, ...definition.settings }),
        ),
      );
      current = await this.waitReady(name);
    }
    return current.FunctionArn;
  }

  /**
   * Waits until the function is Active and no update is in progress: Lambda refuses invocations of a
   * Pending function and further updates while one runs (ResourceConflictException).
   */
  private async waitReady(name: string): Promise<FunctionConfigurationReply> {
    const deadline = Date.now() + this.config.readyTimeoutMs;
    let delayMs = 100;
    for (;;) {
      const reply = await this.call('read the state of', name, () =>
        this.client.send(new this.sdk.GetFunctionConfigurationCommand({ FunctionName: name })),
      );
      const state = checkReply('Lambda', 'GetFunctionConfiguration', functionConfigurationSchema, reply);
      if (state.State === 'Failed' || state.LastUpdateStatus === 'Failed') {
        throw new PlatformError(
          'BACKEND_REJECTED',
          `Lambda: function ${name} failed: ${state.StateReason ?? state.LastUpdateStatusReason ?? 'no reason given'}`,
          { details: { state: state.State, lastUpdateStatus: state.LastUpdateStatus } },
        );
      }
      if (
        (state.State === 'Active' || state.State === 'Inactive') &&
        state.LastUpdateStatus !== 'InProgress'
      ) {
        return state;
      }
      if (Date.now() > deadline) {
        throw new PlatformError(
          'BACKEND_THROTTLED',
          `Lambda: function ${name} is still ${state.State ?? '?'}/${state.LastUpdateStatus ?? '?'} after ${this.config.readyTimeoutMs} ms`,
        );
      }
      await pause(delayMs, this.runs.closeSignal);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }

  private async call<T>(what: string, name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toAwsError('Lambda', `${what} function ${name}`, error);
    }
  }
}

/** The invocation's envelope as bytes (see supervisor/lambda-envelope.ts). */
async function envelopeOf(invocation: Invocation, returnFiles: boolean): Promise<Uint8Array> {
  const body =
    invocation.kind === 'http' && invocation.bodyPath !== null ? await readFile(invocation.bodyPath) : null;
  const envelope: LambdaEnvelope = {
    version: 1,
    jobId: invocation.jobId,
    functionConfig: functionConfig(invocation.service),
    event: invocation.event,
    bodyBase64: body === null ? null : body.toString('base64'),
    returnFiles,
  };
  return Buffer.from(JSON.stringify({ nubes: envelope }));
}

function sameSettings(current: FunctionConfigurationReply, definition: FunctionDefinition): boolean {
  const wanted = definition.settings;
  const image = current.ImageConfigResponse?.ImageConfig;
  return (
    current.MemorySize === wanted.MemorySize &&
    current.Timeout === wanted.Timeout &&
    current.Role === wanted.Role &&
    current.EphemeralStorage?.Size === wanted.EphemeralStorage.Size &&
    JSON.stringify(sortedEntries(current.Environment?.Variables ?? {})) ===
      JSON.stringify(sortedEntries(wanted.Environment.Variables)) &&
    JSON.stringify(image?.EntryPoint ?? []) === JSON.stringify(wanted.ImageConfig.EntryPoint) &&
    JSON.stringify(image?.Command ?? []) === JSON.stringify(wanted.ImageConfig.Command)
  );
}

function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The error of a RequestResponse invocation that Lambda reports as failed (X-Amz-Function-Error). */
export function functionFailure(service: ServiceSpec, payload: string): ErrorData {
  let parsed: { errorMessage: string; errorType?: string | undefined } = {
    errorMessage: payload.slice(0, 500),
  };
  try {
    const checked = functionErrorPayloadSchema.safeParse(JSON.parse(payload));
    if (checked.success) parsed = checked.data;
  } catch {
    // not JSON: keep the text
  }
  const type = parsed.errorType ?? '';
  if (type === 'Sandbox.Timedout' || /Task timed out after/.test(parsed.errorMessage)) {
    return {
      code: 'JOB_TIMEOUT',
      message: `the function reached its timeout (service timeout ${service.timeoutMs} ms): ${parsed.errorMessage}`,
      retryable: true,
    };
  }
  if (type === 'Runtime.OutOfMemory') {
    return {
      code: 'JOB_OUT_OF_MEMORY',
      message: `the function ran out of memory: ${parsed.errorMessage}`,
      retryable: false,
    };
  }
  const nubesCode = type.startsWith('Nubes.') ? type.slice('Nubes.'.length) : null;
  if (nubesCode !== null && Object.hasOwn(ERROR_CODES, nubesCode)) {
    const code = nubesCode as ErrorCode;
    return { code, message: parsed.errorMessage, retryable: ERROR_CODES[code].retryable };
  }
  return {
    code: 'JOB_FAILED',
    message: `the function failed (${type || 'Unhandled'}): ${parsed.errorMessage}`,
    retryable: false,
  };
}

/** The error of an Event invocation that ended without a result line, from its REPORT line and log. */
function reportFailure(service: ServiceSpec, report: string | null, log: string): ErrorData {
  if (/Status: timeout/.test(report ?? '') || /Task timed out after/.test(log)) {
    return functionFailure(
      service,
      JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' }),
    );
  }
  const type = /Error Type: (\S+)/.exec(report ?? '')?.[1] ?? 'Unhandled';
  return functionFailure(
    service,
    JSON.stringify({ errorType: type, errorMessage: report ?? 'no REPORT line' }),
  );
}
