/**
 * @module cli/commands/cluster
 * `nubes cluster add|list|default|info|remove`: the clusters the CLI knows, as oscar-cli's `cluster`
 * group. With none configured, remote commands use the local server (see cluster-target.ts).
 */
import type { Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import { println } from '../cli-io.js';
import {
  addCluster,
  removeCluster,
  requireCluster,
  setDefaultCluster,
  writeClusterConfig,
} from '../cluster-config.js';
import { localTarget } from '../cluster-target.js';
import {
  addConfigOption,
  addTargetOptions,
  connect,
  loadClusterConfig,
  type CommandContext,
  type TargetFlags,
} from '../command-context.js';
import { formatTable, formatYaml, mark } from '../output.js';

/** Adds `nubes cluster …`. */
export function registerClusterCommands(program: Command, ctx: CommandContext): void {
  const cluster = program
    .command('cluster')
    .description('manage the clusters this CLI talks to (~/.nubes/config.yaml)');

  addConfigOption(
    cluster
      .command('add')
      .description('add (or replace) a cluster; the first one added becomes the default')
      .argument('<id>', 'a name for the cluster')
      .argument('<endpoint>', 'its REST API, e.g. https://nubes.example.org')
      .argument('<user>', 'user name for HTTP Basic authentication')
      .argument('[password]', 'password (prefer --password-stdin: arguments are visible to other users)')
      .option('--password-stdin', 'read the password from standard input')
      .option('--disable-ssl', 'do not check the TLS certificate (self-signed test clusters)'),
  ).action(
    async (
      id: string,
      endpoint: string,
      user: string,
      password: string | undefined,
      flags: { passwordStdin?: boolean; disableSsl?: boolean; config?: string },
    ) => {
      const secret = await passwordFrom(ctx, password, flags.passwordStdin === true);
      checkEndpoint(endpoint);
      const { path, config } = loadClusterConfig(ctx, flags);
      const updated = addCluster(config, id, {
        endpoint: endpoint.replace(/\/+$/, ''),
        auth_user: user,
        auth_password: secret,
        ssl_verify: flags.disableSsl !== true,
      });
      writeClusterConfig(path, updated);
      const isDefault = updated.default === id ? ' (default)' : '';
      println(
        ctx.io.stdout,
        `${mark(true, ctx.io.stdoutIsTty)} cluster "${id}" saved in ${path}${isDefault}`,
      );
    },
  );

  addConfigOption(cluster.command('list').alias('ls').description('list the configured clusters')).action(
    (flags: { config?: string }) => {
      const { config } = loadClusterConfig(ctx, flags);
      const ids = Object.keys(config.clusters).sort();
      if (ids.length === 0) {
        const local = localTarget({ env: ctx.io.env, cwd: ctx.io.cwd });
        println(
          ctx.io.stdout,
          `no cluster configured: commands use the local server at ${local.endpoint} (credentials from ${local.origin})`,
        );
        return;
      }
      const rows = ids.map((id) => {
        const entry = requireCluster(config, id);
        return [
          id === config.default ? `${id} *` : id,
          entry.endpoint,
          entry.auth_user ?? '(oidc)',
          entry.ssl_verify ? 'yes' : 'no',
        ];
      });
      println(ctx.io.stdout, formatTable(['id', 'endpoint', 'user', 'ssl verify'], rows));
    },
  );

  addConfigOption(
    cluster
      .command('default')
      .description('show the default cluster, or set it with -s')
      .option('-s, --set <id>', 'make this cluster the default'),
  ).action((flags: { set?: string; config?: string }) => {
    const { path, config } = loadClusterConfig(ctx, flags);
    if (flags.set !== undefined) {
      writeClusterConfig(path, setDefaultCluster(config, flags.set));
      println(ctx.io.stdout, `${mark(true, ctx.io.stdoutIsTty)} default cluster: ${flags.set}`);
      return;
    }
    if (config.default !== undefined) println(ctx.io.stdout, config.default);
    else if (Object.keys(config.clusters).length === 0)
      println(ctx.io.stdout, 'local (no cluster configured: the local server is used)');
    else
      throw new PlatformError('NOT_FOUND', 'no default cluster is set', {
        details: { hint: 'set one with `nubes cluster default -s ID`' },
      });
  });

  addTargetOptions(
    cluster
      .command('info')
      .description("show a cluster's version and configuration (GET /system/info and /system/config)"),
  ).action(async (flags: TargetFlags) => {
    const client = connect(ctx, flags);
    const [info, config] = await Promise.all([client.info(), client.rawSystemConfig()]);
    const shown = {
      cluster: client.target.id,
      endpoint: client.target.endpoint,
      info,
      config: maskSecrets(config),
    };
    ctx.io.stdout.write(formatYaml(shown));
  });

  addConfigOption(
    cluster
      .command('remove')
      .aliases(['rm', 'delete'])
      .description('forget a cluster')
      .argument('<id>', 'cluster id'),
  ).action((id: string, flags: { config?: string }) => {
    const { path, config } = loadClusterConfig(ctx, flags);
    const updated = removeCluster(config, id);
    writeClusterConfig(path, updated);
    const note =
      config.default === id
        ? updated.default
          ? `; the default is now "${updated.default}"`
          : '; no cluster is left, commands use the local server'
        : '';
    println(ctx.io.stdout, `${mark(true, ctx.io.stdoutIsTty)} cluster "${id}" removed${note}`);
  });
}

/** An endpoint must be an http(s) URL: `lab:8080` parses as a URL of scheme `lab:`, so the scheme is checked too. */
function checkEndpoint(endpoint: string): void {
  let protocol = '';
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new PlatformError('VALIDATION_FAILED', `endpoint "${endpoint}" is not an http:// or https:// URL`, {
      details: { hint: 'write it with its scheme, e.g. http://127.0.0.1:8080' },
    });
  }
}

async function passwordFrom(
  ctx: CommandContext,
  given: string | undefined,
  fromStdin: boolean,
): Promise<string> {
  if (given !== undefined && fromStdin)
    throw new PlatformError(
      'VALIDATION_FAILED',
      'give the password as an argument or with --password-stdin, not both',
      {
        details: { hint: 'prefer --password-stdin: arguments are visible to other users of the machine' },
      },
    );
  if (given !== undefined) return given;
  if (!fromStdin) {
    throw new PlatformError('VALIDATION_FAILED', 'the password is missing', {
      details: { hint: 'give it as the 4th argument, or pipe it in with --password-stdin' },
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password === '') throw new PlatformError('VALIDATION_FAILED', 'no password on standard input');
  return password;
}

/** The config as shown: the caller's S3 secret key is not printed. */
function maskSecrets(config: Record<string, unknown>): Record<string, unknown> {
  const provider = config['minio_provider'];
  if (typeof provider !== 'object' || provider === null) return config;
  return { ...config, minio_provider: { ...provider, secret_key: '********' } };
}
