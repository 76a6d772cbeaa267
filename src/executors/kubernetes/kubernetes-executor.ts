/**
 * @module executors/kubernetes/kubernetes-executor
 * Runs each invocation as a batch/v1 Job (OSCAR's shape, see manifests.ts) and follows it through the API:
 * status by polling the Job, exit code and logs from its pod, the result from the supervisor's result line.
 * Aborting an invocation (cancel, close) deletes its Job with background propagation, so its pod goes too.
 * Deploy creates or replaces the service's ConfigMap and Secret (and Knative Service), so it is idempotent.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { lambdaAnswerSchema } from '../../supervisor/lambda-envelope.js';
import { splitResultLine } from '../../supervisor/result-line.js';
import { resultFromAnswer } from '../remote-answer.js';
import type { DeployResult, Executor, Invocation, InvocationResult } from '../executor.js';
import { RunningJobs } from '../running-jobs.js';
import { failedRun, pause } from '../run-results.js';
import { apiStatus, toKubernetesError, withApiRetry } from './api-retry.js';
import type { KubernetesExecutorConfig } from './config-schema.js';
import {
  CONTAINER_NAME,
  configMapManifest,
  jobManifest,
  knativeServiceManifest,
  kubeName,
  secretManifest,
  serviceObjectName,
  serviceSelector,
  type Manifest,
} from './manifests.js';

export interface KubernetesExecutorOptions {
  config: KubernetesExecutorConfig;
  logger: Logger;
}

const KNATIVE = { group: 'serving.knative.dev', version: 'v1', plural: 'services' } as const;
/** Pod waiting reasons that will not fix themselves: the job fails instead of hanging. */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** Loads the credentials (kubeconfig or in-cluster) and creates the executor; the SDK is loaded here. */
export async function createKubernetesExecutor(options: KubernetesExecutorOptions): Promise<Executor> {
  const client = await import('@kubernetes/client-node');
  const { config } = options;
  const kubeConfig = new client.KubeConfig();
  try {
    if (config.inCluster) kubeConfig.loadFromCluster();
    else if (config.kubeconfig !== undefined) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (config.context !== undefined) kubeConfig.setCurrentContext(config.context);
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', `cannot load Kubernetes credentials: ${String(error)}`, {
      cause: error,
    });
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new PlatformError('CONFIG_INVALID', 'the kubeconfig names no cluster for its current context');
  }
  return new KubernetesExecutor(
    config,
    options.logger,
    kubeConfig.makeApiClient(client.BatchV1Api),
    kubeConfig.makeApiClient(client.CoreV1Api),
    kubeConfig.makeApiClient(client.CustomObjectsApi),
  );
}

class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  readonly capabilities;
  private readonly runs = new RunningJobs('kubernetes');

  constructor(
    private readonly config: KubernetesExecutorConfig,
    private readonly logger: Logger,
    private readonly batch: k8s.BatchV1Api,
    private readonly core: k8s.CoreV1Api,
    private readonly custom: k8s.CustomObjectsApi,
  ) {
    // Synchronous calls (/run) go to the service's Knative Service when Knative is enabled.
    this.capabilities = {
      sync: config.knative.enabled,
      gpu: true,
      containers: true,
      maxConcurrency: config.maxConcurrentJobs,
      limits: { timeoutMs: 0, memoryBytes: 0 },
    };
  }

  private get namespace(): string {
    return this.config.namespace;
  }

  private call<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withApiRetry(what, fn, {
      maxAttempts: this.config.maxAttempts,
      initialBackoffMs: this.config.initialBackoffMs,
      signal,
    });
  }

  async deploy(service: ServiceSpec): Promise<DeployResult> {
    const namespace = this.namespace;
    const name = serviceObjectName(service.name);
    await this.upsert(
      `ConfigMap ${name}`,
      () => this.core.createNamespacedConfigMap({ namespace, body: configMapManifest(service, namespace) }),
      () =>
        this.core.replaceNamespacedConfigMap({
          name,
          namespace,
          body: configMapManifest(service, namespace),
        }),
    );
    const secret = secretManifest(service, this.config);
    await this.upsert(
      `Secret ${name}`,
      () => this.core.createNamespacedSecret({ namespace, body: secret }),
      () => this.core.replaceNamespacedSecret({ name, namespace, body: secret }),
    );
    if (this.config.knative.enabled) await this.upsertKnativeService(service);
    const warnings: string[] = [];
    const usesStore = [...service.input, ...service.output].some((io) => io.provider === 'minio.default');
    if (usesStore && this.config.storage === undefined) {
      warnings.push(
        'the kubernetes executor has no storage endpoint configured: its jobs cannot stage files in or out',
      );
    }
    if (service.image === '') warnings.push('no image: the kubernetes executor needs one to run the service');
    return { warnings };
  }

  async undeploy(serviceName: string): Promise<void> {
    const namespace = this.namespace;
    const name = serviceObjectName(serviceName);
    await this.call('delete jobs', () =>
      this.batch.deleteCollectionNamespacedJob({
        namespace,
        labelSelector: serviceSelector(serviceName),
        propagationPolicy: 'Background',
      }),
    );
    await this.ignoreNotFound(`delete ConfigMap ${name}`, () =>
      this.core.deleteNamespacedConfigMap({ name, namespace }),
    );
    await this.ignoreNotFound(`delete Secret ${name}`, () =>
      this.core.deleteNamespacedSecret({ name, namespace }),
    );
    if (this.config.knative.enabled) {
      await this.ignoreNotFound(`delete Knative Service ${name}`, () =>
        this.custom.deleteNamespacedCustomObject({ ...KNATIVE, namespace, name }),
      );
    }
  }

  async run(invocation: Invocation): Promise<InvocationResult> {
    return this.runs.track(invocation.signal, (signal) =>
      invocation.sync === true && this.config.knative.enabled
        ? this.callKnative(invocation, signal)
        : this.follow(invocation, signal),
    );
  }

  async close(): Promise<void> {
    await this.runs.close();
  }

  /**
   * A sync call through the service's Knative Service: its body POSTed to the Service's address, where
   * OpenFaaS's watchdog hands it to the supervisor, which answers with its result, log and output files
   * (asked for with X-Nubes-Answer: json). Nubes must reach the address: cluster-local unless exposed.
   */
  private async callKnative(invocation: Invocation, signal: AbortSignal): Promise<InvocationResult> {
    const startedMs = Date.now();
    const name = serviceObjectName(invocation.service.name);
    const url = await this.knativeAddress(name, signal);
    const body =
      invocation.bodyPath === null ? Buffer.from(invocation.event) : await readFile(invocation.bodyPath);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream', 'x-nubes-answer': 'json' },
        signal,
      });
    } catch (error) {
      if (signal.aborted) {
        return failedRun(startedMs, null, {
          code: 'JOB_CANCELLED',
          message: 'the call was cancelled',
          retryable: false,
        });
      }
      throw new PlatformError(
        'BACKEND_THROTTLED',
        `Knative Service ${name} did not answer: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok) {
      throw new PlatformError(
        'BACKEND_REJECTED',
        `Knative Service ${name} answered ${response.status}: ${text.slice(0, 300)}`,
        {
          retryable: response.status === 429 || response.status >= 500,
        },
      );
    }
    let answer;
    try {
      answer = lambdaAnswerSchema.parse(JSON.parse(text));
    } catch {
      throw new PlatformError(
        'BACKEND_REJECTED',
        `Knative Service ${name} answered something else than a Nubes answer`,
      );
    }
    return resultFromAnswer(invocation, answer, startedMs, `Knative Service ${name}`);
  }

  /** The address of a ready Knative Service (waits while it is not Ready, up to the poll budget). */
  private async knativeAddress(name: string, signal: AbortSignal): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ksvc = (await this.call(`read Knative Service ${name}`, () =>
        this.custom.getNamespacedCustomObject({ ...KNATIVE, namespace: this.namespace, name }),
      )) as {
        status?: {
          url?: string;
          address?: { url?: string };
          conditions?: { type?: string; status?: string; message?: string }[];
        };
      };
      const ready = ksvc.status?.conditions?.find((condition) => condition.type === 'Ready');
      const url = ksvc.status?.address?.url ?? ksvc.status?.url;
      if (ready?.status === 'True' && url !== undefined) return url;
      if (ready?.status === 'False') {
        throw new PlatformError(
          'BACKEND_REJECTED',
          `Knative Service ${name} is not ready: ${ready.message ?? 'no reason given'}`,
        );
      }
      if (Date.now() > deadline || signal.aborted) {
        throw new PlatformError('BACKEND_THROTTLED', `Knative Service ${name} did not become ready`);
      }
      await pause(this.config.pollIntervalMs, signal);
    }
  }

  private async follow(invocation: Invocation, signal: AbortSignal): Promise<InvocationResult> {
    const namespace = this.namespace;
    const manifest = jobManifest({
      service: invocation.service,
      jobId: invocation.jobId,
      // An input on another provider travels in OSCAR's delegation wrapper, so the supervisor reads it there.
      event:
        invocation.input?.provider !== undefined && invocation.input.provider !== 'minio.default'
          ? JSON.stringify({ storage_provider: invocation.input.provider, event: invocation.event })
          : invocation.event,
      config: this.config,
    });
    const name = kubeName(invocation.jobId);
    const startedMs = Date.now();
    try {
      await this.call('create Job', () => this.batch.createNamespacedJob({ namespace, body: manifest }));
    } catch (error) {
      // A job re-run after a lost lease finds its Job already there: follow it rather than fail.
      if (apiStatus((error as PlatformError).cause) !== 409) throw error;
    }

    let polls = 0;
    for (;;) {
      if (signal.aborted) return this.cancel(invocation, name, startedMs);
      const job = await this.call('read Job status', () =>
        this.batch.readNamespacedJobStatus({ name, namespace }),
      );
      const finished = finishedCondition(job);
      if (finished !== null) return this.collect(invocation, name, finished, startedMs);
      // The log so far, so that readers of the job's log see it as it runs.
      await this.copyLiveLog(name, invocation.logPath);
      if (++polls % 5 === 0) {
        const stuck = await this.stuckReason(name);
        if (stuck !== null) {
          await this.deleteJob(name);
          await writeFile(invocation.logPath, `${stuck}\n`);
          return failedRun(startedMs, null, {
            code: 'BACKEND_REJECTED',
            message: `the job's pod cannot start: ${stuck}`,
            retryable: false,
          });
        }
      }
      await pause(this.config.pollIntervalMs, signal);
    }
  }

  private async cancel(invocation: Invocation, name: string, startedMs: number): Promise<InvocationResult> {
    await this.deleteJob(name);
    const why = this.runs.closeSignal.aborted ? 'the executor was closed' : 'the job was cancelled';
    return failedRun(startedMs, null, { code: 'JOB_CANCELLED', message: why, retryable: false });
  }

  private async deleteJob(name: string): Promise<void> {
    await this.ignoreNotFound(`delete Job ${name}`, () =>
      this.batch.deleteNamespacedJob({ name, namespace: this.namespace, propagationPolicy: 'Background' }),
    );
  }

  /** Reads the finished job's pod: exit code, logs, the supervisor's result. */
  private async collect(
    invocation: Invocation,
    name: string,
    finished: FinishedCondition,
    startedMs: number,
  ): Promise<InvocationResult> {
    const pod = await this.jobPod(name);
    const terminated = pod?.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME)?.state
      ?.terminated;
    let rawLog = '';
    if (pod?.metadata?.name !== undefined) {
      const podName = pod.metadata.name;
      rawLog = await this.call('read pod log', () =>
        this.core.readNamespacedPodLog({
          name: podName,
          namespace: this.namespace,
          container: CONTAINER_NAME,
        }),
      ).catch((error: unknown) => `(the pod's log could not be read: ${String(error)})\n`);
    }
    const { log, result } = splitResultLine(rawLog);
    await writeFile(invocation.logPath, log);
    const finishedMs = Date.now();
    const exitCode = terminated?.exitCode ?? result?.exitCode ?? null;
    const base = { outputFiles: [], outputDir: invocation.workDir };

    if (finished.type === 'Failed' && finished.reason === 'DeadlineExceeded') {
      return failedRun(startedMs, exitCode, {
        code: 'JOB_TIMEOUT',
        message: `the job ran past its ${invocation.service.timeoutMs} ms limit`,
        retryable: true,
      });
    }
    if (result !== null) {
      return { ...base, ...result, exitCode: result.exitCode ?? exitCode, startedMs, finishedMs };
    }
    if (finished.type === 'Complete') {
      return {
        ...base,
        status: 'succeeded',
        exitCode: 0,
        termSignal: null,
        error: null,
        outputs: [],
        startedMs,
        finishedMs,
      };
    }
    if (terminated?.reason === 'OOMKilled') {
      return failedRun(startedMs, exitCode, {
        code: 'JOB_OUT_OF_MEMORY',
        message: `the job went over its ${invocation.service.memoryBytes}-byte memory limit`,
        retryable: false,
      });
    }
    return failedRun(startedMs, exitCode, {
      code: 'JOB_FAILED',
      message:
        exitCode !== null
          ? `the job's container exited with code ${exitCode}`
          : `the job failed: ${finished.reason ?? 'no reason given'} ${finished.message ?? ''}`.trim(),
      retryable: false,
    });
  }

  private async copyLiveLog(jobName: string, logPath: string): Promise<void> {
    const pod = await this.jobPod(jobName);
    const podName = pod?.metadata?.name;
    if (podName === undefined || pod?.status?.containerStatuses?.[0]?.state?.running === undefined) return;
    const log = await this.core
      .readNamespacedPodLog({ name: podName, namespace: this.namespace, container: CONTAINER_NAME })
      .catch(() => null);
    if (log !== null) await writeFile(logPath, splitResultLine(log).log);
  }

  private async jobPod(jobName: string): Promise<k8s.V1Pod | null> {
    const pods = await this.call('list pods', () =>
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `job-name=${jobName}` }),
    );
    // backoffLimit 0 makes one pod; the newest wins should the cluster have made another.
    const sorted = [...pods.items].sort(
      (a, b) => timeOf(b.metadata?.creationTimestamp) - timeOf(a.metadata?.creationTimestamp),
    );
    return sorted[0] ?? null;
  }

  private async stuckReason(jobName: string): Promise<string | null> {
    const pod = await this.jobPod(jobName);
    for (const status of [
      ...(pod?.status?.initContainerStatuses ?? []),
      ...(pod?.status?.containerStatuses ?? []),
    ]) {
      const waiting = status.state?.waiting;
      if (waiting?.reason !== undefined && STUCK_REASONS.has(waiting.reason)) {
        return `${status.name}: ${waiting.reason} ${waiting.message ?? ''}`.trim();
      }
    }
    return null;
  }

  private async upsert(what: string, create: () => Promise<unknown>, replace: () => Promise<unknown>) {
    try {
      await this.call(`create ${what}`, create);
    } catch (error) {
      if (apiStatus((error as PlatformError).cause) !== 409) throw error;
      await this.call(`replace ${what}`, replace);
    }
  }

  private async upsertKnativeService(service: ServiceSpec): Promise<void> {
    const namespace = this.namespace;
    const name = serviceObjectName(service.name);
    const body = knativeServiceManifest(service, this.config);
    try {
      await this.call(`create Knative Service ${name}`, () =>
        this.custom.createNamespacedCustomObject({ ...KNATIVE, namespace, body }),
      );
    } catch (error) {
      if (apiStatus((error as PlatformError).cause) !== 409) throw error;
      // Custom resources need the current resourceVersion to be replaced.
      const current = (await this.call(`read Knative Service ${name}`, () =>
        this.custom.getNamespacedCustomObject({ ...KNATIVE, namespace, name }),
      )) as Manifest & { metadata?: { resourceVersion?: string } };
      const metadata = { ...(body.metadata as Manifest), resourceVersion: current.metadata?.resourceVersion };
      await this.call(`replace Knative Service ${name}`, () =>
        this.custom.replaceNamespacedCustomObject({
          ...KNATIVE,
          namespace,
          name,
          body: { ...body, metadata },
        }),
      );
    }
  }

  private async ignoreNotFound(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(what, fn);
    } catch (error) {
      if (apiStatus((error as PlatformError).cause) === 404) return;
      this.logger.warn({ error: toKubernetesError(what, error).toData() }, `${what} failed`);
      throw error;
    }
  }
}

interface FinishedCondition {
  type: 'Complete' | 'Failed';
  reason: string | undefined;
  message: string | undefined;
}

function finishedCondition(job: k8s.V1Job): FinishedCondition | null {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete' || condition.type === 'Failed') {
      return { type: condition.type, reason: condition.reason, message: condition.message };
    }
  }
  return null;
}

function timeOf(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  return new Date(value).getTime();
}
