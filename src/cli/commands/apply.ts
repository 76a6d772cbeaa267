/**
 * @module cli/commands/apply
 * `nubes apply FDL` and `nubes delete FDL`, as oscar-cli: each service of the file goes to the cluster
 * the file names (or `-c`); an existing service is updated (PUT), a new one created (POST).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import type { ApiClient } from '../api-client.js';
import { println } from '../cli-io.js';
import { LOCAL_CLUSTER_ID } from '../cluster-target.js';
import {
  addTargetOptions,
  connect,
  loadClusterConfig,
  setExitCode,
  type CommandContext,
  type TargetFlags,
} from '../command-context.js';
import { EXIT_SYSTEM_ERROR, EXIT_USER_ERROR, hintOf } from '../error-output.js';
import { fdlDiagnostics, loadFdl, type FdlFile, type FdlService } from '../fdl-loader.js';
import { formatDiagnostic, mark, plural } from '../output.js';

interface ApplyFlags extends TargetFlags {
  name?: string;
}

/** Adds `nubes apply` and `nubes delete`. */
export function registerApplyCommands(program: Command, ctx: CommandContext): void {
  addTargetOptions(
    program
      .command('apply')
      .alias('a')
      .description('create or update the services of an FDL file')
      .argument('<fdl>', 'FDL file (OSCAR or SCAR)')
      .option(
        '-n, --name <name>',
        'deploy the (single) service under another name; paths in its bucket follow',
      ),
  ).action(async (file: string, flags: ApplyFlags) => {
    const fdl = await readFdlOrReport(ctx, file);
    if (flags.name !== undefined) {
      if (fdl.services.length !== 1) {
        throw new PlatformError(
          'VALIDATION_FAILED',
          `--name renames one service, and ${file} defines ${fdl.services.length}`,
        );
      }
      const only = fdl.services[0] as FdlService;
      fdl.services[0] = { ...only, json: renameService(only.json, flags.name) };
    }
    const what = [plural(fdl.services.length, 'service')];
    if (fdl.mapreduce.length > 0) what.push(plural(fdl.mapreduce.length, 'MapReduce definition'));
    println(ctx.io.stdout, `Applying ${basename(file)} (${what.join(', ')})`);
    await forEachService(ctx, flags, fdl, async (client, service) => {
      const exists = await client.serviceExists(service.json.name);
      const warnings = await client.putService(service.json, exists ? 'update' : 'create');
      return { verb: exists ? 'updated' : 'created', warnings };
    });
    await forEachDefinition(ctx, flags, fdl, async (client, definition) => {
      const response = await client.send('PUT', definitionPath(definition.name), {
        body: JSON.stringify(definition.json),
        contentType: 'application/json',
      });
      return response.status === 201 ? 'created' : 'updated';
    });
  });

  addTargetOptions(
    program
      .command('delete')
      .aliases(['d', 'rm'])
      .description('delete the services of an FDL file (their buckets and files are kept)')
      .argument('<fdl>', 'FDL file'),
  ).action(async (file: string, flags: TargetFlags) => {
    const fdl = await readFdlOrReport(ctx, file);
    await forEachService(ctx, flags, fdl, async (client, service) => {
      await client.deleteService(service.json.name);
      return { verb: 'deleted', warnings: [] };
    });
    await forEachDefinition(ctx, flags, fdl, async (client, definition) => {
      await client.send('DELETE', definitionPath(definition.name));
      return 'deleted';
    });
  });
}

function definitionPath(name: string): string {
  return `/system/mapreduce/definitions/${encodeURIComponent(name)}`;
}

/**
 * Runs `action` for each MapReduce definition of the file on the target cluster (`-c`, or the default:
 * definitions name no cluster), printing ✓/✗ for each as services are.
 */
async function forEachDefinition(
  ctx: CommandContext,
  flags: TargetFlags,
  fdl: FdlFile,
  action: (client: ApiClient, definition: FdlFile['mapreduce'][number]) => Promise<string>,
): Promise<void> {
  if (fdl.mapreduce.length === 0) return;
  const client = connect(ctx, flags);
  const color = ctx.io.stdoutIsTty;
  for (const definition of fdl.mapreduce) {
    try {
      const verb = await action(client, definition);
      println(
        ctx.io.stdout,
        `${mark(true, color)} ${verb} MapReduce definition "${definition.name}" on ${client.target.id}`,
      );
    } catch (error) {
      if (
        error instanceof PlatformError &&
        (error.code === 'UNAVAILABLE' || error.code === 'UNAUTHENTICATED')
      )
        throw error;
      println(
        ctx.io.stdout,
        `${mark(false, color)} MapReduce definition "${definition.name}" on ${client.target.id}: ${error instanceof Error ? error.message : String(error)}`,
      );
      setExitCode(
        ctx,
        error instanceof PlatformError && error.kind === 'user' ? EXIT_USER_ERROR : EXIT_SYSTEM_ERROR,
      );
    }
  }
}

/** Loads the file and prints its warnings; on errors prints every diagnostic, then throws. */
async function readFdlOrReport(ctx: CommandContext, file: string): Promise<FdlFile> {
  let fdl: FdlFile;
  try {
    fdl = await loadFdl(file);
  } catch (error) {
    const diagnostics = fdlDiagnostics(error);
    if (diagnostics === undefined) throw error;
    for (const diagnostic of diagnostics) println(ctx.io.stderr, formatDiagnostic(diagnostic, ctx.io.cwd));
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    const code = error instanceof PlatformError ? error.code : 'FDL_INVALID';
    throw new PlatformError(code, `${file}: ${plural(errors, 'error')}, nothing was deployed`, {
      cause: error,
      details: {
        hint:
          error instanceof PlatformError
            ? (hintOf(error) ?? 'fix the file and apply it again')
            : 'fix the file and apply it again',
      },
    });
  }
  for (const warning of fdl.warnings) println(ctx.io.stderr, formatDiagnostic(warning, ctx.io.cwd));
  return fdl;
}

type ServiceAction = (
  client: ApiClient,
  service: FdlService,
) => Promise<{ verb: string; warnings: string[] }>;

/**
 * Runs `action` for each service on its cluster, printing ✓/✗ per service. A failure of one service does
 * not stop the others, except when the cluster cannot be reached or refuses the credentials.
 */
async function forEachService(
  ctx: CommandContext,
  flags: TargetFlags,
  fdl: FdlFile,
  action: ServiceAction,
): Promise<void> {
  const { config } = loadClusterConfig(ctx, flags);
  const clients = new Map<string, ApiClient>();
  const color = ctx.io.stdoutIsTty;
  for (const service of fdl.services) {
    const fromFile = service.clusterId;
    const useFileCluster =
      flags.cluster === undefined && fromFile !== null && config.clusters[fromFile] !== undefined;
    const key = flags.cluster ?? (useFileCluster ? fromFile : '');
    let client = clients.get(key);
    if (client === undefined) {
      client = connect(ctx, flags, useFileCluster ? { clusterId: fromFile } : {});
      clients.set(key, client);
      if (
        flags.cluster === undefined &&
        fromFile !== null &&
        !useFileCluster &&
        fromFile !== LOCAL_CLUSTER_ID
      ) {
        println(
          ctx.io.stderr,
          `note: cluster "${fromFile}" of the FDL is not configured; using "${client.target.id}" (${client.target.endpoint})`,
        );
      }
    }
    const name = service.json.name;
    try {
      const { verb, warnings } = await action(client, service);
      println(ctx.io.stdout, `${mark(true, color)} ${verb} service "${name}" on ${client.target.id}`);
      for (const warning of warnings) println(ctx.io.stdout, `    warning: ${warning}`);
    } catch (error) {
      if (
        error instanceof PlatformError &&
        (error.code === 'UNAVAILABLE' || error.code === 'UNAUTHENTICATED')
      )
        throw error;
      const platformError = error instanceof PlatformError ? error : undefined;
      println(
        ctx.io.stdout,
        `${mark(false, color)} service "${name}" on ${client.target.id}: ${error instanceof Error ? error.message : String(error)}`,
      );
      setExitCode(ctx, platformError?.kind === 'user' ? EXIT_USER_ERROR : EXIT_SYSTEM_ERROR);
    }
  }
}

/**
 * Renames a service as oscar-cli's `apply -n` does: the name, and every input/output/mount path whose
 * bucket is the old name (so `grayify/in` becomes `grayify2/in`).
 */
export function renameService<T extends { name: string } & Record<string, unknown>>(
  json: T,
  newName: string,
): T {
  const oldName = json.name;
  const rename = (path: unknown): unknown => {
    if (typeof path !== 'string') return path;
    const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
    const [bucket, ...rest] = trimmed.split('/');
    if (bucket === undefined || bucket.toLowerCase() !== oldName.toLowerCase()) return path;
    return [newName, ...rest].join('/');
  };
  const renameList = (list: unknown): unknown =>
    Array.isArray(list)
      ? list.map((item: unknown) =>
          typeof item === 'object' && item !== null
            ? { ...item, path: rename((item as { path?: unknown }).path) }
            : item,
        )
      : list;
  const renamed: Record<string, unknown> = {
    ...json,
    name: newName,
    input: renameList(json['input']),
    output: renameList(json['output']),
  };
  if (json['input'] === undefined) delete renamed['input'];
  if (json['output'] === undefined) delete renamed['output'];
  const mount = json['mount'];
  if (typeof mount === 'object' && mount !== null)
    renamed['mount'] = { ...mount, path: rename((mount as { path?: unknown }).path) };
  return renamed as T;
}
