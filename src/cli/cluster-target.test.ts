import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCluster, readClusterConfig, type ClusterConfig } from './cluster-config.js';
import { localTarget, resolveTarget } from './cluster-target.js';
import { tempDir } from './testing/temp-dir.js';

const empty = (): ClusterConfig => readClusterConfig('/nonexistent');
const entry = (endpoint: string, user = 'admin') => ({
  endpoint,
  auth_user: user,
  auth_password: 'pw',
  ssl_verify: true,
});

/** A project folder whose local server wrote its credentials to ./.nubes-data (or `dataDir`). */
function projectFolder(
  dataDir = '.nubes-data',
  credentials = { adminUser: 'admin', adminPassword: 'secret-pw', s3AccessKey: 'AK', s3SecretKey: 'SK' },
): string {
  const cwd = tempDir('nubes-cli-project-');
  mkdirSync(join(cwd, dataDir), { recursive: true });
  writeFileSync(join(cwd, dataDir, 'credentials.json'), JSON.stringify(credentials));
  return cwd;
}

const selection = (clusterId?: string) => ({ clusterId, configPath: '/home/ada/.nubes/config.yaml' });

void test('with no cluster configured, the local server of the folder is used with the credentials it wrote', () => {
  const cwd = projectFolder();
  const target = resolveTarget(empty(), selection(), { env: {}, cwd });
  assert.equal(target.source, 'local');
  assert.equal(target.id, 'local');
  assert.equal(target.endpoint, 'http://127.0.0.1:8080');
  assert.deepEqual(target.auth, { user: 'admin', password: 'secret-pw' });
  assert.equal(target.origin, join(cwd, '.nubes-data', 'credentials.json'));
});

void test('the local server honours NUBES_PORT, NUBES_HOST, NUBES_DATA_DIR and NUBES_ADMIN_*; --data-dir beats the variable', () => {
  const cwd = projectFolder('custom-data');
  const byEnv = localTarget({ env: { NUBES_PORT: '18080', NUBES_DATA_DIR: 'custom-data' }, cwd });
  assert.equal(byEnv.endpoint, 'http://127.0.0.1:18080');
  assert.equal(byEnv.auth?.password, 'secret-pw');
  const byFlag = localTarget({ env: { NUBES_DATA_DIR: 'elsewhere' }, cwd, dataDir: 'custom-data' });
  assert.equal(byFlag.auth?.password, 'secret-pw');
  const byVariables = localTarget({
    env: { NUBES_ADMIN_USER: 'ada', NUBES_ADMIN_PASSWORD: 'from-env' },
    cwd,
  });
  assert.deepEqual(byVariables.auth, { user: 'ada', password: 'from-env' });
  assert.equal(byVariables.origin, 'NUBES_ADMIN_USER/NUBES_ADMIN_PASSWORD');
  assert.equal(localTarget({ env: { NUBES_HOST: '0.0.0.0' }, cwd }).endpoint, 'http://127.0.0.1:8080');
  assert.equal(
    localTarget({ env: { NUBES_HOST: '::1', NUBES_PORT: '81' }, cwd }).endpoint,
    'http://[::1]:81',
  );
});

void test('without credentials the local target has no auth (the server will say 401), and a bad NUBES_PORT is CONFIG_INVALID', () => {
  const cwd = tempDir('nubes-cli-empty-');
  assert.equal(localTarget({ env: {}, cwd }).auth, undefined);
  assert.throws(() => localTarget({ env: { NUBES_PORT: 'eighty' }, cwd }), { code: 'CONFIG_INVALID' });
});

void test('-c picks a configured cluster; -c local picks the local server unless a cluster is named local', () => {
  const cwd = projectFolder();
  let config = addCluster(empty(), 'lab', entry('http://lab:8080/'));
  const lab = resolveTarget(config, selection('lab'), { env: {}, cwd });
  assert.equal(lab.endpoint, 'http://lab:8080');
  assert.equal(lab.source, 'config');
  assert.equal(resolveTarget(config, selection('local'), { env: {}, cwd }).source, 'local');
  config = addCluster(config, 'local', entry('http://elsewhere:1'));
  assert.equal(resolveTarget(config, selection('local'), { env: {}, cwd }).endpoint, 'http://elsewhere:1');
  assert.throws(() => resolveTarget(config, selection('nope'), { env: {}, cwd }), { code: 'NOT_FOUND' });
});

void test('without -c: the default cluster, else the only one, else an error asking to choose', () => {
  const local = { env: {}, cwd: '/tmp' };
  let config = addCluster(empty(), 'a', entry('http://a'));
  config = addCluster(config, 'b', entry('http://b'));
  assert.equal(resolveTarget({ ...config, default: 'b' }, selection(), local).id, 'b');
  assert.equal(
    resolveTarget({ ...config, clusters: { a: entry('http://a') }, default: undefined }, selection(), local)
      .id,
    'a',
  );
  assert.throws(() => resolveTarget({ ...config, default: undefined }, selection(), local), {
    code: 'VALIDATION_FAILED',
  });
});

void test('a cluster without user and password (oscar-cli OIDC) is refused with a hint', () => {
  const config: ClusterConfig = {
    ...empty(),
    clusters: { egi: { endpoint: 'https://oscar.egi.eu', oidc_account_name: 'egi', ssl_verify: true } },
    default: 'egi',
  };
  assert.throws(() => resolveTarget(config, selection(), { env: {}, cwd: '/tmp' }), {
    code: 'VALIDATION_FAILED',
  });
});
