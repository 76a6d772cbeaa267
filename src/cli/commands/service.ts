/**
 * @module cli/commands/service
 * `nubes service list|get|delete|run|job`, as oscar-cli's: `run` and `job` send the input base64-encoded
 * with the service's token (fetched from the service unless `-t` is given).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import { ApiClient } from '../api-client.js';
import type { Service } from '../api-schemas.js';
import { println } from '../cli-io.js';
import {
  addTargetOptions,
  connect,
  setExitCode,
  type CommandContext,
  type TargetFlags,
} from '../command-context.js';
import { EXIT_SYSTEM_ERROR, EXIT_USER_ERROR } from '../error-output.js';
import { parseSecondsAsMs } from '../flag-parsers.js';
import { formatTable, formatYaml, mark } from '../output.js';
import { encodedInput } from '../payload.js';
import { writeRunAnswer } from '../run-output.js';

interface InvokeFlags extends TargetFlags {
  fileInput?: string;
  textInput?: string;
  token?: string;
  endpoint?: string;
}

interface RunFlags extends InvokeFlags {
  output?: string;
  raw?: boolean;
  timeout?: number;
}

/** How long `service run` waits for the answer unless --timeout says otherwise. */
const RUN_TIMEOUT_MS = 300_000;

/** Adds `nubes service list|get|delete|run|job` to the `service` group. */
export function registerServiceCommands(service: Command, ctx: CommandContext): void {
  addTargetOptions(service.command('list').alias('ls').description('list the services of a cluster')).action(
    async (flags: TargetFlags) => {
      const client = connect(ctx, flags);
      const services = await client.listServices();
      if (services.length === 0) {
        println(
          ctx.io.stdout,
          `no services on ${client.target.id} (${client.target.endpoint}); deploy one with \`nubes apply FDL\``,
        );
        return;
      }
      println(ctx.io.stdout, formatServiceTable(services));
    },
  );

  addTargetOptions(
    service
      .command('get')
      .description("print a service's definition as YAML (token included)")
      .argument('<name>', 'service name'),
  ).action(async (name: string, flags: TargetFlags) => {
    const definition = await connect(ctx, flags).getServiceDefinition(name);
    ctx.io.stdout.write(formatYaml(definition));
  });

  addTargetOptions(
    service
      .command('delete')
      .aliases(['rm', 'remove'])
      .description('delete services (their buckets and files are kept)')
      .argument('<names...>', 'service names'),
  ).action(async (names: string[], flags: TargetFlags) => {
    const client = connect(ctx, flags);
    for (const name of names) {
      try {
        await client.deleteService(name);
        println(ctx.io.stdout, `${mark(true, ctx.io.stdoutIsTty)} deleted service "${name}"`);
      } catch (error) {
        if (
          !(error instanceof PlatformError) ||
          error.code === 'UNAVAILABLE' ||
          error.code === 'UNAUTHENTICATED'
        )
          throw error;
        println(ctx.io.stdout, `${mark(false, ctx.io.stdoutIsTty)} ${error.message}`);
        setExitCode(ctx, error.kind === 'user' ? EXIT_USER_ERROR : EXIT_SYSTEM_ERROR);
      }
    }
  });

  addInvokeOptions(
    addTargetOptions(
      service
        .command('run')
        .aliases(['invoke', 'r'])
        .description('call a service synchronously and print (or save) its answer')
        .argument('<name>', 'service name'),
    ),
  )
    .option(
      '-o, --output <path>',
      'save the answer to a file; to a folder (ending in /) extracts a zip answer',
    )
    .option('--raw', 'ask for the raw answer and do not base64-decode it')
    .option('--timeout <seconds>', 'how long to wait for the answer (default: 300)', parseSecondsAsMs)
    .action(async (name: string, flags: RunFlags) => {
      const input = inputOf(ctx, flags);
      const { client, token } = await invocationTarget(ctx, name, flags);
      let answer: Buffer;
      try {
        answer = await client.run(
          name,
          token,
          encodedInput(input),
          flags.timeout ?? RUN_TIMEOUT_MS,
          flags.raw === true,
        );
      } catch (error) {
        printJobLog(ctx, error);
        throw error;
      }
      writeRunAnswer(ctx.io, answer, { raw: flags.raw === true, output: flags.output, serviceName: name });
    });

  addInvokeOptions(
    addTargetOptions(
      service
        .command('job')
        .alias('j')
        .description('call a service asynchronously (a queued job); prints the job id')
        .argument('<name>', 'service name'),
    ),
  ).action(async (name: string, flags: InvokeFlags) => {
    const input = inputOf(ctx, flags);
    const { client, token } = await invocationTarget(ctx, name, flags);
    const jobId = await client.submitJob(name, token, encodedInput(input));
    if (jobId !== undefined) println(ctx.io.stdout, jobId);
    else println(ctx.io.stdout, `${mark(true, ctx.io.stdoutIsTty)} job submitted to "${name}"`);
    if (ctx.io.stderrIsTty) println(ctx.io.stderr, `follow it with \`nubes service logs list ${name}\``);
  });
}

function addInvokeOptions(command: Command): Command {
  return command
    .addOption(new Option('-f, --file-input <file>', 'send this file').conflicts('textInput'))
    .addOption(new Option('-i, --text-input <text>', 'send this text').conflicts('fileInput'))
    .option(
      '-t, --token <token>',
      "the service's token (default: read from the service, which needs the cluster's credentials)",
    )
    .option('-e, --endpoint <url>', 'endpoint of a cluster that is not configured (needs --token)');
}

/** The table of `service list`. */
export function formatServiceTable(services: Service[]): string {
  const rows = services.map((service) => [
    service.name,
    service.image ?? '',
    service.cpu === null || service.cpu === undefined ? '' : String(service.cpu),
    service.memory === null || service.memory === undefined ? '' : String(service.memory),
    service.input
      .map((io) => (io.storage_provider === 'minio.default' ? io.path : `${io.storage_provider}:${io.path}`))
      .join(', '),
  ]);
  return formatTable(['name', 'image', 'cpu', 'memory', 'inputs'], rows);
}

/** `-f` or `-i`, exactly one; a file must be readable. */
function inputOf(ctx: CommandContext, flags: InvokeFlags): { file?: string; text?: string } {
  if (flags.fileInput === undefined && flags.textInput === undefined) {
    throw new PlatformError('VALIDATION_FAILED', 'no input: give -f FILE or -i TEXT');
  }
  if (flags.fileInput === undefined) return { text: flags.textInput };
  const file = resolve(ctx.io.cwd, flags.fileInput);
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) throw new PlatformError('VALIDATION_FAILED', `cannot read the input file ${flags.fileInput}`);
  return { file };
}

/** The client and token for /run and /job: `-e`/`-t` as given, else the cluster and the service's own token. */
async function invocationTarget(
  ctx: CommandContext,
  name: string,
  flags: InvokeFlags,
): Promise<{ client: ApiClient; token: string }> {
  if (flags.endpoint !== undefined) {
    if (flags.token === undefined)
      throw new PlatformError('VALIDATION_FAILED', '--endpoint needs --token (the service token)');
    let url: URL;
    try {
      url = new URL(flags.endpoint);
    } catch {
      throw new PlatformError('VALIDATION_FAILED', `--endpoint "${flags.endpoint}" is not a URL`);
    }
    const target = {
      id: url.host,
      endpoint: flags.endpoint.replace(/\/+$/, ''),
      auth: undefined,
      sslVerify: true,
      source: 'config' as const,
      origin: '--endpoint',
    };
    return { client: new ApiClient(target), token: flags.token };
  }
  const client = connect(ctx, flags);
  if (flags.token !== undefined) return { client, token: flags.token };
  const service = await client.getService(name);
  if (!service.token) {
    throw new PlatformError('INTERNAL', `service "${name}" has no token in its definition`, {
      details: { hint: 'give it with -t TOKEN' },
    });
  }
  return { client, token: service.token };
}

/** A failed synchronous call carries the script's log: show it before the error line. */
function printJobLog(ctx: CommandContext, error: unknown): void {
  if (!(error instanceof PlatformError) || typeof error.details !== 'object' || error.details === null)
    return;
  const { log, exit_code: exitCode } = error.details as { log?: unknown; exit_code?: unknown };
  if (typeof log === 'string' && log.trim() !== '') {
    ctx.io.stderr.write(log.endsWith('\n') ? log : log + '\n');
  }
  if (typeof exitCode === 'number') println(ctx.io.stderr, `exit code: ${exitCode}`);
}
