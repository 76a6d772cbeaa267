import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Invocation } from '../executor.js';
import type { ServiceSpec } from '../../fdl/service-spec.js';
import { batchScript } from './sbatch-script.js';
import { planShellTask, type ShellTaskContext } from './shell-task.js';

const context: ShellTaskContext = {
  endpoint: 'http://10.0.0.1:9000/',
  region: 'eu-west-1',
  key: { accessKeyId: 'NJTESTKEY', secretAccessKey: 'secret-value', expiresMs: Date.now() + 3600_000 },
  jobFolder: 'node',
  sandbox: {
    landlockPath: '/opt/nubes/dist/native/nubes-landlock',
    bwrapPath: '/usr/bin/bwrap',
    required: false,
    hiddenDirs: ['/srv/nubes', '/srv/spool dir'],
  },
};

function invocation(event: string, overrides: Partial<ServiceSpec> = {}): Invocation {
  const service = {
    name: 'svc',
    script: 'echo hi',
    variables: { V: "it's" },
    secrets: {},
    input: [],
    output: [],
    timeoutMs: 0,
    storageProviders: {},
    ...overrides,
  } as unknown as ServiceSpec;
  return {
    jobId: 'job-1',
    service,
    kind: 'http',
    event,
    input: null,
    bodyPath: null,
    workDir: '/w',
    logPath: '/w/log',
    signal: new AbortController().signal,
  };
}

const storageEvent = (source = 'minio:s3') =>
  JSON.stringify({
    Records: [{ eventSource: source, s3: { bucket: { name: 'bkt' }, object: { key: 'in/a%20b.txt' } } }],
  });
const output = (provider: string) => ({
  provider,
  path: 'bkt/out',
  bucket: 'bkt',
  folder: 'out',
  prefixes: [],
  suffixes: [],
});

test('jobs with storage elsewhere than the platform take the Node supervisor', () => {
  assert.deepEqual(planShellTask(invocation('{}', { output: [output('s3.aws')] }), context), {
    fallback: 'output on provider s3.aws',
  });
  const delegated = JSON.stringify({ storage_provider: 'minio.edge', event: storageEvent() });
  assert.deepEqual(planShellTask(invocation(delegated), context), {
    fallback: 'input on provider minio.edge',
  });
  const noStore = {
    endpoint: null,
    region: 'us-east-1',
    key: null,
    jobFolder: 'spool' as const,
    sandbox: null,
  };
  assert.deepEqual(planShellTask(invocation(storageEvent()), noStore), { fallback: 'no S3 endpoint' });
  assert.ok('task' in planShellTask(invocation('{}'), noStore), 'no storage needed, none given');
});

test('a storage job gets a presigned GET of its input and its environment with the folder left to the node', () => {
  const planned = planShellTask(invocation(storageEvent(), { timeoutMs: 1500 }), context);
  assert.ok('task' in planned);
  const file = planned.task.file;
  assert.match(file, /nubes_input_url='http:\/\/10\.0\.0\.1:9000\/bkt\/in\/a%20b\.txt\?X-Amz-Algorithm=/);
  assert.match(file, /nubes_input_name='a b\.txt'/);
  assert.match(file, /'INPUT_FILE_PATH='"\$nubes_work"'\/input\/a b\.txt'/);
  assert.match(file, /'HOME='"\$nubes_work"/);
  assert.match(file, /'V=it'\\''s'/);
  assert.match(file, /'STORAGE_OBJECT_KEY=in\/a b\.txt'/);
  assert.match(file, /nubes_script="\$dir"\/script-[0-9a-f]{16}\.sh/);
  // The sandbox's command line (the supervisor's, from the hidden folders below) comes before the script.
  assert.match(file, /exec "\$nubes_timeout_command" -k 2 1\.5 "\$@" \/bin\/sh "\$nubes_script"/);
  assert.match(
    file,
    /nubes_landlock='\/opt\/nubes\/dist\/native\/nubes-landlock'\nnubes_bwrap='\/usr\/bin\/bwrap'\nnubes_sandbox_required=''\nnubes_hide='\/srv\/nubes\n\/srv\/spool dir'/,
  );
  assert.ok(!file.includes('\u0001'), 'no folder mark left');
  assert.equal(planned.task.body, null);
});

test('an http body travels in the file when it is text, in a file of its own otherwise', () => {
  const text = planShellTask(invocation('{"a": "ü"}'), context);
  assert.ok('task' in text);
  assert.match(text.task.file, /nubes_body='\{"a": "ü"\}'/);
  assert.match(text.task.file, /nubes_input_name='event-file-[0-9a-f-]{36}'/);
  const binary = Buffer.from([0, 255, 1]);
  const file = planShellTask(invocation(binary.toString('base64')), context);
  assert.ok('task' in file);
  assert.deepEqual(file.task.body, binary);
  assert.match(file.task.file, /nubes_body_file="\$dir\/\$task\.in"/);
});

test('the task file and the batch script are valid sh', () => {
  const planned = planShellTask(invocation(storageEvent(), { output: [output('minio.default')] }), context);
  assert.ok('task' in planned);
  const script = batchScript({
    dir: "/spool/it's",
    node: '/usr/bin/node',
    supervisor: '/s.mjs',
    service: 'svc',
  });
  execFileSync('sh', ['-n'], { input: `${planned.task.file}\n${script}` });
});
