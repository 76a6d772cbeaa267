/**
 * @module cli/commands/worker
 * `nubes worker --api URL --site NAME --slots N [--slurm [--partition P] [--time T] [--mem M] [--gres G]]`: runs this machine as a scheduler
 * site until SIGINT/SIGTERM, its partitions as local processes or (`--slurm`) as Slurm jobs.
 */
import type { Command } from 'commander';
import { PlatformError, createLogger } from '../../core/index.js';
import { println } from '../cli-io.js';
import type { CommandContext } from '../command-context.js';
import { parsePositiveInt, parseSlurmGres, parseSlurmMemory, parseSlurmTime } from '../flag-parsers.js';

interface WorkerFlags {
  api: string;
  site: string;
  slots: number;
  token?: string;
  pollMs?: number;
  slurm?: boolean;
  partition?: string;
  account?: string;
  qos?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  gres?: string;
  slurmConf?: string;
  workDir?: string;
}

/** Adds `nubes worker`. */
export function registerWorkerCommand(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run scheduler partitions as a site: local processes, or Slurm jobs with --slurm')
    .requiredOption('--api <url>', 'the Nubes API URL')
    .requiredOption('--site <name>', "this site's name (created by the admin: POST /system/scheduler/sites)")
    .requiredOption('--slots <n>', 'partitions to run at once', parsePositiveInt)
    .option('--token <token>', "the site's token (default: $NUBES_SITE_TOKEN)")
    .option(
      '--poll-ms <ms>',
      'how often to ask for work while slots are free (default: 1000)',
      parsePositiveInt,
    )
    .option('--slurm', 'submit each partition to Slurm with sbatch instead of running it here')
    .option('--partition <name>', 'the Slurm partition of the jobs (with --slurm)')
    .option('--account <name>', 'the Slurm account of the jobs (with --slurm)')
    .option('--qos <name>', 'the Slurm QOS of the jobs (with --slurm)')
    .option(
      '--time <limit>',
      'the Slurm time limit of each job, e.g. 30 or 2:00:00 (with --slurm)',
      parseSlurmTime,
    )
    .option('--cpus-per-task <n>', 'CPUs of each job (with --slurm)', parsePositiveInt)
    .option('--mem <size>', 'memory of each job, e.g. 4G (with --slurm)', parseSlurmMemory)
    .option('--gres <list>', 'generic resources of each job, e.g. gpu:1 (with --slurm)', parseSlurmGres)
    .option('--slurm-conf <path>', 'slurm.conf for sbatch, squeue and scancel (default: $SLURM_CONF)')
    .option(
      '--work-dir <dir>',
      'where partition folders go; with --slurm, a folder the compute nodes share (default: the OS temp folder)',
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
      const { slurmPartitionRunner } = await import('../../scheduler/partition-runners.js');
      const slurmOnly = {
        partition: flags.partition,
        account: flags.account,
        qos: flags.qos,
        time: flags.time,
        cpusPerTask: flags.cpusPerTask,
        memory: flags.mem,
        gres: flags.gres,
        slurmConf: flags.slurmConf,
      };
      const given = Object.fromEntries(Object.entries(slurmOnly).filter(([, value]) => value !== undefined));
      if (flags.slurm !== true && Object.keys(given).length > 0)
        throw new PlatformError(
          'VALIDATION_FAILED',
          '--partition, --account, --qos, --time, --cpus-per-task, --mem, --gres and --slurm-conf need --slurm',
        );
      const runner =
        flags.slurm === true ? slurmPartitionRunner({ baseEnv: ctx.io.env, logger, ...given }) : undefined;
      const agent = new WorkerAgent({
        apiUrl: flags.api,
        site: flags.site,
        token,
        slots: flags.slots,
        ...(flags.pollMs === undefined ? {} : { pollMs: flags.pollMs }),
        env: ctx.io.env,
        logger,
        ...(runner === undefined ? {} : { runner }),
        ...(flags.workDir === undefined ? {} : { workDir: flags.workDir }),
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
        `site "${flags.site}" running up to ${flags.slots} partitions from ${flags.api}${flags.slurm === true ? ' as Slurm jobs' : ''}`,
      );
      const signal = await stop;
      println(ctx.io.stderr, `${signal}: stopping partitions`);
      await agent.close();
      logger.flush();
    });
}
