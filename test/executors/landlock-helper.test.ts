/**
 * @module test/executors/landlock-helper.test
 * The Landlock helper (native/nubes-landlock.c, built by `npm run build`) run for real on this kernel: what
 * a command under it can read, write, signal and see, how it reports a sandbox it cannot make, and the argv
 * the supervisor builds for it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LANDLOCK_PATH } from '../../src/executors/slurm/config-schema.js';
import { buildLandlockArgv, probeLandlock } from '../../src/supervisor/landlock.js';

const why = await probeLandlock(DEFAULT_LANDLOCK_PATH);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the helper with `args`; fd 3 is a pipe whose content is returned as `status`. */
function helper(args: string[], env: Record<string, string> = {}): Promise<Ran & { status: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(DEFAULT_LANDLOCK_PATH, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env });
    const chunks: Record<'stdout' | 'stderr' | 'status', Buffer[]> = { stdout: [], stderr: [], status: [] };
    child.stdout?.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => chunks.status.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(chunks.stdout).toString(),
        stderr: Buffer.concat(chunks.stderr).toString(),
        status: Buffer.concat(chunks.status).toString(),
      }),
    );
  });
}

void describe(
  'the Landlock helper (real kernel)',
  { skip: why === null ? false : `no Landlock: ${why}` },
  () => {
    let root: string;
    let hidden: string;
    let job: string;

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'nubes-landlock-test-'));
      hidden = join(root, 'data');
      job = join(hidden, 'jobs', 'job-1');
      await mkdir(job, { recursive: true });
      await writeFile(join(hidden, 'secret.key'), 'platform secret');
      await writeFile(join(hidden, 'jobs', 'other-job.sh'), 'another job key');
      await writeFile(join(root, 'public.txt'), 'public');
      await writeFile(join(job, 'input.txt'), 'mine');
      // A way into the hidden folder from outside it.
      await symlink(hidden, join(root, 'shortcut'));
    });
    after(async () => {
      await rm(root, { recursive: true, force: true });
    });

    function confined(script: string, extra: string[] = []) {
      return helper([
        '--status-fd',
        '3',
        '--hide',
        hidden,
        '--write',
        job,
        ...extra,
        '--',
        '/bin/sh',
        '-c',
        script,
      ]);
    }

    test('--probe says the kernel has what is needed', async () => {
      const ran = await helper(['--probe']);
      assert.equal(ran.code, 0, ran.stderr);
    });

    test('hidden files are out of reach, through a link too; the rest reads; the job folder writes', async () => {
      const ran = await confined(
        [
          `cat ${hidden}/secret.key || echo "secret: refused"`,
          `cat ${root}/shortcut/secret.key || echo "link: refused"`,
          `cat ${hidden}/jobs/other-job.sh || echo "other job: refused"`,
          `ls ${hidden} || echo "listing: refused"`,
          `echo "public: $(cat ${root}/public.txt)"`,
          `echo "own: $(cat ${job}/input.txt)"`,
          `echo written > ${job}/out.txt && mkdir ${job}/sub && mv ${job}/out.txt ${job}/sub/ && echo "job folder: writable"`,
          `echo x > ${root}/new.txt || echo "outside: refused"`,
          `rm ${root}/public.txt || echo "remove: refused"`,
          'echo "etc: $(head -c 4 /etc/passwd)"',
          `/bin/true && echo "exec: allowed"`,
        ].join('\n'),
      );
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.status, '', 'nothing on the status descriptor when the command ran');
      for (const line of [
        'secret: refused',
        'link: refused',
        'other job: refused',
        'listing: refused',
        'public: public',
        'own: mine',
        'job folder: writable',
        'outside: refused',
        'remove: refused',
        'etc: root',
        'exec: allowed',
      ])
        assert.match(ran.stdout, new RegExp(`^${line}$`, 'm'), `${line}\n${ran.stdout}${ran.stderr}`);
      assert.equal(await readFile(join(job, 'sub', 'out.txt'), 'utf8'), 'written\n');
      assert.equal(await readFile(join(root, 'public.txt'), 'utf8'), 'public');
    });

    test('--read grants one file inside a hidden folder, read-only', async () => {
      const file = join(hidden, 'jobs', 'other-job.sh');
      const ran = await confined(`cat ${file}; echo; echo x >> ${file} || echo "append: refused"`, [
        '--read',
        file,
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /^another job key$/m);
      assert.match(ran.stdout, /^append: refused$/m);
    });

    test('no signal to, trace of or environment of a process outside; no capabilities; no new privileges', async () => {
      const outsider = spawn('sleep', ['60'], { stdio: 'ignore', env: { OUTSIDER_SECRET: 'x' } });
      try {
        const ran = await confined(
          [
            `kill -0 ${outsider.pid} || echo "signal: refused"`,
            `cat /proc/${outsider.pid}/environ || echo "environ: refused"`,
            // Its own children are in its sandbox: those it may signal.
            'sleep 30 & kill $! && echo "own child: signalled"',
            'grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status',
          ].join('\n'),
        );
        assert.equal(ran.code, 0, ran.stderr);
        assert.match(ran.stdout, /^signal: refused$/m);
        assert.match(ran.stdout, /^environ: refused$/m);
        assert.match(ran.stdout, /^own child: signalled$/m);
        assert.match(ran.stdout, /^CapEff:\s+0+$/m);
        assert.match(ran.stdout, /^CapBnd:\s+0+$/m);
        assert.match(ran.stdout, /^NoNewPrivs:\s+1$/m);
      } finally {
        outsider.kill();
      }
    });

    test('devices read and write; /dev/shm only when granted', async () => {
      const ran = await confined(
        [
          'head -c 4 /dev/zero | wc -c',
          'echo gone > /dev/null && echo "null: writable"',
          'touch /dev/nubes-landlock-probe || echo "dev create: refused"',
          'touch /dev/shm/nubes-landlock-probe-$$ || echo "shm: refused"',
        ].join('\n'),
      );
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /^4$/m);
      assert.match(ran.stdout, /^null: writable$/m);
      assert.match(ran.stdout, /^dev create: refused$/m);
      assert.match(ran.stdout, /^shm: refused$/m);
    });

    test("the command's exit status is the helper's", async () => {
      assert.equal((await confined('exit 7')).code, 7);
      const missing = await helper(['--', '/nonexistent/command']);
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /cannot run \/nonexistent\/command/);
    });

    test('a sandbox it cannot make: exit 125, the reason on the status descriptor, the command not run', async () => {
      const marker = join(root, 'ran');
      const command = ['--', 'touch', marker];
      for (const [args, reason] of [
        [['--hide', 'relative/dir', ...command], /^error --hide needs an absolute path: relative\/dir\n$/],
        [['--hide', '/', ...command], /^error the sandbox cannot hide \/\n$/],
        [['--bogus', 'x', ...command], /^error unknown option --bogus\n$/],
        [['--write'], /^error --write needs a value\n$/],
        [['--'], /^error no command after --\n$/],
      ] as const) {
        const ran = await helper(['--status-fd', '3', ...args]);
        assert.equal(ran.code, 125, `${args.join(' ')}: ${ran.stderr}`);
        assert.match(ran.status, reason);
        await assert.rejects(readFile(marker), 'the command did not run');
      }
    });
  },
);

void describe('buildLandlockArgv', () => {
  test('hides /tmp and the host temporary folders with the given ones, grants the job folder and /dev/shm', () => {
    assert.deepEqual(
      buildLandlockArgv({
        landlockPath: '/opt/nubes-landlock',
        hiddenDirs: ['/srv/spool', '/var/lib/nubes'],
        tmpDirs: ['/scratch/tmp', '/tmp'],
        workDir: '/srv/spool/1/0.w',
        readable: ['/srv/spool/1/script.sh'],
        statusFd: 3,
        command: ['/bin/sh', 'script.sh'],
      }),
      [
        '/opt/nubes-landlock',
        '--status-fd',
        '3',
        '--hide',
        '/srv/spool',
        '--hide',
        '/var/lib/nubes',
        '--hide',
        '/tmp',
        '--hide',
        '/scratch/tmp',
        '--read',
        '/srv/spool/1/script.sh',
        '--write',
        '/srv/spool/1/0.w',
        '--write',
        '/dev/shm',
        '--',
        '/bin/sh',
        'script.sh',
      ],
    );
  });

  test('refuses relative paths', () => {
    assert.throws(
      () =>
        buildLandlockArgv({
          landlockPath: '/x',
          hiddenDirs: ['data'],
          tmpDirs: [],
          workDir: '/w',
          readable: [],
          command: ['true'],
        }),
      /sandbox paths must be absolute: data/,
    );
  });
});

void test('probeLandlock says why when the helper is not there', async () => {
  const reason = await probeLandlock('/nonexistent/nubes-landlock');
  assert.match(reason ?? '', /ENOENT/);
});
