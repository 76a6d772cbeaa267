/**
 * @module test/executors/kubernetes/process-kubelet
 * Plays a pod's container as a host process: its command and args run with its environment (ConfigMaps and
 * Secrets resolved by the fake API), the image is not pulled, and the supervisor path points at a wrapper
 * that starts the real standalone supervisor (dist/src/supervisor/main.js). Stopping kills its process
 * group, as the kubelet kills the container.
 */
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kubelet } from './fake-kube-api.js';
import { containerTmp } from '../../support/container-tmp.js';

/** Writes `<dir>/nubes-supervisor`, which runs the compiled standalone supervisor with node. */
export async function writeSupervisorWrapper(dir: string): Promise<string> {
  const path = join(dir, 'nubes-supervisor');
  const main = join(process.cwd(), 'dist', 'src', 'supervisor', 'main.js');
  await writeFile(path, `#!/bin/sh\nexec "${process.execPath}" "${main}"\n`);
  await chmod(path, 0o755);
  return path;
}

/** A kubelet that runs each container as a process group on this host. */
export function processKubelet(): Kubelet {
  return (launch) => {
    const argv = [...(launch.container.command ?? []), ...(launch.container.args ?? [])];
    const tmp = containerTmp();
    const child = spawn(argv[0] ?? '/bin/sh', argv.slice(1), {
      // What an image's default environment gives (PATH, its own /tmp), then the container's own.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...tmp.env, ...launch.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (chunk: Buffer) => launch.appendLog(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => launch.appendLog(chunk.toString('utf8')));
    child.on('close', (code, signal) => {
      tmp.remove();
      launch.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
    return {
      kill() {
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      },
    };
  };
}
