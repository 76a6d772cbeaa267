/**
 * @module api/upload-staging
 * Parts of the dashboard's multipart uploads, each a file under `<dir>/<upload id>/`, until the upload is
 * completed (the parts in order become one object) or aborted. Upload ids are random hex, checked before
 * any path is built from them.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PlatformError, newId } from '../core/index.js';

export const MAX_PARTS = 10_000;
const UPLOAD_ID_PATTERN = /^[0-9a-z]{8,64}$/;

export interface StagedUpload {
  bucket: string;
  key: string;
  createdMs: number;
}

export class UploadStaging {
  constructor(private readonly dir: string) {}

  private folder(uploadId: string): string {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) {
      throw new PlatformError('NOT_FOUND', `no upload "${uploadId}"`);
    }
    return join(this.dir, uploadId);
  }

  async create(bucket: string, key: string, nowMs: number): Promise<string> {
    const uploadId = newId()
      .toLowerCase()
      .replace(/[^0-9a-z]/g, '');
    const folder = this.folder(uploadId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const description: StagedUpload = { bucket, key, createdMs: nowMs };
    await writeFile(join(folder, 'upload.json'), JSON.stringify(description));
    return uploadId;
  }

  async describe(uploadId: string): Promise<StagedUpload> {
    try {
      return JSON.parse(await readFile(join(this.folder(uploadId), 'upload.json'), 'utf8')) as StagedUpload;
    } catch (error) {
      if (error instanceof PlatformError) throw error;
      throw new PlatformError('NOT_FOUND', `no upload "${uploadId}"`);
    }
  }

  /** Writes part `partNumber` (1..MAX_PARTS), replacing an earlier try of the same part. */
  async putPart(uploadId: string, partNumber: number, body: Readable): Promise<number> {
    await this.describe(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new PlatformError('BAD_REQUEST', `part numbers go from 1 to ${MAX_PARTS}`);
    }
    const path = join(this.folder(uploadId), `part-${partNumber}`);
    // Written aside and renamed: a part cut short (a full disk, a dropped connection) leaves nothing behind.
    const temporary = `${path}.${newId().toLowerCase()}.tmp`;
    try {
      await pipeline(body, createWriteStream(temporary, { flags: 'wx' }));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return (await stat(path)).size;
  }

  /** The parts 1..count as one stream; fails with BAD_REQUEST when one is missing. */
  async concatenate(uploadId: string, count: number): Promise<{ body: Readable; size: number }> {
    const folder = this.folder(uploadId);
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTS) {
      throw new PlatformError('BAD_REQUEST', `an upload has 1 to ${MAX_PARTS} parts`);
    }
    let size = 0;
    for (let part = 1; part <= count; part++) {
      try {
        size += (await stat(join(folder, `part-${part}`))).size;
      } catch {
        throw new PlatformError('BAD_REQUEST', `part ${part} of upload "${uploadId}" was not uploaded`);
      }
    }
    const body = new PassThrough();
    void (async () => {
      try {
        for (let part = 1; part <= count; part++) {
          await pipeline(createReadStream(join(folder, `part-${part}`)), body, { end: false });
        }
        body.end();
      } catch (error) {
        body.destroy(error as Error);
      }
    })();
    return { body, size };
  }

  async remove(uploadId: string): Promise<void> {
    await rm(this.folder(uploadId), { recursive: true, force: true });
  }

  /** Removes uploads older than `maxAgeMs` (abandoned by closed browser tabs). */
  async sweep(maxAgeMs: number, nowMs: number): Promise<number> {
    let removed = 0;
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      try {
        const upload = await this.describe(name);
        if (nowMs - upload.createdMs <= maxAgeMs) continue;
      } catch {
        // not an upload folder of ours, or unreadable: leave it unless it is one
        if (!UPLOAD_ID_PATTERN.test(name)) continue;
      }
      await rm(join(this.dir, name), { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }
}
