/**
 * @module executors/podman/podman-executor
 * The container executor: each job's script runs inside the service's `image` with Podman (daemonless),
 * through the supervisor on this host, which stages the input into the job's work folder, mounts that folder
 * into the container at the same path, and stages the outputs out when the container has exited.
 * CPU and memory limits map to `--cpus` and `--memory`; the network is `none` unless the service asks for
 * `host`; a missing image is pulled at deploy and before a job, and one that cannot be is IMAGE_UNAVAILABLE.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/index.js';
import { PlatformError } from '../../core/index.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import type { ObjectStore } from '../../storage/object-store.js';
import {
  buildLaunchArgv,
  runProcess,
  runSupervised,
  signalGroup,
  type ProcessTree,
  type ScriptOutcome,
  type ScriptRun,
  type ScriptRunner,
} from '../../supervisor/index.js';
import type {
  DeployResult,
  Executor,
  ExecutorCapabilities,
  Invocation,
  InvocationResult,
} from '../executor.js';
import { RunningJobs } from '../running-jobs.js';
import type { PodmanExecutorConfig } from './config-schema.js';
import { buildContainerRunArgv, containerName, type PodmanGlobals } from './podman-args.js';
import { ensureImage, podman } from './podman-cli.js';

export interface PodmanExecutorOptions extends PodmanExecutorConfig {
  store: ObjectStore;
  logger: Logger;
}

export interface PodmanExecutor extends Executor {
  /** The label value every container of this executor carries (`nubes.executor`). */
  readonly instanceId: string;
}

/** Checks that podman and its runtime work here, then creates the executor (EXECUTOR_UNAVAILABLE if not). */
export async function createPodmanExecutor(options: PodmanExecutorOptions): Promise<PodmanExecutor> {
  const globals: PodmanGlobals = { podmanPath: options.podmanPath, runtime: options.runtime };
  const probe = await podman(globals, ['version', '--format', '{{.Client.Version}}']).catch(
    (error: unknown) => ({
      exitCode: -1,
      stdout: '',
      stderr: (error as Error).message,
    }),
  );
  if (probe.exitCode !== 0) {
    throw new PlatformError(
      'EXECUTOR_UNAVAILABLE',
      `no container engine: podman (${options.podmanPath}) does not run here: ${probe.stderr.trim() || 'unknown'}`,
    );
  }
  const logger = options.logger;
  const instanceId = randomBytes(6).toString('hex');
  const capabilities: ExecutorCapabilities = {
    sync: true,
    gpu: false,
    containers: true,
    maxConcurrency: options.maxConcurrentJobs,
    limits: { timeoutMs: 0, memoryBytes: 0 },
  };
  const runs = new RunningJobs('container');
  // Images known to be present; checked again at each deploy.
  const presentImages = new Set<string>();

  const prepareImage = async (image: string): Promise<void> => {
    if (presentImages.has(image)) return;
    await ensureImage(globals, image, options.pullTimeoutMs);
    presentImages.add(image);
  };

  const runnerFor = (service: ServiceSpec): ScriptRunner => ({
    bindsFiles: false,
    async run(run: ScriptRun): Promise<ScriptOutcome> {
      const name = containerName(run.jobId);
      const argv = buildContainerRunArgv({
        globals,
        name,
        labels: { 'nubes.executor': instanceId, 'nubes.service': service.name, 'nubes.job': run.jobId },
        service,
        workDir: run.workDir,
        envNames: Object.keys(run.env),
        command: run.command,
        pidsMax: options.pidsMax,
        ulimit: options.ulimit,
      });
      const outcome = await runProcess({
        argv: buildLaunchArgv({ cgroupProcsFiles: [], addressSpaceBytes: null, command: argv }),
        // podman reads the values of `--env NAME` from its own environment.
        env: run.env,
        cwd: run.workDir,
        logPath: run.logPath,
        timeoutMs: run.timeoutMs,
        signal: run.signal,
        killGraceMs: options.killGraceMs,
        tree: containerTree(globals, name),
      });
      if (outcome.reason !== 'exited') await removeContainer(globals, name);
      return {
        reason: outcome.reason,
        exitCode: outcome.exitCode,
        termSignal: outcome.termSignal,
        startedMs: outcome.startedMs,
        finishedMs: outcome.finishedMs,
      };
    },
  });

  return {
    name: 'container',
    capabilities,
    instanceId,

    async deploy(service: ServiceSpec): Promise<DeployResult> {
      presentImages.delete(service.image);
      await prepareImage(service.image);
      return { warnings: [] };
    },

    undeploy(): Promise<void> {
      // Images stay: other services may use them, and podman keeps its own cache.
      return Promise.resolve();
    },

    run(invocation: Invocation): Promise<InvocationResult> {
      return runs.track(invocation.signal, async (signal) => {
        try {
          await prepareImage(invocation.service.image);
        } catch (error) {
          if (!(error instanceof PlatformError)) throw error;
          const now = Date.now();
          return failedBeforeStart(error, invocation, now);
        }
        return runSupervised(
          { ...invocation, signal },
          { store: options.store, runScript: runnerFor(invocation.service), logger },
        );
      });
    },

    async close(): Promise<void> {
      await runs.close();
      // Anything a crash of podman's client left behind.
      const left = await podman(globals, ['ps', '-aq', '--filter', `label=nubes.executor=${instanceId}`]);
      const ids = left.stdout.split('\n').filter((id) => id !== '');
      if (ids.length > 0) await podman(globals, ['rm', '-f', '--time', '0', ...ids]);
    },
  };
}

/**
 * Stopping a job means stopping its container: signalling the podman client alone may leave the container
 * running (podman forwards TERM, but a killed client forwards nothing).
 */
function containerTree(globals: PodmanGlobals, name: string): ProcessTree {
  return {
    async terminate() {
      await podman(globals, ['kill', '--signal', 'TERM', name]).catch(() => undefined);
    },
    async kill(leaderPid) {
      await podman(globals, ['kill', '--signal', 'KILL', name]).catch(() => undefined);
      signalGroup(leaderPid, 'SIGKILL');
    },
  };
}

async function removeContainer(globals: PodmanGlobals, name: string): Promise<void> {
  await podman(globals, ['rm', '-f', '--ignore', '--time', '0', name]).catch(() => undefined);
}

function failedBeforeStart(error: PlatformError, invocation: Invocation, now: number): InvocationResult {
  return {
    status: 'failed',
    exitCode: null,
    termSignal: null,
    error: error.toData(),
    outputs: [],
    outputFiles: [],
    outputDir: `${invocation.workDir}/output`,
    startedMs: now,
    finishedMs: now,
  };
}
