import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runCli } from '../program.js';
import { startFakeApi } from '../testing/fake-api.js';
import { localProject } from '../testing/local-project.js';
import { memoryIo } from '../testing/memory-io.js';
import { renameService } from './apply.js';

/** test/cli/fixtures, from dist/src/cli/commands. */
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../../test/cli/fixtures/${name}`, import.meta.url));

async function setup() {
  const created: unknown[] = [];
  const api = await startFakeApi({
    'GET /system/services/greet': () => ({ json: { name: 'greet', token: 't' } }),
    'PUT /system/services': () => ({
      status: 204,
      headers: { 'x-nubes-warnings': encodeURIComponent('image ignored: no container engine') },
    }),
    'POST /system/services': (request) => {
      created.push(JSON.parse(request.body.toString()));
      return { status: 201, json: { name: 'x', token: 't', warnings: [] } };
    },
    'DELETE /system/services/greet': () => ({ status: 204 }),
  });
  const project = localProject(api.url);
  const run = async (args: string[]) => {
    const io = memoryIo(project);
    const code = await runCli(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  return { api, run, created };
}

void test('apply updates the services that exist (PUT) and creates the others (POST), with the scripts inlined', async () => {
  const { api, run, created } = await setup();
  try {
    const result = await run(['apply', fixture('good.yaml')]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /^Applying good\.yaml \(2 services\)$/m);
    assert.match(
      result.out,
      /^✓ updated service "greet" on local\n {4}warning: image ignored: no container engine$/m,
    );
    assert.match(result.out, /^✓ created service "greet-files" on local$/m);
    assert.deepEqual(
      api.requests.map((request) => `${request.method} ${request.path}`),
      [
        'GET /system/services/greet',
        'PUT /system/services',
        'GET /system/services/greet-files',
        'POST /system/services',
      ],
    );
    const sent = created[0] as { name: string; script: string };
    assert.equal(sent.name, 'greet-files');
    assert.match(sent.script, /^#!\/bin\/sh/);
  } finally {
    await api.close();
  }
});

void test('apply -n renames the single service and its bucket; with several services it is refused', async () => {
  const { api, run, created } = await setup();
  try {
    assert.equal((await run(['apply', fixture('good.yaml'), '-n', 'other'])).code, 1);
    const result = await run(['apply', fixture('warning.yaml'), '-n', 'renamed']);
    assert.equal(result.code, 0, result.err);
    assert.match(result.err, /warning\.yaml:4:7: warning: no script/);
    assert.equal((created[0] as { name: string }).name, 'renamed');
  } finally {
    await api.close();
  }
});

void test('an invalid FDL prints every error at its line and column and deploys nothing', async () => {
  const { api, run } = await setup();
  try {
    const result = await run(['apply', fixture('bad.yaml')]);
    assert.equal(result.code, 1);
    assert.match(result.err, /bad\.yaml:8:9: error: unknown key "memroy"/);
    assert.match(result.err, /bad\.yaml:9:14: error: "lots" is not a CPU quantity/);
    assert.match(result.err, /error: .*bad\.yaml: 2 errors, nothing was deployed/);
    assert.equal(api.requests.length, 0);
    const missing = await run(['apply', 'nope.yaml']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read nope\.yaml: no such file/);
  } finally {
    await api.close();
  }
});

void test('delete removes the services of the file and reports the ones that were not there', async () => {
  const { api, run } = await setup();
  try {
    const result = await run(['delete', fixture('good.yaml')]);
    assert.equal(result.code, 1);
    assert.match(result.out, /✓ deleted service "greet" on local/);
    assert.match(result.out, /✗ service "greet-files" on local: service "greet-files" not found/);
  } finally {
    await api.close();
  }
});

void test('fdl validate: every problem as file:line:col, exit 1 on errors, 0 with a summary otherwise', async () => {
  const io = memoryIo({ cwd: fileURLToPath(new URL('../../../../', import.meta.url)) });
  assert.equal(await runCli(['fdl', 'validate', fixture('good.yaml'), fixture('warning.yaml')], io), 0);
  assert.match(io.out(), /^test\/cli\/fixtures\/warning\.yaml:4:7: warning: /m);
  assert.match(io.out(), /✓ 2 files valid \(3 services\), 1 warning\n$/);
  const bad = memoryIo();
  assert.equal(await runCli(['fdl', 'validate', fixture('bad.yaml'), fixture('good.yaml')], bad), 1);
  assert.match(bad.out(), /✗ 2 errors in 1 of 2 files\n$/);
});

void test('renameService renames the service and the paths in its own bucket only', () => {
  const renamed = renameService(
    {
      name: 'grayify',
      input: [{ storage_provider: 'minio.default', path: 'grayify/in' }],
      output: [
        { storage_provider: 'minio.default', path: '/grayify/out/' },
        { storage_provider: 'minio.default', path: 'shared/out' },
      ],
      mount: { storage_provider: 'minio.default', path: 'GRAYIFY' },
    },
    'gray2',
  );
  assert.equal(renamed.name, 'gray2');
  assert.deepEqual(
    (renamed['input'] as { path: string }[]).map((io) => io.path),
    ['gray2/in'],
  );
  assert.deepEqual(
    (renamed['output'] as { path: string }[]).map((io) => io.path),
    ['gray2/out', 'shared/out'],
  );
  assert.equal((renamed['mount'] as { path: string }).path, 'gray2');
  assert.equal('input' in renameService({ name: 'x' }, 'y'), false);
});
