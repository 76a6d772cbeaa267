/**
 * @module supervisor/stage-out
 * Collects the files a script left in TMP_OUTPUT_DIR and uploads them to every matching `output`, as
 * OSCAR's supervisor does: key `<folder>/<relative name>`, subfolders kept, prefix/suffix filters.
 * Symbolic links are followed only when they resolve to a regular file inside TMP_OUTPUT_DIR: a script must
 * not be able to publish `/etc/passwd` or the server's data through a link.
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PlatformError } from '../core/index.js';
import type { StorageIoSpec } from '../fdl/service-spec.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ProviderSet } from '../storage/providers/index.js';
import { contentTypeOf } from './content-type.js';

/** The provider id of the embedded store (and of OSCAR's default MinIO). */
export const DEFAULT_PROVIDER = 'minio.default';

export interface OutputFile {
  /** Relative to TMP_OUTPUT_DIR, with `/` separators. */
  name: string;
  /** Absolute path of the bytes (the link target for an accepted symlink). */
  path: string;
}

export interface OutputListing {
  files: OutputFile[];
  /** Entries left out, with why (symlinks leaving the folder, sockets, …), for the job's log. */
  skipped: string[];
}

/** Lists the regular files under `outputDir`, recursively, sorted by name. */
export async function listOutputFiles(outputDir: string): Promise<OutputListing> {
  const listing: OutputListing = { files: [], skipped: [] };
  // Resolved only when a link needs checking: most jobs have none, and it saves a call per job.
  let realRoot: Promise<string> | null = null;
  const rootForLinks = (): Promise<string> => (realRoot ??= realpath(outputDir));
  await walk(outputDir, '', listing, rootForLinks);
  listing.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return listing;
}

async function walk(
  root: string,
  relDir: string,
  listing: OutputListing,
  rootForLinks: () => Promise<string>,
): Promise<void> {
  const entries = await readdir(relDir === '' ? root : join(root, relDir), { withFileTypes: true });
  for (const entry of entries) {
    const name = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
    const path = join(root, name);
    if (entry.isDirectory()) {
      await walk(root, name, listing, rootForLinks);
    } else if (entry.isFile()) {
      listing.files.push({ name, path });
    } else if (entry.isSymbolicLink()) {
      const target = await resolveInside(await rootForLinks(), path);
      if (target === null)
        listing.skipped.push(`${name}: a symbolic link that leaves TMP_OUTPUT_DIR or is broken`);
      else if (target.isFile) listing.files.push({ name, path: target.path });
      else listing.skipped.push(`${name}: a symbolic link to a directory (not followed)`);
    } else {
      listing.skipped.push(`${name}: not a regular file`);
    }
  }
}

async function resolveInside(root: string, path: string): Promise<{ path: string; isFile: boolean } | null> {
  try {
    const target = await realpath(path);
    if (!target.startsWith(root + sep)) return null;
    const info = await stat(target);
    return { path: target, isFile: info.isFile() };
  } catch {
    return null;
  }
}

/** OSCAR's filter: the name starts with one of the prefixes and ends with one of the suffixes (empty = any). */
export function matchesOutput(name: string, output: Pick<StorageIoSpec, 'prefixes' | 'suffixes'>): boolean {
  const prefixOk = output.prefixes.length === 0 || output.prefixes.some((prefix) => name.startsWith(prefix));
  const suffixOk = output.suffixes.length === 0 || output.suffixes.some((suffix) => name.endsWith(suffix));
  return prefixOk && suffixOk;
}

/** The key of an output file in its output's bucket. */
export function outputKey(output: Pick<StorageIoSpec, 'folder'>, name: string): string {
  return output.folder === '' ? name : `${output.folder}/${name}`;
}

/**
 * Fails (not retryable) when an output names a provider the service does not define in its
 * storage_providers (or one Nubes cannot write to, such as rucio): before the script runs, since the
 * compute would be spent for nothing.
 */
export function checkOutputProviders(outputs: StorageIoSpec[], providers: Pick<ProviderSet, 'has'>): void {
  for (const output of outputs) {
    if (output.provider !== DEFAULT_PROVIDER && !providers.has(output.provider)) {
      throw new PlatformError(
        'VALIDATION_FAILED',
        `output "${output.path}" uses storage provider "${output.provider}", which the service's ` +
          `storage_providers do not define (minio, s3, webdav and onedata providers can receive outputs)`,
        { details: { provider: output.provider, path: output.path } },
      );
    }
  }
}

export interface UploadedObject {
  provider: string;
  bucket: string;
  key: string;
}

/** Uploads every file to every output whose filters match it, in listing order then output order. */
export async function uploadOutputs(
  store: ObjectStore,
  outputs: StorageIoSpec[],
  files: OutputFile[],
  /** Who the uploads are recorded as; `service:<name>` keeps a service's outputs from triggering it again. */
  principal: string | undefined,
  /** The service's other providers, for outputs that are not on the embedded store. */
  providers: Pick<ProviderSet, 'has' | 'get'>,
  signal?: AbortSignal,
): Promise<UploadedObject[]> {
  const uploaded: UploadedObject[] = [];
  for (const file of files) {
    for (const output of outputs) {
      if (!matchesOutput(file.name, output)) continue;
      const key = outputKey(output, file.name);
      if (output.provider !== DEFAULT_PROVIDER) {
        const provider = await providers.get(output.provider);
        const { size } = await stat(file.path);
        await provider.upload(
          { bucket: output.bucket, key },
          { path: file.path, sizeBytes: size, contentType: contentTypeOf(file.name) },
          signal,
        );
        uploaded.push({ provider: output.provider, bucket: output.bucket, key });
        continue;
      }
      const body = createReadStream(file.path);
      try {
        await store.put(output.bucket, key, body, {
          contentType: contentTypeOf(file.name),
          ...(principal === undefined ? {} : { principal }),
        });
      } catch (error) {
        body.destroy();
        throw error;
      }
      uploaded.push({ provider: output.provider, bucket: output.bucket, key });
    }
  }
  return uploaded;
}
