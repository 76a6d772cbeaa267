/**
 * @module test/support/busybox-image
 * Builds a container image on this machine from a busybox-static root filesystem (`podman import` of a
 * tarball): no image registry is reachable from our machines. Each call makes an image of its own and
 * `remove()` deletes it.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, symlink, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PODMAN_GLOBALS = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const BUSYBOX = '/bin/busybox';
const APPLETS = [
  'sh',
  'echo',
  'cat',
  'ls',
  'sleep',
  'true',
  'false',
  'env',
  'wc',
  'id',
  'tr',
  'mkdir',
  'kill',
];

/** Whether podman, runc and busybox-static are installed (the suites skip with the reason when not). */
export async function containerToolsMissing(): Promise<string | null> {
  for (const path of ['/usr/bin/podman', '/usr/sbin/runc', BUSYBOX]) {
    if (
      !(await access(path).then(
        () => true,
        () => false,
      ))
    )
      return `${path} is not installed`;
  }
  return null;
}

export interface BusyboxImage {
  /** `localhost/nubes-test-<random>:1` */
  name: string;
  remove(): Promise<void>;
}

/** Imports a fresh busybox image. */
export async function buildBusyboxImage(): Promise<BusyboxImage> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-busybox-'));
  const root = join(dir, 'root');
  const name = `localhost/nubes-test-${randomBytes(4).toString('hex')}:1`;
  try {
    for (const sub of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root'])
      await mkdir(join(root, sub), { recursive: true });
    await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n');
    await run('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
    await run('podman', [...PODMAN_GLOBALS, 'import', '--quiet', join(dir, 'rootfs.tar'), name]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    name,
    async remove() {
      await run('podman', [...PODMAN_GLOBALS, 'rmi', '-f', name]).catch(() => undefined);
    },
  };
}

/** Names of the containers carrying label `key=value` (running or not). */
export async function containersLabelled(key: string, value: string): Promise<string[]> {
  const { stdout } = await run('podman', [
    ...PODMAN_GLOBALS,
    'ps',
    '-a',
    '--format',
    '{{.Names}}',
    '--filter',
    `label=${key}=${value}`,
  ]);
  return stdout.split('\n').filter((line) => line !== '');
}
