/**
 * @module s3api/multipart-staging
 * Where multipart uploads wait for their completion: one folder per upload under the staging directory,
 * holding the upload's description and one file per part. The store sees the object only once, whole,
 * when the upload completes (so its event fires once, with the final size).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareKeys, type ContentHeaders } from '../storage/index.js';
import { s3Failure } from './s3-errors.js';

export interface UploadDescription {
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  contentHeaders: ContentHeaders;
  principal: string;
  createdMs: number;
}

export interface StagedPart {
  partNumber: number;
  size: number;
  /** Hex MD5 of the part. */
  etag: string;
  lastModifiedMs: number;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
export const MAX_PART_NUMBER = 10_000;

function partFile(partNumber: number): string {
  return `part-${String(partNumber).padStart(5, '0')}`;
}

/** The staging area of multipart uploads. */
export class MultipartStaging {
  constructor(private readonly dir: string) {}

  async create(description: UploadDescription): Promise<string> {
    const uploadId = randomUUID().replace(/-/g, '');
    await mkdir(join(this.dir, uploadId), { recursive: true });
    await writeFile(join(this.dir, uploadId, 'upload.json'), JSON.stringify(description));
    return uploadId;
  }

  /** The upload's description; NoSuchUpload unless it exists for this bucket and key. */
  async describe(uploadId: string, bucket: string, key: string): Promise<UploadDescription> {
    const noSuchUpload = () =>
      s3Failure(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      );
    // The id names a folder: only ids this class made are accepted.
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload();
    let description: UploadDescription;
    try {
      description = JSON.parse(
        await readFile(join(this.dir, uploadId, 'upload.json'), 'utf8'),
      ) as UploadDescription;
    } catch {
      throw noSuchUpload();
    }
    if (description.bucket !== bucket || description.key !== key) throw noSuchUpload();
    return description;
  }

  /** Streams a part to its file (replacing an earlier upload of the same part) and returns its MD5. */
  async writePart(uploadId: string, partNumber: number, body: Readable): Promise<StagedPart> {
    const hash = createHash('md5');
    let size = 0;
    const temporary = join(this.dir, uploadId, `${partFile(partNumber)}.${randomUUID()}.tmp`);
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, hashing, createWriteStream(temporary, { flags: 'wx' }));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const part: StagedPart = { partNumber, size, etag: hash.digest('hex'), lastModifiedMs: Date.now() };
    // The part's description goes beside it, so that completing does not read every part twice.
    const described = `${temporary}.json`;
    await writeFile(described, JSON.stringify(part));
    await rename(temporary, join(this.dir, uploadId, partFile(partNumber)));
    await rename(described, join(this.dir, uploadId, `${partFile(partNumber)}.json`));
    return part;
  }

  /** The parts received so far, by number. */
  async parts(uploadId: string): Promise<Map<number, StagedPart>> {
    const parts = new Map<number, StagedPart>();
    for (const name of await readdir(join(this.dir, uploadId))) {
      if (!/^part-\d{5}\.json$/.test(name)) continue;
      const part = JSON.parse(await readFile(join(this.dir, uploadId, name), 'utf8')) as StagedPart;
      parts.set(part.partNumber, part);
    }
    return parts;
  }

  /** The listed parts' bytes, in order, as one stream. */
  concatenate(uploadId: string, partNumbers: number[]): Readable {
    const dir = join(this.dir, uploadId);
    return Readable.from(
      (async function* () {
        for (const partNumber of partNumbers) yield* createReadStream(join(dir, partFile(partNumber)));
      })(),
    );
  }

  /** The uploads under way in a bucket, with their ids, in S3's order (key, then start time). */
  async list(bucket: string): Promise<Array<UploadDescription & { uploadId: string }>> {
    const uploads: Array<UploadDescription & { uploadId: string }> = [];
    let ids: string[];
    try {
      ids = await readdir(this.dir);
    } catch {
      return uploads;
    }
    for (const uploadId of ids) {
      if (!UPLOAD_ID.test(uploadId)) continue;
      try {
        const description = JSON.parse(
          await readFile(join(this.dir, uploadId, 'upload.json'), 'utf8'),
        ) as UploadDescription;
        if (description.bucket === bucket) uploads.push({ ...description, uploadId });
      } catch {
        // Completed or aborted while listing.
      }
    }
    return uploads.sort(
      (a, b) =>
        compareKeys(a.key, b.key) || a.createdMs - b.createdMs || a.uploadId.localeCompare(b.uploadId),
    );
  }

  /** Removes uploads started more than `maxAgeMs` ago and never completed nor aborted. */
  async sweep(maxAgeMs: number, nowMs: number): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    let removed = 0;
    for (const uploadId of await readdir(this.dir)) {
      if (!UPLOAD_ID.test(uploadId)) continue;
      const started = await stat(join(this.dir, uploadId)).then(
        (info) => info.mtimeMs,
        () => 0,
      );
      if (nowMs - started > maxAgeMs) {
        await this.remove(uploadId);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Start-up recovery after a crash: removes partial part files (their request died with the process),
   * uploads whose description was never written, and uploads `completed` says were stored already (the
   * process stopped between storing the object and removing its parts). Returns the uploads removed.
   */
  async recover(
    completed: (upload: UploadDescription, partEtags: string[]) => Promise<boolean>,
  ): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    let removed = 0;
    for (const uploadId of await readdir(this.dir)) {
      if (!UPLOAD_ID.test(uploadId)) continue;
      const dir = join(this.dir, uploadId);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((file) => /\.tmp(\.json)?$/.test(file)))
        await rm(join(dir, name), { force: true });
      let description: UploadDescription;
      try {
        description = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as UploadDescription;
      } catch {
        await this.remove(uploadId);
        removed++;
        continue;
      }
      const parts = [...(await this.parts(uploadId)).values()].sort((a, b) => a.partNumber - b.partNumber);
      if (
        parts.length > 0 &&
        (await completed(
          description,
          parts.map((part) => part.etag),
        ))
      ) {
        await this.remove(uploadId);
        removed++;
      }
    }
    return removed;
  }

  async remove(uploadId: string): Promise<void> {
    if (UPLOAD_ID.test(uploadId)) await rm(join(this.dir, uploadId), { recursive: true, force: true });
  }
}
