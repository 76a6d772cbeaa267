import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformError } from '../core/index.js';
import {
  addCluster,
  defaultConfigPath,
  readClusterConfig,
  removeCluster,
  setDefaultCluster,
  writeClusterConfig,
} from './cluster-config.js';
import { tempDir } from './testing/temp-dir.js';

const entry = (endpoint: string) => ({ endpoint, auth_user: 'admin', auth_password: 'pw', ssl_verify: true });

function tempFile(name = 'config.yaml'): string {
  return join(tempDir('nubes-cli-config-'), 'nested', name);
}

void test('a missing config file is an empty config; the default path is ~/.nubes/config.yaml', () => {
  const config = readClusterConfig('/nonexistent/config.yaml');
  assert.deepEqual(config, { clusters: {}, default: undefined, clustersKey: 'clusters' });
  assert.equal(defaultConfigPath('/home/ada'), '/home/ada/.nubes/config.yaml');
});

void test('the first cluster added becomes the default, and the file round-trips with mode 0600', () => {
  const path = tempFile();
  let config = addCluster(readClusterConfig(path), 'lab', entry('http://lab:8080'));
  config = addCluster(config, 'hpc', { ...entry('https://hpc.example.org'), ssl_verify: false });
  assert.equal(config.default, 'lab');
  writeClusterConfig(path, config);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^clusters:/m);
  assert.match(text, /^default: lab$/m);
  const back = readClusterConfig(path);
  assert.deepEqual(back.clusters['hpc'], { ...entry('https://hpc.example.org'), ssl_verify: false });
  assert.equal(back.default, 'lab');
});

void test('removing the default cluster makes the first remaining one the default', () => {
  let config = addCluster(readClusterConfig('/nonexistent'), 'b', entry('http://b'));
  config = addCluster(config, 'a', entry('http://a'));
  config = setDefaultCluster(config, 'b');
  config = removeCluster(config, 'b');
  assert.equal(config.default, 'a');
  assert.deepEqual(Object.keys(config.clusters), ['a']);
  config = removeCluster(config, 'a');
  assert.equal(config.default, undefined);
});

void test('an unknown cluster id is a NOT_FOUND user error naming the configured ones', () => {
  const config = addCluster(readClusterConfig('/nonexistent'), 'lab', entry('http://lab'));
  assert.throws(
    () => setDefaultCluster(config, 'nope'),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'NOT_FOUND' &&
      error.kind === 'user' &&
      /lab/.test(String((error.details as { hint: string }).hint)),
  );
  assert.throws(() => removeCluster(config, 'nope'), { code: 'NOT_FOUND' });
});

void test('a cluster id with spaces or slashes is refused', () => {
  assert.throws(() => addCluster(readClusterConfig('/nonexistent'), 'my lab', entry('http://x')), {
    code: 'VALIDATION_FAILED',
  });
  assert.throws(() => addCluster(readClusterConfig('/nonexistent'), '../x', entry('http://x')), {
    code: 'VALIDATION_FAILED',
  });
});

void test('a malformed file or a misspelt key is CONFIG_INVALID with the place of the problem', () => {
  const broken = tempFile();
  writeClusterConfig(broken, readClusterConfig('/nonexistent'));
  writeFileSync(broken, 'clusters: [unclosed\n');
  assert.throws(() => readClusterConfig(broken), { code: 'CONFIG_INVALID' });
  writeFileSync(broken, 'clusters:\n  lab:\n    endpoint: http://lab\n    auth_usr: admin\n');
  assert.throws(
    () => readClusterConfig(broken),
    (error: unknown) =>
      error instanceof PlatformError &&
      error.code === 'CONFIG_INVALID' &&
      /clusters\.lab/.test(error.message),
  );
  writeFileSync(broken, 'clusters:\n  lab:\n    endpoint: not a url\n');
  assert.throws(() => readClusterConfig(broken), { code: 'CONFIG_INVALID' });
});

void test("oscar-cli's config file (`oscar:` key, OIDC fields, JSON) is read, and written back under the same key", () => {
  const path = tempFile('config.json');
  writeClusterConfig(path, readClusterConfig('/nonexistent'));
  writeFileSync(
    path,
    JSON.stringify({
      oscar: {
        egi: { endpoint: 'https://oscar.egi.eu', oidc_account_name: 'egi', ssl_verify: true },
        lab: {
          endpoint: 'http://lab:8080',
          auth_user: 'oscar',
          auth_password: 'pw',
          ssl_verify: false,
          memory: '256Mi',
          log_level: 'INFO',
        },
      },
      default: 'lab',
    }),
  );
  const config = readClusterConfig(path);
  assert.equal(config.clustersKey, 'oscar');
  assert.equal(config.clusters['lab']?.auth_user, 'oscar');
  writeClusterConfig(path, addCluster(config, 'new', entry('http://new')));
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^oscar:/m);
  assert.doesNotMatch(text, /^clusters:/m);
});
