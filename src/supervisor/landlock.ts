/**
 * @module supervisor/landlock
 * The Landlock sandbox of a script on a Slurm node, through the helper native/nubes-landlock.c (built by
 * `npm run build` into dist/native/nubes-landlock): everything readable but the hidden folders (and /tmp,
 * which other jobs' folders may share), the node's devices usable, only the job's folder (and /dev/shm,
 * the node's) writable; no signal to or trace of processes outside; no capabilities. The helper applies
 * the rules to itself and execs the command: no namespace, no process of its own.
 */
import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';

export interface LandlockArgsInput {
  landlockPath: string;
  /** Folders the script must not see (the spool, the data folder); those missing on the host are skipped. */
  hiddenDirs: string[];
  /** The host's temporary folder(s) besides /tmp, hidden as well (the node's TMPDIR). */
  tmpDirs: string[];
  /** The job's folder: the only one writable (also when it lies inside a hidden folder). */
  workDir: string;
  /** Files inside hidden folders the script must read (its own script file). */
  readable: string[];
  /** A descriptor for the helper's `unsupported`/`error` line; none by default. */
  statusFd?: number;
  command: string[];
}

/** Builds the argv that runs `command` under Landlock. Pure. */
export function buildLandlockArgv(input: LandlockArgsInput): string[] {
  const hidden = [...new Set([...input.hiddenDirs, '/tmp', ...input.tmpDirs])];
  for (const path of [...hidden, input.workDir, ...input.readable]) {
    // The helper refuses relative paths too; checked here so that the mistake is the platform's error.
    if (!isAbsolute(path)) throw new Error(`sandbox paths must be absolute: ${path}`);
  }
  const argv = [input.landlockPath];
  if (input.statusFd !== undefined) argv.push('--status-fd', String(input.statusFd));
  for (const dir of hidden) argv.push('--hide', dir);
  for (const path of input.readable) argv.push('--read', path);
  argv.push('--write', input.workDir, '--write', '/dev/shm', '--', ...input.command);
  return argv;
}

/** Whether this host's kernel lets the helper work: null when it does, else why not. */
export async function probeLandlock(landlockPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(landlockPath, ['--probe'], { timeout: 10_000, env: {} }, (error, _stdout, stderr) => {
      if (error === null) resolve(null);
      else resolve((stderr.trim() || error.message).split('\n')[0]?.replace(/^nubes-landlock: /, '') ?? '');
    });
  });
}
