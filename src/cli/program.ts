/**
 * @module cli/program
 * The `nubes` command tree (commander) and the one place where a command's outcome becomes output and
 * an exit code: 0 ok, 1 user error (bad flags, PlatformError of kind `user`), 2 system error.
 */
import { Command, CommanderError } from 'commander';
import type { CliIo } from './cli-io.js';
import type { CommandContext } from './command-context.js';
import { registerApplyCommands } from './commands/apply.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerFdlCommands } from './commands/fdl.js';
import { registerMapReduceCommands } from './commands/mapreduce.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerServerCommand } from './commands/server.js';
import { registerServiceCommands } from './commands/service.js';
import { registerServiceFileCommands } from './commands/service-files.js';
import { registerServiceLogCommands } from './commands/service-logs.js';
import { registerWorkerCommand } from './commands/worker.js';
import { EXIT_OK, EXIT_USER_ERROR, reportError } from './error-output.js';
import { nubesVersion } from './version.js';

/** Builds the command tree. Settings made here (strict arguments, error output) are inherited by every subcommand. */
export function createProgram(ctx: CommandContext): Command {
  const { io } = ctx;
  const program = new Command('nubes')
    .description('Nubes: a serverless platform for scientific computing (OSCAR-compatible)')
    .version(nubesVersion(), '-V, --version', 'print the version')
    .option('--debug', 'show stack traces and error codes')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    .exitOverride();

  registerServerCommand(program, ctx);
  registerApplyCommands(program, ctx);
  registerFdlCommands(program, ctx);
  registerClusterCommands(program, ctx);
  const service = program.command('service').alias('svc').description('manage and call services');
  registerServiceCommands(service, ctx);
  registerServiceLogCommands(service, ctx);
  registerServiceFileCommands(service, ctx);
  registerMapReduceCommands(program, ctx);
  registerJobCommands(program, ctx);
  registerWorkerCommand(program, ctx);
  return program;
}

/** Runs `nubes ARGS…` (without the node and script paths) and resolves to the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const ctx: CommandContext = { io, exitCode: EXIT_OK };
  const program = createProgram(ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already written its message (or the help / version) to our streams.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USER_ERROR;
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true || args.includes('--debug');
    const report = reportError(error, { debug });
    for (const line of report.lines) io.stderr.write(line + '\n');
    return report.exitCode;
  }
}
