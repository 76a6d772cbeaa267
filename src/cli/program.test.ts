import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './program.js';
import { memoryIo } from './testing/memory-io.js';
import { tempDir } from './testing/temp-dir.js';

void test('--help prints the commands on stdout and exits 0, at every level', async () => {
  const io = memoryIo();
  assert.equal(await runCli(['--help'], io), 0);
  for (const command of ['server', 'apply', 'delete', 'fdl', 'cluster', 'service'])
    assert.match(io.out(), new RegExp(`\\b${command}\\b`));
  const run = memoryIo();
  assert.equal(await runCli(['service', 'run', '--help'], run), 0);
  assert.match(run.out(), /-f, --file-input <file>/);
  assert.match(run.out(), /-c, --cluster <id>/);
  assert.match(run.out(), /--debug/);
  const logs = memoryIo();
  assert.equal(await runCli(['service', 'logs', 'delete', '--help'], logs), 0);
  assert.match(logs.out(), /--succeeded/);
});

void test('--version prints the version and exits 0', async () => {
  const io = memoryIo();
  assert.equal(await runCli(['--version'], io), 0);
  assert.match(io.out(), /^\d+\.\d+\.\d+/);
});

void test('usage errors exit 1 with one clear line: unknown option, unknown command, extra or missing arguments, bad values', async () => {
  const cases: [string[], RegExp][] = [
    [['apply', 'x.yaml', '--bogus'], /unknown option '--bogus'/],
    [['fdl', 'validate', 'x.yaml', '-c', 'lab'], /unknown option '-c'/],
    [['servce', 'list'], /unknown command 'servce'/],
    [['service', 'get', 'a', 'b'], /too many arguments/],
    [['service', 'get'], /missing required argument 'name'/],
    [['server', '--port', '99999'], /--port <port>.*invalid/],
    [['server', '--log-level', 'loud'], /Allowed choices are trace/],
    [['service', 'run', 'x', '-f', 'a', '-i', 'b'], /cannot be used with option/],
    [['service', 'logs', 'list', 'x', '-s', 'Done'], /unknown status "Done"/],
  ];
  for (const [args, expected] of cases) {
    const io = memoryIo();
    assert.equal(await runCli(args, io), 1, args.join(' '));
    assert.match(io.err(), expected, args.join(' '));
    assert.match(io.err(), /--help/);
    assert.equal(io.out(), '', args.join(' '));
  }
});

void test('cluster add, list, default and remove manage the config file (mode 0600)', async () => {
  const home = tempDir('nubes-cli-home-');
  const configPath = join(home, '.nubes', 'config.yaml');
  const run = async (args: string[], stdin?: string) => {
    const io = memoryIo({ homeDir: home, cwd: home, ...(stdin === undefined ? {} : { stdin }) });
    const code = await runCli(args, io);
    return { code, out: io.out(), err: io.err() };
  };
  assert.equal((await run(['cluster', 'add', 'lab', 'http://lab:8080/', 'admin', 'pw'])).code, 0);
  const added = await run(
    ['cluster', 'add', 'hpc', 'https://hpc.example.org', 'ada', '--password-stdin', '--disable-ssl'],
    's3cret\n',
  );
  assert.equal(added.code, 0, added.err);
  assert.equal(statSync(configPath).mode & 0o777, 0o600);
  const text = readFileSync(configPath, 'utf8');
  assert.match(text, /auth_password: s3cret\n/);
  assert.match(text, /ssl_verify: false/);
  assert.match(text, /endpoint: http:\/\/lab:8080\n/);

  const list = await run(['cluster', 'list']);
  assert.match(list.out, /^ID\s+ENDPOINT\s+USER\s+SSL VERIFY$/m);
  assert.match(list.out, /^lab \*\s+http:\/\/lab:8080\s+admin\s+yes$/m);
  assert.match(list.out, /^hpc\s+https:\/\/hpc\.example\.org\s+ada\s+no$/m);

  assert.equal((await run(['cluster', 'default'])).out, 'lab\n');
  assert.equal((await run(['cluster', 'default', '-s', 'hpc'])).code, 0);
  assert.equal((await run(['cluster', 'default'])).out, 'hpc\n');
  const unknown = await run(['cluster', 'default', '-s', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /cluster "nope" is not configured/);

  const removed = await run(['cluster', 'rm', 'hpc']);
  assert.match(removed.out, /the default is now "lab"/);
  assert.equal((await run(['cluster', 'delete', 'lab'])).code, 0);
  assert.match(
    (await run(['cluster', 'ls'])).out,
    /no cluster configured: commands use the local server at http:\/\/127\.0\.0\.1:8080/,
  );
});

void test('cluster add refuses a missing password, both password forms, and an endpoint that is not a URL', async () => {
  const home = tempDir('nubes-cli-home-');
  for (const args of [
    ['cluster', 'add', 'lab', 'http://lab', 'admin'],
    ['cluster', 'add', 'lab', 'http://lab', 'admin', 'pw', '--password-stdin'],
    ['cluster', 'add', 'lab', 'lab:8080', 'admin', 'pw'],
  ]) {
    const io = memoryIo({ homeDir: home });
    assert.equal(await runCli(args, io), 1, args.join(' '));
    assert.match(io.err(), /^error: .*\nhint: /);
  }
});

void test('--config points at another file; a broken one is a user error naming the file', async () => {
  const dir = tempDir('nubes-cli-cfg-');
  const io = memoryIo({ cwd: dir });
  assert.equal(await runCli(['cluster', 'add', 'x', 'http://x', 'u', 'p', '--config', 'my.yaml'], io), 0);
  assert.ok(statSync(join(dir, 'my.yaml')).isFile());
  writeFileSync(join(dir, 'bad.yaml'), 'clusters:\n  x:\n    endpont: http://x\n');
  const broken = memoryIo({ cwd: dir });
  assert.equal(await runCli(['cluster', 'list', '--config', 'bad.yaml'], broken), 1);
  assert.match(broken.err(), /bad\.yaml: clusters\.x/);
});
