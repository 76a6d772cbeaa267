/**
 * @module executors/podman/podman-args
 * Builds the `podman` argv of one container job. Pure.
 * The job's work folder is mounted at the same path inside the container, so the paths the supervisor put
 * in the environment (TMP_INPUT_DIR, TMP_OUTPUT_DIR, INPUT_FILE_PATH) hold inside it. The environment is
 * passed as `-e NAME` (values come from podman's own environment): arguments are world-readable in
 * /proc/<pid>/cmdline, and the service's secrets are in the environment.
 */
import type { ServiceSpec } from '../../fdl/service-spec.js';

/** Options every podman call of this executor starts with. */
export interface PodmanGlobals {
  podmanPath: string;
  runtime: string;
}

export interface ContainerRunInput {
  globals: PodmanGlobals;
  /** Container name (unique per job). */
  name: string;
  /** Labels that let the executor find its containers (`nubes.executor`, `nubes.service`, `nubes.job`). */
  labels: Record<string, string>;
  service: Pick<ServiceSpec, 'image' | 'cpu' | 'memoryBytes' | 'network'>;
  workDir: string;
  envNames: string[];
  command: string[];
  pidsMax: number;
  ulimit: number;
}

/**
 * Global flags: the runtime, cgroupfs (there is no systemd to ask for cgroups) and a file events log (no
 * journald either).
 */
export function podmanGlobalArgs(globals: PodmanGlobals): string[] {
  return ['--runtime', globals.runtime, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
}

/** The argv of `podman run` for one job. */
export function buildContainerRunArgv(input: ContainerRunInput): string[] {
  const { service } = input;
  // prettier-ignore
  const argv = [
    input.globals.podmanPath, ...podmanGlobalArgs(input.globals),
    'run', '--rm', '--name', input.name,
    '--network', service.network,
    '--pull', 'never',
    '--pids-limit', String(input.pidsMax),
    '--ulimit', `nofile=${input.ulimit}:${input.ulimit}`,
    '--ulimit', `nproc=${input.ulimit}:${input.ulimit}`,
    '--tmpfs', '/tmp',
    '--volume', `${input.workDir}:${input.workDir}:rw`,
    '--workdir', input.workDir,
    '--log-driver', 'none',
  ];
  for (const [key, value] of Object.entries(input.labels)) argv.push('--label', `${key}=${value}`);
  if (service.memoryBytes > 0) {
    // The same swap limit: without it the container may use as much swap again.
    argv.push('--memory', `${service.memoryBytes}b`, '--memory-swap', `${service.memoryBytes}b`);
  }
  if (service.cpu > 0) argv.push('--cpus', String(service.cpu));
  for (const name of input.envNames) argv.push('--env', name);
  argv.push(service.image, ...input.command);
  return argv;
}

/** A podman container name from a job id: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
export function containerName(jobId: string): string {
  return `nubes-${jobId.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}
