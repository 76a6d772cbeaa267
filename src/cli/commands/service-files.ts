/**
 * @module cli/commands/service-files
 * `nubes service put-file|get-file|list-files`: a service's input and output files, through S3, with
 * oscar-cli's argument shapes and defaults (provider `minio.default`; the service's first input path for
 * uploads, its first output path for downloads).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/index.js';
import type { Service, StorageIo } from '../api-schemas.js';
import { println } from '../cli-io.js';
import { addTargetOptions, connect, type CommandContext, type TargetFlags } from '../command-context.js';
import { formatBytes, formatTable, formatTime, mark } from '../output.js';
import { createProgress } from '../progress.js';
import {
  DEFAULT_PROVIDER,
  createS3Client,
  downloadFile,
  latestObject,
  listObjects,
  looksLikeProvider,
  normalizeProvider,
  objectSize,
  providerAccess,
  splitRemotePath,
  uploadFile,
  type RemoteObject,
} from '../storage-client.js';

/** Adds the file commands to the `service` group. */
export function registerServiceFileCommands(service: Command, ctx: CommandContext): void {
  addTargetOptions(
    service
      .command('put-file')
      .alias('pf')
      .description("upload a file into a service's input (starting a job when it matches the input)")
      .argument('<name>', 'service name')
      .argument(
        '<args...>',
        '[PROVIDER] LOCAL_FILE [REMOTE_PATH]: provider defaults to minio.default, remote path to the first input path',
      ),
  ).action(async (name: string, args: string[], flags: TargetFlags) => {
    const parsed = parsePutFileArgs(args);
    const local = resolve(ctx.io.cwd, parsed.local);
    if (!existsSync(local) || !statSync(local).isFile())
      throw new PlatformError('VALIDATION_FAILED', `cannot read the local file ${parsed.local}`);
    const client = connect(ctx, flags);
    const svc = await client.getService(name);
    const remotePath = uploadPath(svc, parsed.provider, local, parsed.remote);
    const remote = splitRemotePath(remotePath);
    const s3 = await createS3Client(await providerAccess(client, svc, parsed.provider));
    const progress = await createProgress(ctx.io, basename(local), statSync(local).size);
    try {
      await uploadFile(s3, local, remote, progress);
    } finally {
      progress.stop();
      s3.destroy();
    }
    println(
      ctx.io.stdout,
      `${mark(true, ctx.io.stdoutIsTty)} uploaded ${parsed.local} to ${parsed.provider}:${remote.bucket}/${remote.key}`,
    );
  });

  addTargetOptions(
    service
      .command('get-file')
      .alias('gf')
      .description("download a file from a service's storage; prints the local path")
      .argument('<name>', 'service name')
      .argument(
        '[args...]',
        '[PROVIDER] REMOTE_PATH [LOCAL_FILE]: provider defaults to the first output provider',
      )
      .option(
        '--download-latest-into [path]',
        'download the most recent file under REMOTE_PATH (default: the first output path) into this folder',
      ),
  ).action(
    async (name: string, args: string[], flags: TargetFlags & { downloadLatestInto?: string | boolean }) => {
      const latest = flags.downloadLatestInto !== undefined;
      const latestInto = typeof flags.downloadLatestInto === 'string' ? flags.downloadLatestInto : undefined;
      const parsed = parseGetFileArgs(args, latest);
      if (latestInto !== undefined && parsed.local !== undefined) {
        throw new PlatformError(
          'VALIDATION_FAILED',
          '--download-latest-into already names the destination; do not give LOCAL_FILE as well',
        );
      }
      const client = connect(ctx, flags);
      const svc = await client.getService(name);
      const provider = parsed.provider ?? defaultOutputProvider(svc);
      const s3 = await createS3Client(await providerAccess(client, svc, provider));
      try {
        let remotePath = parsed.remote ?? defaultOutputPath(svc, provider);
        if (latest) {
          const found = latestObject(await listObjects(s3, splitRemotePath(remotePath)));
          if (found === undefined)
            throw new PlatformError('OBJECT_NOT_FOUND', `no files under ${remotePath}`);
          remotePath = found.path;
        }
        const remote = splitRemotePath(remotePath);
        if (remote.key === '')
          throw new PlatformError('VALIDATION_FAILED', `"${remotePath}" is a bucket, not a file`);
        const local =
          latestInto !== undefined
            ? latestDestination(latestInto, basename(remote.key), ctx.io.cwd)
            : resolve(ctx.io.cwd, parsed.local ?? basename(remote.key));
        mkdirSync(dirname(local), { recursive: true });
        const progress = await createProgress(ctx.io, basename(remote.key), await objectSize(s3, remote));
        try {
          await downloadFile(s3, remote, local, progress);
        } finally {
          progress.stop();
        }
        println(ctx.io.stdout, local);
      } finally {
        s3.destroy();
      }
    },
  );

  addTargetOptions(
    service
      .command('list-files')
      .alias('lsf')
      .description("list a service's files (default: every input and output path)")
      .argument('<name>', 'service name')
      .argument('[args...]', '[PROVIDER] [PATH]'),
  ).action(async (name: string, args: string[], flags: TargetFlags) => {
    const parsed = parseListFilesArgs(args);
    const client = connect(ctx, flags);
    const svc = await client.getService(name);
    const provider = parsed.provider ?? DEFAULT_PROVIDER;
    const paths = parsed.path !== undefined ? [parsed.path] : servicePaths(svc, provider);
    if (paths.length === 0)
      throw new PlatformError(
        'VALIDATION_FAILED',
        `service "${name}" has no input or output path on ${provider}; give a PATH`,
      );
    const s3 = await createS3Client(await providerAccess(client, svc, provider));
    const objects: RemoteObject[] = [];
    try {
      for (const path of paths) objects.push(...(await listObjects(s3, splitRemotePath(path))));
    } finally {
      s3.destroy();
    }
    if (objects.length === 0) {
      println(ctx.io.stdout, `no files under ${paths.join(', ')}`);
      return;
    }
    const rows = objects.map((object) => [
      object.path,
      formatBytes(object.size),
      formatTime(object.lastModified),
    ]);
    println(ctx.io.stdout, formatTable(['path', 'size', 'modified (utc)'], rows));
  });
}

/** `[PROVIDER] LOCAL [REMOTE]` of put-file. */
export function parsePutFileArgs(args: string[]): {
  provider: string;
  local: string;
  remote: string | undefined;
} {
  const [first, second, third] = args;
  if (args.length === 1 && first !== undefined)
    return { provider: DEFAULT_PROVIDER, local: first, remote: undefined };
  if (args.length === 2 && first !== undefined && second !== undefined) {
    return looksLikeProvider(first)
      ? { provider: normalizeProvider(first), local: second, remote: undefined }
      : { provider: DEFAULT_PROVIDER, local: first, remote: second };
  }
  if (args.length === 3 && first !== undefined && second !== undefined && third !== undefined) {
    if (!looksLikeProvider(first))
      throw new PlatformError(
        'VALIDATION_FAILED',
        `"${first}" is not a storage provider (e.g. minio.default)`,
      );
    return { provider: normalizeProvider(first), local: second, remote: third };
  }
  throw new PlatformError('VALIDATION_FAILED', 'put-file takes NAME [PROVIDER] LOCAL_FILE [REMOTE_PATH]');
}

/** `[PROVIDER] [REMOTE] [LOCAL]` of get-file; REMOTE may be left out only for --download-latest-into. */
export function parseGetFileArgs(
  args: string[],
  latest: boolean,
): { provider?: string; remote?: string; local?: string } {
  const [first, second, third] = args;
  const needRemote = (): never => {
    throw new PlatformError(
      'VALIDATION_FAILED',
      'REMOTE_PATH is missing (it may be left out only with --download-latest-into)',
    );
  };
  if (first === undefined) return latest ? {} : needRemote();
  if (second === undefined) {
    if (looksLikeProvider(first)) return latest ? { provider: normalizeProvider(first) } : needRemote();
    return { remote: first };
  }
  if (third === undefined) {
    return looksLikeProvider(first)
      ? { provider: normalizeProvider(first), remote: second }
      : { remote: first, local: second };
  }
  if (args.length > 3)
    throw new PlatformError('VALIDATION_FAILED', 'get-file takes NAME [PROVIDER] REMOTE_PATH [LOCAL_FILE]');
  if (!looksLikeProvider(first))
    throw new PlatformError('VALIDATION_FAILED', `"${first}" is not a storage provider (e.g. minio.default)`);
  return { provider: normalizeProvider(first), remote: second, local: third };
}

/** `[PROVIDER] [PATH]` of list-files. */
export function parseListFilesArgs(args: string[]): { provider?: string; path?: string } {
  const [first, second] = args;
  if (args.length > 2)
    throw new PlatformError('VALIDATION_FAILED', 'list-files takes NAME [PROVIDER] [PATH]');
  if (first === undefined) return {};
  if (second === undefined)
    return looksLikeProvider(first) ? { provider: normalizeProvider(first) } : { path: first };
  if (!looksLikeProvider(first))
    throw new PlatformError('VALIDATION_FAILED', `"${first}" is not a storage provider (e.g. minio.default)`);
  return { provider: normalizeProvider(first), path: second };
}

/** Where put-file writes: REMOTE as given (a trailing `/` means a folder), else the first input path on the provider. */
export function uploadPath(
  service: Service,
  provider: string,
  localFile: string,
  remote: string | undefined,
): string {
  const name = basename(localFile);
  if (remote !== undefined) return remote.endsWith('/') ? remote + name : remote;
  const input = firstOn(service.input, provider);
  if (input === undefined) {
    throw new PlatformError('VALIDATION_FAILED', `service "${service.name}" has no input on ${provider}`, {
      details: { hint: 'give the REMOTE_PATH (BUCKET/FOLDER/FILE)' },
    });
  }
  return `${input.path.replace(/^\/+|\/+$/g, '')}/${name}`;
}

/** The first output's provider, else minio.default. */
export function defaultOutputProvider(service: Service): string {
  return service.output[0] ? normalizeProvider(service.output[0].storage_provider) : DEFAULT_PROVIDER;
}

/** The first output path on the provider. */
export function defaultOutputPath(service: Service, provider: string): string {
  const output = firstOn(service.output, provider);
  if (output === undefined) {
    throw new PlatformError('VALIDATION_FAILED', `service "${service.name}" has no output on ${provider}`, {
      details: { hint: 'give the REMOTE_PATH (BUCKET/FOLDER/FILE)' },
    });
  }
  return output.path;
}

/** Every input and output path of the service on the provider, without repeats. */
export function servicePaths(service: Service, provider: string): string[] {
  const all = [...service.input, ...service.output].filter(
    (io) => normalizeProvider(io.storage_provider) === normalizeProvider(provider),
  );
  return [...new Set(all.map((io) => io.path))];
}

/** For --download-latest-into: a folder (existing, ending in `/`, or without extension) gets the file's own name. */
export function latestDestination(into: string, fileName: string, cwd: string): string {
  const target = resolve(cwd, into);
  const isFolder =
    /[\\/]$/.test(into) || (existsSync(target) && statSync(target).isDirectory()) || extname(into) === '';
  return isFolder ? join(target, fileName) : target;
}

function firstOn(list: StorageIo[], provider: string): StorageIo | undefined {
  return list.find((io) => normalizeProvider(io.storage_provider) === normalizeProvider(provider));
}
