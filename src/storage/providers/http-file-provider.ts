/**
 * @module storage/providers/http-file-provider
 * A provider over a plain HTTP file tree, the common part of WebDAV and Onedata's CDMI: GET a path to
 * read, PUT raw bytes to write, and on "parent missing" (409 for WebDAV, 404 for CDMI) create the parent
 * folders one by one and PUT again. The dialects differ in how they sign in and create a folder.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ObjectLocation, StorageProvider, UploadSource } from './storage-provider.js';
import { encodePath, requestFailure, statusFailure } from './http-provider-errors.js';

export interface HttpFileDialect {
  /** `<type>.<id>` */
  id: string;
  /** Prefix of every URL, without a trailing slash (e.g. `https://host/cdmi/space`). */
  rootUrl: string;
  /** Headers that sign a request in. */
  authHeaders: Record<string, string>;
  /** Statuses of a PUT that mean "the parent folder does not exist". */
  missingParentStatuses: number[];
  /** The request that creates the folder at `url` (which ends with `/`). */
  createFolder(url: string): { method: string; headers: Record<string, string> };
  /** Statuses of that request meaning the folder is there (created now or before). */
  folderExistsStatuses: number[];
}

/** Bytes in flight are bounded by the request: an upload is streamed from its file, never buffered. */
export class HttpFileProvider implements StorageProvider {
  readonly id: string;

  constructor(private readonly dialect: HttpFileDialect) {
    this.id = dialect.id;
  }

  private url(path: string): string {
    return `${this.dialect.rootUrl}/${encodePath(path)}`;
  }

  async download(location: ObjectLocation, destination: string, signal?: AbortSignal): Promise<void> {
    const path = `${location.bucket}/${location.key}`;
    const what = `reading ${path}`;
    let response: Response;
    try {
      response = await fetch(this.url(path), { headers: this.dialect.authHeaders, signal: signal ?? null });
    } catch (error) {
      throw requestFailure(this.id, what, error);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw statusFailure(this.id, what, response.status);
    }
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        createWriteStream(destination, { flags: 'wx' }),
      );
    } catch (error) {
      throw requestFailure(this.id, what, error);
    }
  }

  async upload(location: ObjectLocation, source: UploadSource, signal?: AbortSignal): Promise<void> {
    const path = `${location.bucket}/${location.key}`;
    const what = `writing ${path}`;
    let status = await this.put(path, source, what, signal);
    if (this.dialect.missingParentStatuses.includes(status)) {
      await this.createParents(path, signal);
      status = await this.put(path, source, what, signal);
    }
    if (status < 200 || status > 299) throw statusFailure(this.id, what, status);
  }

  private async put(path: string, source: UploadSource, what: string, signal?: AbortSignal): Promise<number> {
    const body = createReadStream(source.path);
    try {
      const response = await fetch(this.url(path), {
        method: 'PUT',
        headers: {
          ...this.dialect.authHeaders,
          'content-type': source.contentType,
          'content-length': String(source.sizeBytes),
        },
        body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
        // Node's fetch streams a request body only in half-duplex mode.
        duplex: 'half',
        signal: signal ?? null,
      });
      await response.body?.cancel();
      return response.status;
    } catch (error) {
      throw requestFailure(this.id, what, error);
    } finally {
      body.destroy();
    }
  }

  /** Creates each folder above `path`, from the top, accepting those that exist. */
  private async createParents(path: string, signal?: AbortSignal): Promise<void> {
    const segments = path.split('/').filter((segment) => segment !== '');
    for (let depth = 1; depth < segments.length; depth++) {
      const folder = segments.slice(0, depth).join('/');
      const url = `${this.url(folder)}/`;
      const what = `creating folder ${folder}`;
      const request = this.dialect.createFolder(url);
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: { ...this.dialect.authHeaders, ...request.headers },
          signal: signal ?? null,
        });
      } catch (error) {
        throw requestFailure(this.id, what, error);
      }
      await response.body?.cancel();
      if (!response.ok && !this.dialect.folderExistsStatuses.includes(response.status)) {
        throw statusFailure(this.id, what, response.status);
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
