/**
 * @module cli/command-context
 * What every command group receives: the process I/O, a place to record an exit code for commands that
 * report their own failures (fdl validate, service delete A B), and the shared "which cluster" options.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { defaultConfigPath, readClusterConfig, type ClusterConfig } from './cluster-config.js';
import { resolveTarget } from './cluster-target.js';

/** Shared by the commands of one invocation. */
export interface CommandContext {
  io: CliIo;
  /** Raised (never lowered) by commands that print their own failures instead of throwing. */
  exitCode: number;
}

/** Records an exit code; the highest one recorded wins. */
export function setExitCode(ctx: CommandContext, code: number): void {
  ctx.exitCode = Math.max(ctx.exitCode, code);
}

/** The options of every command that talks to a cluster. */
export interface TargetFlags {
  cluster?: string;
  config?: string;
  dataDir?: string;
}

/** Adds `-c/--cluster`, `--config` and `--data-dir` to a command that talks to a cluster. */
export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '-c, --cluster <id>',
      'cluster to use (default: the default cluster, or the local server when none is configured)',
    )
    .option('--config <file>', 'clusters config file (default: ~/.nubes/config.yaml)')
    .option(
      '--data-dir <dir>',
      "local server's data folder, where its credentials are (default: ./.nubes-data)",
    );
}

/** Adds `--config` alone, for the commands that manage the config file. */
export function addConfigOption(command: Command): Command {
  return command.option('--config <file>', 'clusters config file (default: ~/.nubes/config.yaml)');
}

/** The config file path for these flags. */
export function configPathOf(ctx: CommandContext, flags: { config?: string }): string {
  return flags.config !== undefined ? resolve(ctx.io.cwd, flags.config) : defaultConfigPath(ctx.io.homeDir);
}

/** Reads the config file named by the flags. */
export function loadClusterConfig(
  ctx: CommandContext,
  flags: { config?: string },
): { path: string; config: ClusterConfig } {
  const path = configPathOf(ctx, flags);
  return { path, config: readClusterConfig(path) };
}

/** An API client for the cluster the flags select (`clusterId` overrides `-c` when given). */
export function connect(
  ctx: CommandContext,
  flags: TargetFlags,
  options: { clusterId?: string; timeoutMs?: number } = {},
): ApiClient {
  const { path, config } = loadClusterConfig(ctx, flags);
  const target = resolveTarget(
    config,
    { clusterId: options.clusterId ?? flags.cluster, dataDir: flags.dataDir, configPath: path },
    { env: ctx.io.env, cwd: ctx.io.cwd },
  );
  return new ApiClient(target, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
}
