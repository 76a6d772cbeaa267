/**
 * @module test/support/ceph-rgw
 * A single-host Ceph cluster with its object gateway, from Debian's packages (`radosgw ceph-mon ceph-osd`),
 * playing an external S3 service with real bucket notifications: one monitor, one RAM-backed OSD
 * (memstore), no cephx, RGW's beast frontend. Fixed ports, given by the caller from the suite's range: with
 * ports picked at random RGW never opened its own (the monitor's address must be known before it starts).
 * `stop()` stops RGW, then the OSD, then the monitor, and removes the folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onProcessExit } from './exit-hooks.js';

const execFileAsync = promisify(execFile);
/** Every Ceph command is stopped after two minutes: a command waiting on a cluster that never forms fails. */
const COMMAND_TIMEOUT_MS = 120_000;
const run = (command: string, args: string[]) =>
  execFileAsync(command, args, { timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' });

export interface CephRgwPorts {
  /** RGW's HTTP port. */
  rgw: number;
  /** The monitor's (msgr v1) port. */
  mon: number;
  /** Range the OSD and the daemons' other messengers bind in. */
  messengerMin: number;
  messengerMax: number;
}

export interface CephRgw {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Runs `radosgw-admin ARGS` against this cluster. */
  admin(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const BINARIES = ['/usr/bin/radosgw', '/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/ceph'];

/** Fails with the package names when Ceph is not installed (the suites need it: `.ci/run` installs it). */
export async function requireCeph(): Promise<void> {
  for (const path of BINARIES) {
    await access(path).catch(() => {
      throw new Error(`${path} is missing: apt-get install radosgw ceph-mon ceph-osd`);
    });
  }
}

/**
 * Starts the cluster, a second time in a new folder when the first start fails (a monitor or OSD that does
 * not come up on a loaded machine); the error of a second failure carries both starts' logs.
 */
export async function startCephRgw(ports: CephRgwPorts): Promise<CephRgw> {
  await requireCeph();
  try {
    return await startOnce(ports);
  } catch (first) {
    try {
      return await startOnce(ports);
    } catch (second) {
      throw new Error(
        `Ceph did not start twice.\nfirst: ${(first as Error).message}\nsecond: ${(second as Error).message}`,
        {
          cause: second,
        },
      );
    }
  }
}

async function startOnce(ports: CephRgwPorts): Promise<CephRgw> {
  // In RAM where the host has /dev/shm: the OSD keeps its data in RAM anyway, and the monitor stops when its
  // folder's disk is nearly full (a shared machine's /tmp may be).
  const base = await access('/dev/shm', fsConstants.W_OK).then(
    () => '/dev/shm',
    () => tmpdir(),
  );
  const dir = await mkdtemp(join(base, 'nubes-ceph-'));
  const conf = join(dir, 'ceph.conf');
  const fsid = randomUUID();
  const children: { name: string; child: ChildProcess }[] = [];
  const exits: string[] = [];
  let stopping = false;
  const ceph = (args: string[]) => run('ceph', ['-c', conf, '--connect-timeout', '60', ...args]);
  const daemon = (name: string, command: string, args: string[]) => {
    // Foreground (-f): each daemon is our child, stopped by its pid, never by name.
    const child = spawn(command, ['-c', conf, ...args, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      if (!stopping) exits.push(`${name} exited (${code ?? signal}): ${output}`);
    });
    children.push({ name, child });
  };
  // A test file that ends without calling stop() (its hook timed out, or the runner forced its exit) must not
  // leave the daemons behind.
  const killAll = () => {
    for (const { child } of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const forgetExit = onProcessExit(killAll);
  const stop = async () => {
    stopping = true;
    forgetExit();
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    children.length = 0;
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const sub of ['run', 'log', 'mon/a', 'osd0']) await mkdir(join(dir, sub), { recursive: true });
    await writeFile(
      conf,
      `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${ports.mon}
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
# A shared disk may be fuller than Ceph likes: the monitor must not stop for it.
mon data avail warn = 1
mon data avail crit = 0
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
ms bind ipv4 = true
ms bind ipv6 = false
ms bind port min = ${ports.messengerMin}
ms bind port max = ${ports.messengerMax}
[mon]
mon data = ${dir}/mon/$id
[osd]
osd data = ${dir}/osd$id
osd objectstore = memstore
memstore device bytes = 536870912
osd max object name len = 256
osd max object namespace len = 64
# The OSD is placed in the CRUSH map above; at start it must not send mon commands of its own (set its device
# class, move itself): a command it sent before it had the monitor map carried no fsid and failed the start.
osd class update on start = false
osd crush update on start = false
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${ports.rgw}
rgw dns name = localhost
`,
    );
    await run('monmaptool', [
      '--create',
      '--addv',
      'a',
      `v1:127.0.0.1:${ports.mon}`,
      '--fsid',
      fsid,
      join(dir, 'monmap'),
    ]);
    await run('ceph-authtool', [
      '--create-keyring',
      join(dir, 'mon.keyring'),
      '--gen-key',
      '-n',
      'mon.',
      '--cap',
      'mon',
      'allow *',
    ]);
    await run('ceph-mon', [
      '-c',
      conf,
      '--mkfs',
      '-i',
      'a',
      '--monmap',
      join(dir, 'monmap'),
      '--keyring',
      join(dir, 'mon.keyring'),
    ]);
    daemon('mon', 'ceph-mon', ['-i', 'a']);
    // The first command waits for the monitor to form its quorum of one.
    await ceph(['osd', 'create']);
    await run('ceph-osd', ['-c', conf, '-i', '0', '--mkfs']);
    await ceph(['osd', 'crush', 'add-bucket', 'vm', 'host']);
    await ceph(['osd', 'crush', 'move', 'vm', 'root=default']);
    await ceph(['osd', 'crush', 'add', 'osd.0', '1.0', 'host=vm']);
    daemon('osd', 'ceph-osd', ['-i', '0']);
    daemon('rgw', 'radosgw', ['-n', 'client.rgw.a']);
    const endpoint = `http://127.0.0.1:${ports.rgw}`;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ok = await fetch(endpoint, { signal: AbortSignal.timeout(5_000) }).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) break;
      const dead = children.find(({ child }) => child.exitCode !== null);
      if (dead) throw new Error(`ceph ${dead.name} exited with ${dead.child.exitCode} (logs in ${dir}/log)`);
      if (Date.now() > deadline) throw new Error(`RGW did not answer on ${endpoint} within 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const admin = async (args: string[]) =>
      (await run('radosgw-admin', ['-c', conf, '-n', 'client.rgw.a', ...args])).stdout;
    const accessKey = 'NUBESRGWKEY';
    const secretKey = 'nubes-rgw-secret-key';
    await admin([
      'user',
      'create',
      '--uid=nubes',
      '--display-name=nubes',
      `--access-key=${accessKey}`,
      `--secret-key=${secretKey}`,
    ]);
    return { endpoint, accessKey, secretKey, admin, stop };
  } catch (error) {
    const logs = await tails(join(dir, 'log'));
    await stop();
    throw new Error(`${(error as Error).message}\n${exits.join('\n')}\n${logs}`, { cause: error });
  }
}

/** The last lines of each daemon's log, for a start that failed (the folder is removed afterwards). */
async function tails(logDir: string): Promise<string> {
  const parts: string[] = [];
  for (const name of await readdir(logDir).catch(() => [] as string[])) {
    const text = await readFile(join(logDir, name), 'utf8').catch(() => '');
    parts.push(`--- ${name}\n${text.split('\n').slice(-15).join('\n')}`);
  }
  return parts.join('\n');
}
