/**
 * @module executors/local/sandbox
 * The bubblewrap sandbox of a local job: the whole filesystem read-only, the data directory (credentials,
 * SQLite database, every stored object, other jobs' folders) hidden under an empty tmpfs, only the job's
 * own work folder writable, the input object bound read-only at its TMP_INPUT_DIR path, private /tmp, new
 * pid/ipc/uts namespaces, no capabilities, network kept (scripts may fetch data).
 * Why each flag:
 * - `--cap-drop ALL`: bwrap run by root keeps every capability, and CAP_SYS_ADMIN could unmount the tmpfs
 *   that hides the data directory.
 * - `--ro-bind /proc/sys /proc/sys`: bwrap covers /proc/irq and /proc/bus but leaves /proc/sys writable,
 *   and root (uid 0, even without capabilities) could change host kernel settings through it.
 * - The environment is passed by spawn, not `--setenv`: arguments are world-readable in /proc/<pid>/cmdline,
 *   the environment is not, and the service's secrets are in it. bwrap adds nothing to it.
 * What it does not do: limit resources (cgroups do), or change the uid (scripts run as the server's user).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { ReadOnlyBind } from '../../supervisor/index.js';

/** Debian's `bubblewrap` package installs it here. */
export const DEFAULT_BWRAP_PATH = '/usr/bin/bwrap';

export interface BwrapArgsInput {
  bwrapPath: string;
  /** Folders masked by an empty tmpfs (the data directory, and any the operator adds). */
  hiddenDirs: string[];
  /** The only writable folder (bound back at the same path, also when it lies inside a hidden folder). */
  workDir: string;
  readOnlyBinds: ReadOnlyBind[];
  command: string[];
  /** A fresh minimal /dev (the default), or the host's own with a private /dev/shm (see bwrapBaseOptions). */
  dev?: 'minimal' | 'host';
}

/**
 * bwrap's options before the hidden folders: the whole filesystem read-only, a fresh /dev (`minimal`: the
 * usual devices only) or the host's own with a private /dev/shm (`host`: a compute node's GPUs, which Slurm's
 * cgroup confines), a fresh /proc (with /proc/sys read-only), a private /tmp.
 */
export function bwrapBaseOptions(dev: 'minimal' | 'host'): string[] {
  // prettier-ignore
  return [
    '--ro-bind', '/', '/',
    ...(dev === 'minimal' ? ['--dev', '/dev'] : ['--dev-bind', '/dev', '/dev', '--tmpfs', '/dev/shm']),
    '--proc', '/proc',
    '--ro-bind', '/proc/sys', '/proc/sys',
    '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger',
    '--tmpfs', '/tmp',
  ];
}

/** bwrap's options after the binds: new pid, ipc and uts namespaces, its own session, no capabilities. */
export const BWRAP_ISOLATION_OPTIONS = [
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--die-with-parent',
  '--new-session',
  '--cap-drop',
  'ALL',
] as const;

/** Builds the bwrap argv that runs `command` in the sandbox. Pure. */
export function buildBwrapArgv(input: BwrapArgsInput): string[] {
  for (const path of [
    ...input.hiddenDirs,
    input.workDir,
    ...input.readOnlyBinds.flatMap((b) => [b.source, b.target]),
  ]) {
    // Relative paths would be read as bwrap options or resolved against bwrap's cwd.
    if (!isAbsolute(path)) throw new Error(`sandbox paths must be absolute: ${path}`);
  }
  const argv: string[] = [input.bwrapPath, ...bwrapBaseOptions(input.dev ?? 'minimal')];
  for (const dir of input.hiddenDirs) {
    if (dir === '/') throw new Error('the sandbox cannot hide /');
    argv.push('--tmpfs', dir);
  }
  // Binds come after the tmpfs mounts that may cover their parents; bwrap reads sources from the host's
  // view, so a source inside a hidden folder still binds.
  argv.push('--bind', input.workDir, input.workDir);
  for (const bind of input.readOnlyBinds) argv.push('--ro-bind', bind.source, bind.target);
  argv.push(...BWRAP_ISOLATION_OPTIONS, '--chdir', input.workDir, '--', ...input.command);
  return argv;
}

export interface SandboxProbe {
  available: boolean;
  /** Why not, when not available (bwrap's message, or the spawn error). */
  reason: string | null;
}

/**
 * Runs `/bin/true` once in a sandbox built exactly as jobs' are (a scratch folder hidden, its child bound
 * back), so that a kernel or configuration that refuses any of the flags is found at start-up.
 */
export async function probeBwrap(bwrapPath: string = DEFAULT_BWRAP_PATH): Promise<SandboxProbe> {
  const scratch = await mkdtemp(join(tmpdir(), 'nubes-bwrap-probe-'));
  try {
    const argv = buildBwrapArgv({
      bwrapPath,
      hiddenDirs: [scratch],
      workDir: scratch,
      readOnlyBinds: [],
      command: ['/bin/true'],
    });
    const [file, ...args] = argv as [string, ...string[]];
    return await new Promise<SandboxProbe>((resolve) => {
      execFile(file, args, { timeout: 10_000, env: {} }, (error, _stdout, stderr) => {
        if (error === null) resolve({ available: true, reason: null });
        else
          resolve({
            available: false,
            reason: (stderr.trim() || error.message).split('\n')[0] ?? error.message,
          });
      });
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
