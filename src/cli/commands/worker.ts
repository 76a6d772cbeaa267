/**
 * @module cli/commands/worker
 * `nubes worker --api URL --site NAME --slots N`: runs this machine as a scheduler site until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { PlatformError, createLogger } from '../../core/index.js';
import { println } from '../cli-io.js';
import type { CommandContext } from '../command-context.js';
import { parsePositiveInt } from '../flag-parsers.js';

interface WorkerFlags {
  api: string;
  site: string;
  slots: number;
  token?: string;
  pollMs?: number;
}

/** Adds `nubes worker`. */
export function registerWorkerCommand(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run scheduler partitions on this machine as a site (local processes)')
    .requiredOption('--api <url>', 'the Nubes API URL')
    .requiredOption('--site <name>', "this site's name (created by the admin: POST /system/scheduler/sites)")
    .requiredOption('--slots <n>', 'partitions to run at once', parsePositiveInt)
    .option('--token <token>', "the site's token (default: $NUBES_SITE_TOKEN)")
    .option(
      '--poll-ms <ms>',
      'how often to ask for work while slots are free (default: 1000)',
      parsePositiveInt,
    )
    .action(async (flags: WorkerFlags) => {
      const token = flags.token ?? ctx.io.env['NUBES_SITE_TOKEN'];
      if (token === undefined || token === '')
        throw new PlatformError(
          'VALIDATION_FAILED',
          'the site token is missing: give --token or set NUBES_SITE_TOKEN',
        );
      const logger = createLogger({ level: 'info' });
      const { WorkerAgent } = await import('../../scheduler/worker-agent.js');
      const agent = new WorkerAgent({
        apiUrl: flags.api,
        site: flags.site,
        token,
        slots: flags.slots,
        ...(flags.pollMs === undefined ? {} : { pollMs: flags.pollMs }),
        env: ctx.io.env,
        logger,
      });
      let remove: () => void = () => undefined;
      const stop = new Promise<string>((resolve) => {
        remove = ctx.io.onShutdownSignal((name) => {
          remove();
          resolve(name);
        });
      });
      await agent.start();
      println(
        ctx.io.stderr,
        `site "${flags.site}" running up to ${flags.slots} partitions from ${flags.api}`,
      );
      const signal = await stop;
      println(ctx.io.stderr, `${signal}: stopping partitions`);
      await agent.close();
      logger.flush();
    });
}
