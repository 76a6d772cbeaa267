import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PlatformError } from '../core/index.js';
import type { FdlDiagnostic } from './diagnostics.js';
import { loadFdlFile, parseFdl } from './fdl-parser.js';

// Tests run from dist/src/fdl; the fixtures stay in the source tree.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/fdl/', import.meta.url));

/** Runs `action`, expects a PlatformError with `code`, returns its diagnostics as `line:column path message`. */
async function diagnosticsOf(action: () => unknown, code: string): Promise<string[]> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof PlatformError, String(error));
    assert.equal(error.code, code, error.message);
    const diagnostics = (error.details as { diagnostics: FdlDiagnostic[] }).diagnostics;
    assert.equal(
      error.message,
      diagnostics
        .map((d) => `${d.file}:${d.line}:${d.column}: ${d.path ? `${d.path}: ` : ''}${d.message}`)
        .join('\n'),
    );
    for (const d of diagnostics) assert.equal(d.severity, 'error');
    return diagnostics.map((d) => `${d.line}:${d.column} ${d.path}: ${d.message}`);
  }
  assert.fail(`expected ${code}`);
}

void test('OSCAR v3 file: replicas, delegation and rescheduler_threshold kept; script inlined; cluster id set', async () => {
  const doc = await loadFdlFile(`${FIXTURES}oscar-v3-replicas.yaml`);
  assert.equal(doc.services.length, 1);
  const service = doc.services[0];
  assert.ok(service);
  assert.equal(service.clusterId, 'edge-cluster');
  assert.equal(service.source, 'oscar');
  const json = service.json;
  assert.equal(json.cluster_id, 'edge-cluster');
  assert.match(json.script ?? '', /^#!\/bin\/sh\n# Makes a 256px thumbnail/);
  assert.equal(json.log_level, 'INFO');
  assert.equal(json.replicas?.length, 2);
  assert.deepEqual(json.replicas?.[1], {
    type: 'endpoint',
    url: 'https://hooks.example.org/thumbnailer',
    ssl_verify: false,
    priority: 50,
    headers: { 'X-Origin': 'edge' },
  });
  assert.equal(json.delegation, 'static');
  assert.equal(json.rescheduler_threshold, 30);
  // As oscar-cli does, the file's clusters and providers travel with the service.
  assert.equal(json.clusters?.['cloud-cluster']?.endpoint, 'https://oscar.cloud.example.org');
  assert.equal(json.storage_providers?.minio?.['cloud-cluster']?.region, 'eu-west-1');
  assert.deepEqual(Object.keys(doc.clusters), ['cloud-cluster']);
  assert.deepEqual(doc.warnings, []);
});

void test('OSCAR v4 file: federation; scalars keep their written form in text fields', async () => {
  const doc = await loadFdlFile(`${FIXTURES}oscar-v4-federation.yaml`);
  const json = doc.services[0]!.json;
  assert.equal(json.federation?.topology, 'star');
  assert.equal(json.federation?.members?.[0]?.cluster_id, 'cluster-edge');
  assert.equal(json.cpu, '1.0');
  assert.deepEqual(json.environment?.variables, {
    MODEL_THRESHOLD: '0.60',
    PYTHON_VERSION: '3.10',
    VERBOSE: 'false',
    EMPTY_ON_PURPOSE: '',
  });
  assert.deepEqual(json.environment?.secrets, { refresh_token: 'replace-me' });
  assert.equal(json.isolation_level, 'USER');
  assert.equal(json.log_level, 'WARNING');
  assert.deepEqual(json.expose?.api_port, [8080, 9090]);
  assert.deepEqual(json.annotations, { 'example.org/owner': 'plant-lab' });
  assert.equal(doc.storageProviders.webdav?.archive?.hostname, 'dcache.example.org:2880');
});

void test('SCAR file: functions become Service JSON; AWS-only settings become located warnings', async () => {
  const doc = await loadFdlFile(`${FIXTURES}scar-api-gateway.yaml`);
  assert.deepEqual(
    doc.services.map((s) => [s.clusterId, s.source, s.json.name]),
    [
      [null, 'scar', 'scar-word-count'],
      [null, 'scar', 'scar-transcoder'],
    ],
  );
  const [words, transcoder] = doc.services.map((s) => s.json);
  assert.equal(words?.image, 'ghcr.io/example-lab/coreutils:9');
  assert.match(words?.script ?? '', /wc -w/);
  assert.equal(words?.memory, '1024Mi');
  assert.equal(words?.timeout, 120);
  assert.equal(words?.log_level, 'DEBUG');
  assert.deepEqual(words?.environment?.variables, { STAGE: 'test', LANG: 'C.UTF-8' });
  assert.deepEqual(words?.output, [{ storage_provider: 's3', path: 'scar-words/output', suffix: ['count'] }]);
  // Batch mode: the job gets the Batch resources.
  assert.deepEqual(
    [
      transcoder?.cpu,
      transcoder?.memory,
      transcoder?.enable_gpu,
      transcoder?.timeout,
      transcoder?.execution_mode,
    ],
    ['2', '4096Mi', true, undefined, 'batch'],
  );
  assert.deepEqual(
    doc.warnings.map((w) => `${w.line}:${w.column} ${w.path} ${w.severity}`),
    [
      '9:7 functions.aws[0].lambda.region warning',
      '11:7 functions.aws[0].lambda.environment warning',
      '28:5 functions.aws[0].iam warning',
      '30:5 functions.aws[0].api_gateway warning',
      '32:5 functions.aws[0].cloudwatch warning',
      '50:7 functions.aws[1].batch.compute_resources warning',
    ],
  );
  assert.match(doc.warnings[3]!.message, /POST \/run\/<name>/);
});

void test('every storage provider type; CRLF scripts normalised; undefined provider ids warned about', async () => {
  const doc = await loadFdlFile(`${FIXTURES}storage-providers.yaml`);
  const json = doc.services[0]!.json;
  assert.equal(json.script?.includes('\r'), false);
  assert.deepEqual(
    json.output?.map((io) => io.storage_provider),
    ['s3.aws-backup', 'onedata.datahub', 'webdav.dcache', 'rucio.lab'],
  );
  assert.deepEqual(Object.keys(doc.storageProviders).sort(), ['minio', 'onedata', 'rucio', 's3', 'webdav']);
  // `endpoint:` with nothing is an absent field, as Go reads it; `True` is a boolean.
  assert.deepEqual(doc.storageProviders.minio?.other, { verify: true });
  assert.deepEqual(doc.warnings, []);

  const undefinedProvider = parseFdl(
    'functions:\n  oscar:\n  - c:\n      name: x\n      image: y\n      output:\n      - storage_provider: minio.elsewhere\n        path: b/c\n',
    { file: 'inline.yaml' },
  );
  assert.deepEqual(
    undefinedProvider.warnings.map((w) => `${w.line}:${w.column} ${w.message}`),
    [
      "3:5 no script: the image's own command runs (OSCAR itself would require a script)",
      '7:27 storage provider "minio.elsewhere" is not defined in storage_providers',
    ],
  );
});

void test('Nubes additions are read from an FDL service', async () => {
  const json = (await loadFdlFile(`${FIXTURES}nubes-additions.yaml`)).services[0]!.json;
  assert.deepEqual(
    [json.timeout, json.max_concurrency, json.max_retries, json.retry_backoff, json.executor, json.cpu],
    [90, 4, 5, 0.5, 'slurm', '500m'],
  );
});

void test('unknown key: FDL_INVALID at the key, with the exact message format', async () => {
  const file = `${FIXTURES}invalid/unknown-key.yaml`;
  assert.deepEqual(await diagnosticsOf(() => loadFdlFile(file), 'FDL_INVALID'), [
    '12:7 functions.oscar[0].cowsay.memroy: unknown key "memroy"; did you mean "memory"?',
  ]);
  const text = 'functions:\n  oscar:\n  - cowsay:\n      name: cowsay\n      image: x\n      memroy: 1Gi\n';
  assert.throws(() => parseFdl(text, { file: 'demo.yaml' }), {
    code: 'FDL_INVALID',
    message: 'demo.yaml:6:7: functions.oscar[0].cowsay.memroy: unknown key "memroy"; did you mean "memory"?',
  });
});

void test('wrong types: FDL_INVALID at each value (at the key for a block map)', async () => {
  assert.deepEqual(
    await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/wrong-type.yaml`), 'FDL_INVALID'),
    [
      '7:19 functions.oscar[0].cluster.enable_gpu: expected true or false, got a string',
      '8:12 functions.oscar[0].cluster.cpu: expected a string, got a list',
      '9:7 functions.oscar[0].cluster.input: expected a list, got a map',
    ],
  );
});

void test('missing required field: FDL_INVALID at the key of the service that lacks it', async () => {
  assert.deepEqual(
    await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/missing-field.yaml`), 'FDL_INVALID'),
    ['3:5 functions.oscar[0].cluster.image: missing required field "image"'],
  );
  assert.deepEqual(
    await diagnosticsOf(() => parseFdl('storage_providers: {}\n', { file: 'f.yaml' }), 'FDL_INVALID'),
    ['1:1 functions: missing required field "functions"'],
  );
  assert.deepEqual(
    await diagnosticsOf(() => parseFdl('functions: {}\n', { file: 'f.yaml' }), 'FDL_INVALID'),
    ['1:12 functions: define services under "oscar" (OSCAR) or "aws" (SCAR)'],
  );
  assert.deepEqual(await diagnosticsOf(() => parseFdl('# nothing\n', { file: 'f.yaml' }), 'FDL_INVALID'), [
    '1:1 : the file is empty; an FDL file is a map with a "functions" key',
  ]);
});

void test("bad YAML: FDL_SYNTAX with the parser's line and column", async () => {
  assert.deepEqual(await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/bad-yaml.yaml`), 'FDL_SYNTAX'), [
    '7:18 : Nested mappings are not allowed in compact mappings',
  ]);
  assert.deepEqual(
    await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/duplicate-key.yaml`), 'FDL_SYNTAX'),
    ['6:7 : Map keys must be unique'],
  );
  assert.deepEqual(
    await diagnosticsOf(() => parseFdl('functions:\n\toscar: []\n', { file: 't.yaml' }), 'FDL_SYNTAX'),
    ['2:1 : Tabs are not allowed as indentation'],
  );
});

void test('missing script: FDL_SCRIPT_NOT_FOUND at the script value', async () => {
  const file = `${FIXTURES}invalid/missing-script.yaml`;
  assert.deepEqual(await diagnosticsOf(() => loadFdlFile(file), 'FDL_SCRIPT_NOT_FOUND'), [
    `6:15 functions.oscar[0].cluster.script: script file "../scripts/not-there.sh" not found (relative to the folder of ${file})`,
  ]);
  // parseFdl asks its reader; SCAR's init_script is located the same way.
  const scar =
    'functions:\n  aws:\n  - lambda:\n      name: s\n      init_script: gone.sh\n      container:\n        image: alpine\n';
  assert.deepEqual(
    await diagnosticsOf(
      () => parseFdl(scar, { file: 's.yaml', readScript: () => undefined }),
      'FDL_SCRIPT_NOT_FOUND',
    ),
    [
      '5:20 functions.aws[0].lambda.init_script: script file "gone.sh" not found (relative to the folder of s.yaml)',
    ],
  );
});

void test('all diagnostics of a file are reported at once, in order, OSCAR and SCAR alike', async () => {
  assert.deepEqual(
    await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/many-errors.yaml`), 'FDL_INVALID'),
    [
      '4:13 functions.oscar[0].cluster-a.name: a service name uses lower-case letters, digits and "-", and starts and ends with a letter or digit',
      '7:15 functions.oscar[0].cluster-a.memory: "256MB" is not a Kubernetes quantity; write "256Mi" (or "256M")',
      '8:19 functions.oscar[0].cluster-a.visibility: "hidden" is not one of private, public, restricted',
      '10:27 functions.oscar[0].cluster-a.output[0].storage_provider: storage_provider must be <type> or <type>.<id> with type one of minio, s3, onedata, webdav, rucio',
      '15:16 functions.aws[0].lambda.timeout: expected a number, got a string',
      '18:9 functions.aws[0].lambda.container.imagee: unknown key "imagee"; did you mean "image"?',
      '20:7 functions.aws[0].iam.rol: unknown key "rol"; did you mean "role"?',
    ],
  );
});

void test('a SCAR field that fails as Service JSON is reported at the SCAR key it came from', async () => {
  assert.deepEqual(
    await diagnosticsOf(() => loadFdlFile(`${FIXTURES}invalid/scar-bad-name.yaml`), 'FDL_INVALID'),
    [
      '4:13 functions.aws[0].lambda.name: a service name uses lower-case letters, digits and "-", and starts and ends with a letter or digit',
    ],
  );
  const noImage = 'functions:\n  aws:\n  - lambda:\n      name: s\n      container:\n        alpine: true\n';
  assert.deepEqual(await diagnosticsOf(() => parseFdl(noImage, { file: 's.yaml' }), 'FDL_INVALID'), [
    '5:7 functions.aws[0].lambda.container.image: missing required field "image"',
  ]);
});

void test('warnings: server-set fields, SCAR-only cluster keys, duplicate names; anchors are resolved', () => {
  const text = [
    'functions:',
    '  oscar:',
    '  - one:',
    '      name: same',
    '      image: alpine',
    '      script: a.sh',
    '      token: abc',
    '      environment: &env',
    '        variables:',
    '          A: "1"',
    '  - two:',
    '      name: same',
    '      image: alpine',
    '      script: a.sh',
    '      environment: *env',
    'clusters:',
    '  two:',
    '    endpoint: https://two',
    '    memory: 256Mi',
    '',
  ].join('\n');
  const doc = parseFdl(text, { file: 'w.yaml', readScript: () => 'echo\n' });
  assert.deepEqual(
    doc.warnings.map((w) => `${w.line}:${w.column} ${w.path}`),
    ['7:7 functions.oscar[0].one.token', '12:7 functions.oscar[1].two.name', '19:5 clusters.two.memory'],
  );
  assert.equal(doc.services[0]?.json.script, 'echo\n');
  assert.deepEqual(doc.services[1]?.json.environment, { variables: { A: '1' } });
  // Strictness applies to the top level too (no stray keys to hold anchors).
  assert.throws(() => parseFdl(`base: &b\n  x: 1\n${text}`, { file: 'w.yaml' }), {
    code: 'FDL_INVALID',
    message: 'w.yaml:1:1: base: unknown key "base"',
  });
});
