/**
 * @module test/support/container-tmp
 * The temporary folder of a container played as a host process (the stand-ins for a kubelet, AWS Batch and
 * Lambda): its TMPDIR, removed when the process ends, as a container's filesystem goes with it. A
 * container killed at once (SIGKILL, as those stand-ins stop one) thus leaves nothing on the host.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ContainerTmp {
  /** TMPDIR, for the process's environment. */
  env: { TMPDIR: string };
  /** Removes the folder and what the process left in it. */
  remove(): void;
}

export function containerTmp(): ContainerTmp {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-container-'));
  return { env: { TMPDIR: dir }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
