/**
 * @module supervisor/stage-in
 * Puts a job's input into TMP_INPUT_DIR: the object of a storage event (bound or copied from the store
 * without a byte round-trip through Node when the store keeps it as a local file, streamed otherwise), or the
 * decoded body of an http call.
 */
import { constants, createWriteStream } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../storage/object-store.js';
import type { StorageProvider } from '../storage/providers/index.js';
import { decodeHttpBody, type BodyEncoding } from './http-body.js';
import type { ReadOnlyBind } from './script-runner.js';

export interface StagedInput {
  /** The path the script sees as INPUT_FILE_PATH. */
  path: string;
  /** Set when the file is exposed by a bind mount rather than written into TMP_INPUT_DIR. */
  bind: ReadOnlyBind | null;
}

/**
 * The file name an object gets in TMP_INPUT_DIR: the last segment of its key. Names that would escape the
 * folder or be empty fall back to `input`.
 */
export function inputFileName(key: string): string {
  const name = posix.basename(key);
  return name === '' || name === '.' || name === '..' ? 'input' : name;
}

/**
 * Stages a stored object. With `canBind` and a local file, nothing is copied: the runner bind-mounts the file
 * read-only at the returned path. Without a sandbox the file is cloned (reflink where the filesystem can, a
 * copy otherwise) so that the script cannot modify the stored object through it.
 */
export async function stageObject(
  store: ObjectStore,
  object: { bucket: string; key: string },
  inputDir: string,
  canBind: boolean,
): Promise<StagedInput> {
  const path = join(inputDir, inputFileName(object.key));
  const local = await store.localPath(object.bucket, object.key);
  if (local !== null) {
    if (canBind) {
      // bwrap needs an existing mount point; an empty file costs one small write.
      await writeFile(path, '');
      return { path, bind: { source: local, target: path } };
    }
    await copyFile(local, path, constants.COPYFILE_FICLONE);
    return { path, bind: null };
  }
  const { body } = await store.get(object.bucket, object.key);
  await pipeline(body, createWriteStream(path, { flags: 'wx' }));
  return { path, bind: null };
}

/** Stages an object of an external provider (`minio.<id>`, `s3.<id>`, ...): downloaded into TMP_INPUT_DIR. */
export async function stageFromProvider(
  provider: StorageProvider,
  object: { bucket: string; key: string },
  inputDir: string,
  signal?: AbortSignal,
): Promise<StagedInput> {
  const path = join(inputDir, inputFileName(object.key));
  await provider.download(object, path, signal);
  return { path, bind: null };
}

/** Stages the body of an http call as `event-file-<uuid>`, decoded by OSCAR's rule. */
export async function stageHttpBody(
  bodyPath: string,
  inputDir: string,
): Promise<{ path: string; encoding: BodyEncoding }> {
  const decoded = decodeHttpBody(await readFile(bodyPath));
  const path = join(inputDir, `event-file-${randomUUID()}`);
  await writeFile(path, decoded.data, { flag: 'wx' });
  return { path, encoding: decoded.encoding };
}
