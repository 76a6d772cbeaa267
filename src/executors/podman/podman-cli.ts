/**
 * @module executors/podman/podman-cli
 * Runs short podman commands (image checks, pulls, kill, ps) and turns their failures into coded errors.
 */
import { execFile } from 'node:child_process';
import { PlatformError } from '../../core/index.js';
import { podmanGlobalArgs, type PodmanGlobals } from './podman-args.js';

export interface PodmanResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `podman <args>`; resolves with its exit code and output (a missing program is SPAWN_FAILED). */
export function podman(globals: PodmanGlobals, args: string[], timeoutMs = 60_000): Promise<PodmanResult> {
  return new Promise((resolve, reject) => {
    execFile(
      globals.podmanPath,
      [...podmanGlobalArgs(globals), ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code === 'string') {
          reject(
            new PlatformError('SPAWN_FAILED', `cannot run ${globals.podmanPath}: ${error.message}`, {
              cause: error,
            }),
          );
          return;
        }
        resolve({
          exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Makes sure `image` is present, pulling it when missing; IMAGE_UNAVAILABLE with podman's reason otherwise. */
export async function ensureImage(
  globals: PodmanGlobals,
  image: string,
  pullTimeoutMs: number,
): Promise<void> {
  if (image === '') throw new PlatformError('IMAGE_UNAVAILABLE', 'the service names no image');
  const exists = await podman(globals, ['image', 'exists', image]);
  if (exists.exitCode === 0) return;
  const pulled = await podman(globals, ['pull', '--quiet', image], pullTimeoutMs);
  if (pulled.exitCode === 0) return;
  const reason = lastLine(pulled.stderr) || `podman pull exited with code ${pulled.exitCode}`;
  throw new PlatformError(
    'IMAGE_UNAVAILABLE',
    `image "${image}" is not on this machine and cannot be pulled: ${reason}`,
    {
      details: { image },
    },
  );
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .pop()
      ?.replace(/^Error: /, '') ?? ''
  );
}
