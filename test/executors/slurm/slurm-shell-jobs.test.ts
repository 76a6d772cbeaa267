/**
 * @module test/executors/slurm/slurm-shell-jobs.test
 * The Slurm executor's shell path (the batch script does the supervisor's work in sh with curl, no Node
 * process per job) on a real cluster on localhost, through the platform's S3 endpoint with the job's
 * scoped key: the input staged (key with spaces and unicode), outputs uploaded under the right keys with
 * their content and content type (names with spaces, unicode, quotes, a tab, subfolders, filters), the
 * script's environment (the job's variables and the node's SLURM_*, no credential, nothing of the batch
 * script's), a failing script, a signal, a timeout, a cancel, a missing input, an http body, and the
 * fallback to the Node supervisor for an output on another provider.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Invocation, InvocationResult } from '../../../src/executors/executor.js';
import type { ServiceSpec } from '../../../src/fdl/service-spec.js';
import type { SlurmExecutor } from '../../../src/executors/slurm/index.js';
import { contractService } from '../executor.contract.js';
import { TestDataDir, waitFor } from '../helpers.js';
import { ACCESS_KEY_ID, SECRET_KEY } from '../../s3api/s3-fixture.js';
import { slurmMissing } from '../../support/slurm-cluster.js';
import { startSlurmFixture, type SlurmFixture } from './slurm-fixture.js';
import { DEFAULT_LANDLOCK_PATH } from '../../../src/executors/slurm/config-schema.js';
import { probeLandlock } from '../../../src/supervisor/landlock.js';

const missing = await slurmMissing();
/** The sandbox `auto` picks on this machine: Landlock when the kernel has it (and the helper is built). */
const landlockWhy = await probeLandlock(DEFAULT_LANDLOCK_PATH);
const autoSandbox = landlockWhy === null ? 'landlock' : 'bwrap';
const BUCKET = 'shell-jobs';
const INPUT_KEY = 'in/dir/a b é ✓.txt';
const INPUT_TEXT = 'first line\nsecond line with ünïcode\n';

void describe(
  'Slurm executor: the shell path (real cluster on localhost)',
  { skip: missing ?? false },
  () => {
    let fixture: SlurmFixture;
    let data: TestDataDir;
    let executor: SlurmExecutor;
    /** The same with each job's folder on the node (in its TMPDIR) instead of the spool. */
    let nodeFolderExecutor: SlurmExecutor;
    let count = 0;

    before(async () => {
      fixture = await startSlurmFixture();
      data = await TestDataDir.create();
      await fixture.s3.store.ensureBucket(BUCKET);
      await fixture.s3.store.put(BUCKET, INPUT_KEY, Buffer.from(INPUT_TEXT));
      executor = await fixture.executor();
      nodeFolderExecutor = await fixture.executor({ jobFolder: 'node' });
    });
    after(async () => {
      await executor?.close();
      await nodeFolderExecutor?.close();
      await fixture?.close();
      await data?.remove();
    });

    function service(name: string, script: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
      return {
        ...contractService(name, script),
        executor: 'slurm',
        input: [],
        output: [
          {
            provider: 'minio.default',
            path: `${BUCKET}/out`,
            bucket: BUCKET,
            folder: `out/${name}`,
            prefixes: [],
            suffixes: [],
          },
        ],
        variables: { CONTRACT_TAG: name, QUOTED_VAR: `it's "quoted" $HOME \\ done` },
        secrets: { A_SECRET: 'the service secret' },
        ...overrides,
      };
    }

    async function invocation(
      spec: ServiceSpec,
      event: string,
      signal = new AbortController().signal,
    ): Promise<Invocation> {
      count += 1;
      const jobId = `${spec.name}-${count}`;
      const workDir = join(data.root, 'work', jobId);
      await mkdir(workDir, { recursive: true });
      await mkdir(join(data.root, 'logs'), { recursive: true });
      return {
        jobId,
        service: spec,
        ...eventFields(event),
        bodyPath: null,
        workDir,
        logPath: join(data.root, 'logs', `${jobId}.log`),
        signal,
      };
    }

    /** The invocation's kind and input as the platform sets them for this event (the key's read scope). */
    function eventFields(event: string): Pick<Invocation, 'kind' | 'event' | 'input'> {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(event);
      } catch {
        // An http body.
      }
      const record = (parsed as { Records?: { s3: { object: { key: string } } }[] } | null)?.Records?.[0];
      if (record === undefined) return { kind: 'http', event, input: null };
      const key = decodeURIComponent(record.s3.object.key);
      return {
        kind: 'storage',
        event,
        input: { provider: 'minio.default', bucket: BUCKET, key, eventTimeIso: '2026-12-07T01:00:00.000Z' },
      };
    }

    function storageEvent(key: string): string {
      const encoded = encodeURIComponent(key).replace(/%2F/g, '/');
      return JSON.stringify({
        Records: [
          {
            eventSource: 'minio:s3',
            eventTime: '2026-12-07T01:00:00.000Z',
            s3: { bucket: { name: BUCKET }, object: { key: encoded } },
          },
        ],
      });
    }

    async function run(
      invocationToRun: Invocation,
      on = executor,
    ): Promise<{ result: InvocationResult; log: string }> {
      const before = on.jobPaths.shell;
      await on.deploy(invocationToRun.service);
      const result = await on.run(invocationToRun);
      assert.equal(on.jobPaths.shell, before + 1, 'the job took the shell path');
      const log = await readFile(invocationToRun.logPath, 'utf8').catch(() => '');
      return { result, log };
    }

    async function text(key: string): Promise<string> {
      const { body } = await fixture.s3.store.get(BUCKET, key);
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8');
    }

    for (const jobFolder of ['spool', 'node'] as const) {
      test(
        `stages the input, runs the script, uploads every output under its key (job folder in the ${jobFolder})`,
        { timeout: 60_000 },
        async () => {
          const script = [
            'echo "staged $INPUT_FILE_PATH"',
            'cat "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/copy of ünïcode ✓.txt"',
            'mkdir -p "$TMP_OUTPUT_DIR/sub dir/deeper"',
            'printf "%s" "$STORAGE_OBJECT_KEY" > "$TMP_OUTPUT_DIR/sub dir/deeper/key.csv"',
            `printf quotes > "$TMP_OUTPUT_DIR/it's \\"odd\\" \\\\ name.bin"`,
            'printf globs > "$TMP_OUTPUT_DIR/[x]{a,b}*?%41+&=.txt"',
            'env > "$TMP_OUTPUT_DIR/environment.txt"',
            'pwd > "$TMP_OUTPUT_DIR/cwd.txt"',
            'ln -s /etc/passwd "$TMP_OUTPUT_DIR/escape"',
          ].join('\n');
          const spec = service(`shell-ok-${jobFolder}`, script);
          const job = await invocation(spec, storageEvent(INPUT_KEY));
          const { result, log } = await run(job, jobFolder === 'spool' ? executor : nodeFolderExecutor);
          assert.equal(result.status, 'succeeded', `${JSON.stringify(result.error)}\n${log}`);
          assert.equal(result.exitCode, 0);
          assert.match(log, /staged \/.*\/input\/a b é ✓\.txt\n/);
          assert.match(log, /\[nubes\] not uploaded: escape: a symbolic link that leaves TMP_OUTPUT_DIR/);
          assert.ok(
            Number.isInteger(result.startedMs) && Number.isInteger(result.finishedMs),
            'whole milliseconds',
          );
          assert.ok(
            result.startedMs > 0 && result.finishedMs >= result.startedMs,
            'times from the task files',
          );

          const prefix = `out/shell-ok-${jobFolder}/`;
          const keys = result.outputs.map((output) => output.key).sort();
          assert.deepEqual(
            keys,
            [
              '[x]{a,b}*?%41+&=.txt',
              'copy of ünïcode ✓.txt',
              'cwd.txt',
              'environment.txt',
              `it's "odd" \\ name.bin`,
              'sub dir/deeper/key.csv',
            ]
              .map((name) => prefix + name)
              .sort(),
          );
          assert.ok(
            result.outputs.every((output) => output.provider === 'minio.default' && output.bucket === BUCKET),
          );
          assert.equal(await text(`${prefix}copy of ünïcode ✓.txt`), INPUT_TEXT);
          assert.equal(await text(`${prefix}sub dir/deeper/key.csv`), INPUT_KEY);
          assert.equal(await text(`${prefix}it's "odd" \\ name.bin`), 'quotes');
          assert.equal(await text(`${prefix}[x]{a,b}*?%41+&=.txt`), 'globs');
          const head = await fixture.s3.store.head(BUCKET, `${prefix}sub dir/deeper/key.csv`);
          assert.equal(head.contentType, 'text/csv; charset=utf-8');

          const env = new Map(
            (await text(`${prefix}environment.txt`))
              .split('\n')
              .filter((line) => line.includes('='))
              .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
          );
          const cwd = (await text(`${prefix}cwd.txt`)).trim();
          // In the spool: the task's folder beside its files; on the node: a random folder of its TMPDIR.
          assert.match(
            cwd,
            jobFolder === 'spool' ? /\/jobs\/[^/]+\/0\.w$/ : /^\/tmp\/nubes-job-[0-9a-f]{24}$/,
          );
          assert.equal(env.get('JOB_UUID'), job.jobId);
          assert.equal(env.get('OSCAR_SERVICE_NAME'), `shell-ok-${jobFolder}`);
          assert.equal(env.get('CONTRACT_TAG'), `shell-ok-${jobFolder}`);
          assert.equal(env.get('QUOTED_VAR'), `it's "quoted" $HOME \\ done`);
          assert.equal(env.get('A_SECRET'), 'the service secret');
          assert.equal(env.get('STORAGE_OBJECT_KEY'), INPUT_KEY);
          assert.equal(env.get('EVENT_TIME'), '2026-12-07T01:00:00.000Z');
          assert.equal(env.get('HOME'), cwd);
          assert.equal(env.get('TMP_INPUT_DIR'), `${cwd}/input`);
          assert.equal(env.get('TMP_OUTPUT_DIR'), `${cwd}/output`);
          assert.equal(env.get('INPUT_FILE_PATH'), `${cwd}/input/a b é ✓.txt`);
          assert.equal(env.get('LANG'), 'C.UTF-8');
          // Under Landlock, /tmp is hidden and the job's temporary files go to its folder.
          assert.equal(env.get('TMPDIR'), autoSandbox === 'landlock' ? cwd : undefined);
          assert.ok(env.has('EVENT'));
          assert.match(env.get('SLURM_JOB_ID') ?? '', /^\d+$/, 'the node tells the script its job id');
          // Nothing of the batch script's own state: no key, no endpoint, no platform variable.
          for (const [name, value] of env) {
            assert.doesNotMatch(name, /^(NUBES|nubes|AWS)_/i, `${name} reaches the script`);
            assert.doesNotMatch(value, /\bNJ[A-Z0-9]{10,}/, `${name} holds a scoped key id`);
            assert.ok(
              !value.includes(SECRET_KEY) && !value.includes(ACCESS_KEY_ID),
              `${name} holds the admin key`,
            );
          }
          // Exactly the job's variables, besides the node's SLURM_* and what sh itself sets.
          const names = [...env.keys()].filter((name) => !/^(SLURM|PWD$|OLDPWD$|SHLVL$|_$)/.test(name));
          assert.deepEqual(names.sort(), [
            'A_SECRET',
            'CONTRACT_TAG',
            'EVENT',
            'EVENT_TIME',
            'HOME',
            'INPUT_FILE_PATH',
            'JOB_UUID',
            'LANG',
            'OSCAR_SERVICE_NAME',
            'PATH',
            'QUOTED_VAR',
            'STORAGE_OBJECT_KEY',
            ...(autoSandbox === 'landlock' ? ['TMPDIR'] : []),
            'TMP_INPUT_DIR',
            'TMP_OUTPUT_DIR',
          ]);
          // The job's folder is gone (one in the spool is removed by the server as the job ends).
          const gone = await waitFor(() =>
            readdir(cwd).then(
              () => false,
              () => true,
            ),
          );
          assert.ok(gone, `${cwd} is left`);
        },
      );
    }

    test(
      'a failing script fails its job with its exit code and log; nothing is uploaded',
      { timeout: 60_000 },
      async () => {
        const spec = service(
          'shell-fail',
          'echo "about to fail"\necho "on stderr" >&2\ntouch "$TMP_OUTPUT_DIR/x.txt"\nexit 3',
        );
        const { result, log } = await run(await invocation(spec, '{}'));
        assert.equal(result.status, 'failed');
        assert.equal(result.exitCode, 3);
        assert.equal(result.error?.code, 'JOB_FAILED');
        assert.equal(result.error?.message, 'the script exited with code 3');
        assert.deepEqual(result.outputs, []);
        assert.match(log, /about to fail\n/);
        assert.match(log, /on stderr\n/);
        assert.match(log, /\[nubes\] the script exited with code 3\n/);
        assert.deepEqual((await fixture.s3.store.list(BUCKET, { prefix: 'out/shell-fail/' })).objects, []);
      },
    );

    test("a running job's log reaches the job's log before it ends", { timeout: 60_000 }, async () => {
      const spec = service('shell-live-log', 'echo "first line"\nsleep 4\necho "last line"');
      const live = await invocation(spec, '{}');
      await executor.deploy(spec);
      const running = executor.run(live);
      let seen = '';
      for (let waited = 0; waited < 30_000 && !seen.includes('first line'); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = await readFile(live.logPath, 'utf8').catch(() => '');
      }
      assert.match(seen, /first line/, 'the first line while the job runs');
      assert.doesNotMatch(seen, /last line/);
      const result = await running;
      assert.equal(result.status, 'succeeded');
      assert.match(await readFile(live.logPath, 'utf8'), /first line\nlast line\n/);
    });

    test('a script killed by a signal reports the signal', { timeout: 60_000 }, async () => {
      const spec = service('shell-signal', 'echo "going"\nkill -KILL $$');
      const { result, log } = await run(await invocation(spec, '{}'));
      assert.equal(result.status, 'failed');
      assert.equal(result.exitCode, null);
      assert.equal(result.termSignal, 'SIGKILL');
      assert.equal(result.error?.code, 'JOB_FAILED');
      assert.match(log, /\[nubes\] the script was killed by SIGKILL/);
    });

    test(
      'the result is written over the task file; a result line inside an http body is not taken for it',
      { timeout: 60_000 },
      async () => {
        // With the job folder on the node the body travels in the task file itself, line breaks and all.
        const forged =
          'before\nnubes-result {"status":"succeeded","exitCode":0,"termSignal":null,"error":null,' +
          '"outputs":[{"provider":"minio.default","bucket":"elsewhere","key":"forged"}],"startedMs":0,"finishedMs":0}\nafter';
        const spec = service('shell-forged', 'sleep 2\ncat "$INPUT_FILE_PATH"\nexit 3');
        const { result, log } = await run(await invocation(spec, forged), nodeFolderExecutor);
        assert.equal(result.status, 'failed', log);
        assert.equal(result.exitCode, 3);
        assert.equal(result.error?.code, 'JOB_FAILED');
        assert.deepEqual(result.outputs, []);
        assert.match(log, /before\nnubes-result .*\nafter/);
      },
    );

    test(
      'ended jobs leave nothing in the spool: the folder as made, and one with what the script left in it',
      { timeout: 60_000 },
      async () => {
        const spoolDir = join(fixture.cluster.dir, 'clean-spool');
        const own = await fixture.executor({ spoolDir });
        try {
          const tidy = service('shell-tidy', 'true', { output: [] });
          const messy = service(
            'shell-messy',
            'mkdir -p sub/deeper && touch sub/deeper/f left "$TMP_INPUT_DIR/extra" "$TMP_OUTPUT_DIR/kept"',
            { output: [] },
          );
          const results = [
            await run(await invocation(tidy, 'body one'), own),
            await run(await invocation(messy, 'body two'), own),
          ];
          for (const { result, log } of results) assert.equal(result.status, 'succeeded', log);
          const empty = await waitFor(async () => (await readdir(spoolDir)).length === 0);
          assert.ok(empty, `left in the spool: ${(await readdir(spoolDir, { recursive: true })).join(', ')}`);
        } finally {
          await own.close();
        }
      },
    );

    test('a job past its timeout is stopped with JOB_TIMEOUT', { timeout: 60_000 }, async () => {
      const spec = service('shell-timeout', 'echo started\nsleep 60\necho finished', { timeoutMs: 1500 });
      const started = Date.now();
      const { result, log } = await run(await invocation(spec, '{}'));
      assert.ok(Date.now() - started < 30_000, 'stopped near its timeout, not by Slurm');
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'JOB_TIMEOUT');
      assert.equal(result.error?.message, 'the job exceeded its time limit of 1.5 s and was killed');
      assert.equal(result.termSignal, 'SIGTERM');
      assert.match(log, /started\n/);
      assert.doesNotMatch(log, /finished/);
      // Its duration is measured on the node (no clock process there): about the 1.5 s it was given.
      const ranMs = result.finishedMs - result.startedMs;
      assert.ok(ranMs >= 1400 && ranMs < Date.now() - started, `ran ${ranMs} ms`);
    });

    test(
      'cancel stops a running job with JOB_CANCELLED and leaves nothing in Slurm',
      { timeout: 60_000 },
      async () => {
        const controller = new AbortController();
        const spec = service(
          'shell-cancel',
          'echo started\nsleep 120\necho finished > "$TMP_OUTPUT_DIR/late.txt"',
        );
        const job = await invocation(spec, '{}', controller.signal);
        await executor.deploy(spec);
        const running = executor.run(job);
        assert.ok(
          await waitFor(
            async () => (await readFile(job.logPath, 'utf8').catch(() => '')).includes('started'),
            30_000,
          ),
          'the job started',
        );
        controller.abort();
        const result = await running;
        assert.equal(result.status, 'failed');
        assert.equal(result.error?.code, 'JOB_CANCELLED');
        assert.ok(await waitFor(async () => (await fixture.activeJobs('shell-cancel')).length === 0, 45_000));
        assert.deepEqual((await fixture.s3.store.list(BUCKET, { prefix: 'out/shell-cancel/' })).objects, []);
      },
    );

    test(
      'a missing input object fails the job with OBJECT_NOT_FOUND before the script runs',
      { timeout: 60_000 },
      async () => {
        const spec = service('shell-missing', 'echo "should not run"');
        const { result, log } = await run(await invocation(spec, storageEvent('in/not there.txt')));
        assert.equal(result.status, 'failed');
        assert.equal(result.error?.code, 'OBJECT_NOT_FOUND');
        assert.doesNotMatch(log, /should not run/);
        assert.match(log, /\[nubes\] job failed: the input object does not exist/);
      },
    );

    test(
      'an http body is staged decoded (base64 with NUL bytes, and JSON as it is)',
      { timeout: 60_000 },
      async () => {
        const spec = service(
          'shell-body',
          'cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/body.bin"\nprintf "%s" "$EVENT" > "$TMP_OUTPUT_DIR/event.txt"',
        );
        const binary = Buffer.from([0, 1, 2, 255, 0, 10, 65]);
        const { result } = await run(await invocation(spec, binary.toString('base64')));
        assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
        const { body } = await fixture.s3.store.get(BUCKET, 'out/shell-body/body.bin');
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
        assert.deepEqual(Buffer.concat(chunks), binary);
        assert.equal(await text('out/shell-body/event.txt'), binary.toString('base64'));

        const json = '{"index": 7, "text": "ünï \'q\'"}';
        const second = await run(await invocation(spec, json));
        assert.equal(second.result.status, 'succeeded');
        assert.equal(await text('out/shell-body/body.bin'), json);
      },
    );

    test(
      'outputs follow their prefix and suffix filters, to each matching output',
      { timeout: 60_000 },
      async () => {
        const spec = service(
          'shell-filters',
          'for n in a.txt b.csv keep-c.txt; do echo "$n" > "$TMP_OUTPUT_DIR/$n"; done',
          {
            output: [
              {
                provider: 'minio.default',
                path: `${BUCKET}/f1`,
                bucket: BUCKET,
                folder: 'f1',
                prefixes: [],
                suffixes: ['.txt'],
              },
              {
                provider: 'minio.default',
                path: `${BUCKET}/f2`,
                bucket: BUCKET,
                folder: 'f2/deep',
                prefixes: ['keep-'],
                suffixes: [],
              },
              {
                provider: 'minio.default',
                path: BUCKET,
                bucket: BUCKET,
                folder: '',
                prefixes: ['b'],
                suffixes: ['.csv'],
              },
            ],
          },
        );
        const { result } = await run(await invocation(spec, '{}'));
        assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
        assert.deepEqual(
          result.outputs.map((output) => output.key).sort(),
          ['b.csv', 'f1/a.txt', 'f1/keep-c.txt', 'f2/deep/keep-c.txt'].sort(),
        );
        assert.equal(await text('f2/deep/keep-c.txt'), 'keep-c.txt\n');
      },
    );

    for (const kind of ['landlock', 'bwrap'] as const) {
      test(
        `the script runs in the ${kind} sandbox: data folder, spool and other processes out of reach, its folder writable`,
        {
          timeout: 60_000,
          skip: kind === 'landlock' && landlockWhy !== null ? `no Landlock: ${landlockWhy}` : false,
        },
        async () => {
          const secret = join(fixture.cluster.dir, 'platform-secret.txt');
          await writeFile(secret, 'not for scripts');
          // A process of the same user outside the job (as another job's would be).
          const outsider = spawn('sleep', ['60'], { stdio: 'ignore', env: { OUTSIDER_SECRET: 'x' } });
          const sandboxed = await fixture.executor({ sandbox: kind });
          try {
            const spec = service(
              `shell-sandbox-${kind}`,
              [
                'if cat "$SECRET_FILE" 2>/dev/null; then echo "secret: readable"; else echo "secret: hidden"; fi',
                // The submission's task files hold the job's key.
                'if cat ../0.sh >/dev/null 2>&1; then echo "task file: readable"; else echo "task file: hidden"; fi',
                'echo "submission: $(ls -A .. 2>/dev/null | tr "\\n" " ")"',
                'if touch /usr/nubes-sandbox-probe 2>/dev/null; then echo "usr: writable"; else echo "usr: read-only"; fi',
                'if echo x > /tmp/nubes-sandbox-probe-$$ 2>/dev/null; then echo "tmp: writable"; else echo "tmp: refused"; fi',
                't=$(mktemp) && echo "mktemp: $t" && rm "$t"',
                'if kill -0 "$OUTSIDER" 2>/dev/null; then echo "signal: sent"; else echo "signal: refused"; fi',
                'if cat "/proc/$OUTSIDER/environ" >/dev/null 2>&1; then echo "environ: readable"; else echo "environ: refused"; fi',
                'echo hi > /dev/null && echo "dev null: writable"',
                'echo "own: $(cat "$INPUT_FILE_PATH")" | tee "$TMP_OUTPUT_DIR/own.txt"',
              ].join('\n'),
              { variables: { SECRET_FILE: secret, OUTSIDER: String(outsider.pid) } },
            );
            const job = await invocation(spec, 'the body');
            const { result, log } = await run(job, sandboxed);
            assert.equal(result.status, 'succeeded', log);
            assert.match(log, /secret: hidden/);
            assert.match(log, /task file: hidden/);
            assert.match(log, /usr: read-only/);
            assert.match(log, /signal: refused/);
            assert.match(log, /environ: refused/);
            assert.match(log, /dev null: writable/);
            assert.equal(await text(`out/shell-sandbox-${kind}/own.txt`), 'own: the body\n');
            if (kind === 'bwrap') {
              // Of its submission's folder it sees its own folder and the script; /tmp is its own.
              assert.match(log, /submission: 0\.w script-[0-9a-f]{16}\.sh \n/);
              assert.match(log, /tmp: writable/);
              assert.match(log, /mktemp: \/tmp\/tmp\./);
            } else {
              // The submission's folder cannot be listed; /tmp is hidden, TMPDIR is the job's folder.
              assert.match(log, /submission: \n/);
              assert.match(log, /tmp: refused/);
              assert.match(log, /mktemp: \/.*\/0\.w\/tmp\./);
            }
          } finally {
            outsider.kill();
            await sandboxed.close();
          }
        },
      );
    }

    test(
      "the sandbox keeps the node's devices (GPUs); bubblewrap gives each job its own /dev/shm, Landlock the node's",
      { timeout: 60_000 },
      async () => {
        // A file in the node's /dev/shm (another job's shared memory) and the node's device list.
        const shared = await mkdtemp('/dev/shm/nubes-other-job-');
        const hostDevices = (await readdir('/dev', { withFileTypes: true }))
          .filter((entry) => entry.isCharacterDevice())
          .map((entry) => entry.name)
          .sort();
        const bwrap = await fixture.executor({ sandbox: 'bwrap' });
        try {
          const spec = service(
            'shell-sandbox-dev',
            [
              'for d in /dev/*; do [ -c "$d" ] && [ ! -L "$d" ] && echo "device: ${d#/dev/}"; done',
              'echo "shm: $(ls -A /dev/shm | tr "\\n" " ")"',
              'echo "from $JOB_UUID" > /dev/shm/nubes-shm-probe && echo "shm writable"',
            ].join('\n'),
          );
          const inBwrap = await run(await invocation(spec, '{}'), bwrap);
          assert.equal(inBwrap.result.status, 'succeeded', inBwrap.log);
          const seen = [...inBwrap.log.matchAll(/^device: (.+)$/gm)].map((match) => match[1]).sort();
          assert.deepEqual(seen, hostDevices, inBwrap.log);
          assert.match(inBwrap.log, /^shm: $/m);
          assert.match(inBwrap.log, /^shm writable$/m);
          await assert.rejects(
            access('/dev/shm/nubes-shm-probe'),
            'the job wrote into its own /dev/shm only',
          );
          if (landlockWhy !== null) return;

          const inLandlock = await run(await invocation(spec, '{}'), executor);
          assert.equal(inLandlock.result.status, 'succeeded', inLandlock.log);
          const seenThere = [...inLandlock.log.matchAll(/^device: (.+)$/gm)].map((match) => match[1]).sort();
          assert.deepEqual(seenThere, hostDevices, inLandlock.log);
          assert.match(inLandlock.log, new RegExp(`^shm: .*${shared.slice('/dev/shm/'.length)}`, 'm'));
          assert.match(await readFile('/dev/shm/nubes-shm-probe', 'utf8'), /^from shell-sandbox-dev-/);
        } finally {
          await bwrap.close();
          await rm(shared, { recursive: true, force: true });
          await rm('/dev/shm/nubes-shm-probe', { force: true });
        }
      },
    );

    test('a bubblewrap sandbox that fails to start is tried again; a script that exits 1 in it is not', async () => {
      // A bwrap that fails once before starting anything (as a mount changing under it would make it), then
      // is the real one.
      const wrapper = join(fixture.cluster.dir, 'flaky-bwrap');
      const once = join(fixture.cluster.dir, 'flaky-bwrap-failed');
      await writeFile(
        wrapper,
        `#!/bin/sh\nif [ ! -e ${once} ]; then : > ${once}; echo "bwrap: simulated setup failure" >&2; exit 1; fi\n` +
          'exec /usr/bin/bwrap "$@"\n',
        { mode: 0o755 },
      );
      const flaky = await fixture.executor({ bwrapPath: wrapper, sandbox: 'bwrap' });
      try {
        const retried = await run(await invocation(service('shell-bwrap-retry', 'echo ran'), '{}'), flaky);
        assert.equal(retried.result.status, 'succeeded', retried.log);
        assert.match(
          retried.log,
          /bwrap: simulated setup failure\n\[nubes\] the sandbox could not be set up/,
        );
        assert.equal(retried.log.match(/^ran$/gm)?.length, 1);
        const failing = await run(
          await invocation(service('shell-exit-1', 'echo once\nexit 1'), '{}'),
          flaky,
        );
        assert.equal(failing.result.exitCode, 1);
        assert.equal(failing.log.match(/^once$/gm)?.length, 1, 'the script ran once');
      } finally {
        await flaky.close();
      }
    });

    test('a node whose kernel has no Landlock: auto uses bubblewrap with a note, landlock fails the job', async () => {
      // A helper as the real one answers on such a kernel: its status line on the descriptor, exit 125.
      const helper = join(fixture.cluster.dir, 'old-kernel-landlock');
      await writeFile(
        helper,
        '#!/bin/sh\necho "nubes-landlock: the kernel has no Landlock (simulated)" >&2\n' +
          'echo "unsupported the kernel has no Landlock (simulated)" >&3\nexit 125\n',
        { mode: 0o755 },
      );
      const auto = await fixture.executor({ landlockPath: helper });
      const required = await fixture.executor({ landlockPath: helper, sandbox: 'landlock' });
      const spec = service('shell-no-landlock', 'echo "submission: $(ls -A .. 2>/dev/null | tr "\\n" " ")"');
      try {
        const fallback = await run(await invocation(spec, '{}'), auto);
        assert.equal(fallback.result.status, 'succeeded', fallback.log);
        assert.match(
          fallback.log,
          /\[nubes\] Landlock is not available \(the kernel has no Landlock \(simulated\)\): the script runs in bubblewrap/,
        );
        assert.match(fallback.log, /submission: 0\.w script-[0-9a-f]{16}\.sh \n/, 'in bubblewrap');
        const refused = await run(await invocation(spec, '{}'), required);
        assert.equal(refused.result.status, 'failed');
        assert.equal(refused.result.error?.code, 'SANDBOX_UNAVAILABLE');
        assert.match(refused.result.error?.message ?? '', /the kernel has no Landlock \(simulated\)/);
        assert.doesNotMatch(refused.log, /submission:/);
      } finally {
        await auto.close();
        await required.close();
      }
    });

    test('a node with neither sandbox: auto runs the script bare with a note, bwrap fails the job', async () => {
      const spec = service('shell-no-bwrap', 'echo ran');
      const missingBoth = { landlockPath: '/nonexistent/nubes-landlock', bwrapPath: '/nonexistent/bwrap' };
      const auto = await fixture.executor(missingBoth);
      const required = await fixture.executor({ ...missingBoth, sandbox: 'bwrap' });
      try {
        const bare = await run(await invocation(spec, '{}'), auto);
        assert.equal(bare.result.status, 'succeeded');
        assert.match(
          bare.log,
          /\[nubes\] the script runs without a sandbox: the Landlock helper \(\/nonexistent\/nubes-landlock\) is not installed on this node; bubblewrap \(\/nonexistent\/bwrap\) is not installed on this node/,
        );
        const refused = await run(await invocation(spec, '{}'), required);
        assert.equal(refused.result.status, 'failed');
        assert.equal(refused.result.error?.code, 'SANDBOX_UNAVAILABLE');
        assert.doesNotMatch(refused.log, /^ran$/m);
      } finally {
        await auto.close();
        await required.close();
      }
    });

    test('an output on another provider runs the Node supervisor instead', { timeout: 60_000 }, async () => {
      const spec = service('shell-fallback', 'echo fallback > "$TMP_OUTPUT_DIR/r.txt"', {
        storageProviders: {
          'minio.other': {
            type: 'minio',
            endpoint: fixture.s3.url,
            region: 'us-east-1',
            accessKey: ACCESS_KEY_ID,
            secretKey: SECRET_KEY,
            verifyTls: false,
          },
        },
        output: [
          {
            provider: 'minio.other',
            path: `${BUCKET}/other`,
            bucket: BUCKET,
            folder: 'other',
            prefixes: [],
            suffixes: [],
          },
        ],
      });
      await executor.deploy(spec);
      const before = { ...executor.jobPaths };
      const result = await executor.run(await invocation(spec, '{}'));
      assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
      assert.deepEqual(executor.jobPaths, { shell: before.shell, supervisor: before.supervisor + 1 });
      assert.equal(await text('other/r.txt'), 'fallback\n');
    });

    test(
      'the Node supervisor runs the script in the same sandbox: data folder and spool hidden, /usr read-only',
      { timeout: 90_000 },
      async () => {
        const secret = join(fixture.cluster.dir, 'platform-secret-2.txt');
        await writeFile(secret, 'not for scripts');
        const supervised = await fixture.executor({ shellJobs: false });
        const inBwrap = await fixture.executor({ shellJobs: false, sandbox: 'bwrap' });
        const missingBoth = { landlockPath: '/nonexistent/nubes-landlock', bwrapPath: '/nonexistent/bwrap' };
        const bare = await fixture.executor({ shellJobs: false, ...missingBoth });
        const required = await fixture.executor({ shellJobs: false, ...missingBoth, sandbox: 'bwrap' });
        const spec = service(
          'supervisor-sandbox',
          [
            'if cat "$SECRET_FILE" 2>/dev/null; then echo "secret: readable"; else echo "secret: hidden"; fi',
            'echo "spool: $(ls -A "$SPOOL" 2>/dev/null | wc -l)"',
            // A probe of its own: the bare run below really writes it (and removes it).
            'if touch /usr/nubes-supervisor-probe 2>/dev/null; then echo "usr: writable"; rm /usr/nubes-supervisor-probe; else echo "usr: read-only"; fi',
            // Landlock cannot grant a folder above a hidden one without all below it: / is not listable.
            'if ls / >/dev/null 2>&1; then echo "root: listable"; else echo "root: not listable"; fi',
            'echo "own: $(cat "$INPUT_FILE_PATH")" > "$TMP_OUTPUT_DIR/own.txt"',
          ].join('\n'),
          { variables: { SECRET_FILE: secret, SPOOL: join(fixture.cluster.dir, 'jobs') } },
        );
        const runOn = async (on: SlurmExecutor) => {
          await on.deploy(spec);
          const started = await invocation(spec, 'the body');
          const result = await on.run(started);
          return { result, log: await readFile(started.logPath, 'utf8').catch(() => '') };
        };
        try {
          // auto (Landlock here when the kernel has it), then bubblewrap: the same confinement.
          for (const [on, kind] of [
            [supervised, autoSandbox],
            [inBwrap, 'bwrap'],
          ] as const) {
            const inside = await runOn(on);
            assert.equal(inside.result.status, 'succeeded', inside.log);
            assert.deepEqual(on.jobPaths, { shell: 0, supervisor: 1 });
            assert.match(inside.log, /secret: hidden/);
            assert.match(inside.log, /spool: 0\n/);
            assert.match(inside.log, /usr: read-only/);
            assert.match(inside.log, kind === 'landlock' ? /root: not listable/ : /root: listable/);
            assert.equal(await text('out/supervisor-sandbox/own.txt'), 'own: the body\n');
          }

          const outside = await runOn(bare);
          assert.equal(outside.result.status, 'succeeded', outside.log);
          assert.match(
            outside.log,
            /the script runs without a sandbox: the Landlock helper \(\/nonexistent\/nubes-landlock\) is not installed on this host; bubblewrap \(\/nonexistent\/bwrap\) is not installed on this host/,
          );
          assert.match(outside.log, /secret: readable/);

          const refused = await runOn(required);
          assert.equal(refused.result.status, 'failed', refused.log);
          assert.equal(refused.result.error?.code, 'SANDBOX_UNAVAILABLE', refused.log);
          assert.doesNotMatch(refused.log, /secret:/);
        } finally {
          await Promise.all([supervised.close(), inBwrap.close(), bare.close(), required.close()]);
          await rm('/usr/nubes-supervisor-probe', { force: true });
        }
      },
    );
  },
);
