/**
 * @module cli/commands/server
 * `nubes server`: loads the config, starts the platform in this process, prints where everything is
 * (and, on the first start, the generated credentials, once), and shuts down cleanly on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  CREDENTIALS_FILE,
  PlatformError,
  createLogger,
  loadConfig,
  type NubesConfig,
} from '../../core/index.js';
import { println, type CliIo } from '../cli-io.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_SYSTEM_ERROR } from '../error-output.js';
import { parsePort, parsePositiveInt, parseSecondsAsMs } from '../flag-parsers.js';
import { nubesVersion } from '../version.js';

interface ServerFlags {
  dataDir?: string;
  host?: string;
  port?: number;
  s3Port?: number;
  sandbox?: string;
  maxConcurrentJobs?: number;
  shutdownGrace?: number;
  logLevel?: string;
}

/** What the banner needs to know about the running platform. */
export interface BannerInput {
  apiUrl: string;
  s3Url: string;
  config: Pick<
    NubesConfig,
    'dataDir' | 'adminUser' | 'adminPassword' | 's3AccessKey' | 's3SecretKey' | 'generatedCredentials'
  >;
  version: string;
  /** Whether `examples/hello.yaml` exists in the working folder (the "try it" lines use it). */
  hasHelloExample: boolean;
}

/** Adds `nubes server`. */
export function registerServerCommand(program: Command, ctx: CommandContext): void {
  program
    .command('server')
    .description('run Nubes in this process: REST API, dashboard, S3 endpoint and job executor')
    .option(
      '--data-dir <dir>',
      'where state, objects and credentials live (default: ./.nubes-data, or $NUBES_DATA_DIR)',
    )
    .option('--host <host>', 'interface to listen on (default: 127.0.0.1)')
    .option('--port <port>', 'REST API port, 0 for any free port (default: 8080)', parsePort)
    .option('--s3-port <port>', 'S3 endpoint port, 0 for any free port (default: 9000)', parsePort)
    .addOption(
      new Option('--sandbox <mode>', 'how scripts are isolated (default: auto)').choices([
        'auto',
        'bwrap',
        'none',
      ]),
    )
    .option(
      '--max-concurrent-jobs <n>',
      'jobs running at once on this machine (default: 2 × CPUs)',
      parsePositiveInt,
    )
    .option(
      '--shutdown-grace <seconds>',
      'on SIGTERM, how long running jobs may finish before they are queued again for the next start (default: 30, or $NUBES_SHUTDOWN_GRACE_MS)',
      parseSecondsAsMs,
    )
    .addOption(
      new Option('--log-level <level>', 'server log level (default: info)').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .action(async (flags: ServerFlags) => {
      await runServer(ctx.io, flags);
    });
}

async function runServer(io: CliIo, flags: ServerFlags): Promise<void> {
  const { shutdownGrace, ...rest } = flags;
  const config = loadConfig({ ...rest, shutdownGraceMs: shutdownGrace }, io.env);
  const logger = createLogger({ level: config.logLevel });
  // Listen for signals before anything is printed: whoever reads the banner may signal at once, and a
  // signal that arrives before a handler exists kills the process without closing the platform.
  let removeStop: () => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    removeStop = io.onShutdownSignal((name) => {
      removeStop();
      resolve(name);
    });
  });
  // Imported here so that the other commands do not load the server's dependencies.
  const { startPlatform } = await import('../../platform.js');
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform(config, logger);
  } catch (error) {
    removeStop();
    throw explainStartFailure(error, config);
  }
  io.stdout.write(
    formatBanner({
      apiUrl: platform.apiUrl,
      s3Url: platform.s3Url,
      config: platform.config,
      version: nubesVersion(),
      hasHelloExample: existsSync(join(io.cwd, 'examples', 'hello.yaml')),
    }),
  );

  const signal = await stopRequested;
  println(
    io.stderr,
    `${signal}: shutting down; running jobs have ${config.shutdownGraceMs / 1000} s to finish (press Ctrl-C again to force)`,
  );
  const removeForce = io.onShutdownSignal(() => {
    println(io.stderr, 'forced exit before the shutdown finished');
    io.exit(EXIT_SYSTEM_ERROR);
  });
  try {
    await platform.close();
  } finally {
    removeForce();
    logger.flush();
  }
  println(io.stderr, 'stopped');
}

/** The lines printed once the server listens. */
export function formatBanner(input: BannerInput): string {
  const { config } = input;
  const lines = [
    `Nubes ${input.version} is running`,
    `  API        ${input.apiUrl}`,
    `  Dashboard  ${input.apiUrl}/ui`,
    `  S3         ${input.s3Url}`,
    `  Admin user ${config.adminUser}`,
    `  Data       ${config.dataDir}`,
  ];
  if (config.generatedCredentials) {
    lines.push(
      '',
      `Generated credentials, shown once (stored in ${join(config.dataDir, CREDENTIALS_FILE)}):`,
      `  admin password  ${config.adminPassword}`,
      `  S3 access key   ${config.s3AccessKey}`,
      `  S3 secret key   ${config.s3SecretKey}`,
    );
  }
  lines.push('', 'Try it, from this folder in another terminal:');
  if (input.hasHelloExample) {
    lines.push(
      '  npx nubes apply examples/hello.yaml',
      "  npx nubes service run hello -i 'Ada'",
      '  npx nubes service list',
    );
  } else {
    lines.push(
      '  npx nubes apply <your-fdl.yaml>',
      '  npx nubes service list',
      '  npx nubes service put-file <service> <file>',
    );
  }
  lines.push('Press Ctrl-C to stop.');
  return lines.join('\n') + '\n';
}

/** A port already taken is the user's to fix; everything else stays as it was thrown. */
function explainStartFailure(error: unknown, config: NubesConfig): unknown {
  const errno = error as NodeJS.ErrnoException & { port?: number };
  if (errno?.code === 'EADDRINUSE') {
    const port =
      errno.port ?? (String(errno.message).includes(`:${config.s3Port}`) ? config.s3Port : config.port);
    return new PlatformError('CONFIG_INVALID', `port ${port} on ${config.host} is already in use`, {
      cause: error,
      details: {
        hint: 'another Nubes server may be running; stop it, or choose other ports with --port and --s3-port (0 = any free port)',
      },
    });
  }
  if (errno?.code === 'EACCES') {
    return new PlatformError('CONFIG_INVALID', `not allowed to listen on ${config.host} (${errno.message})`, {
      cause: error,
      details: { hint: 'ports below 1024 need privileges; use a higher --port' },
    });
  }
  return error;
}
