/**
 * @module s3api/s3-server
 * The S3-compatible HTTP endpoint (plain node:http, streaming both ways) in front of an ObjectStore:
 * path-style and `bucket.localhost` virtual-hosted addressing, SigV4 authentication, S3's XML errors.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { ShutdownGate, silentLogger, systemClock, type Clock, type Logger } from '../core/index.js';
import { decodeObjectKey, validateBucketName, type ObjectStore } from '../storage/index.js';
import { MultipartStaging } from './multipart-staging.js';
import { utf8OrNull } from './percent-encoding.js';
import { declaredObjectLength, openRequestBody } from './request-body.js';
import { parseRequestTarget } from './request-target.js';
import type { S3Context } from './s3-context.js';
import { s3Failure } from './s3-errors.js';
import { sendEmpty, sendS3Error } from './s3-response.js';
import { routeS3Request } from './s3-router.js';
import { completedEarlier, multipartEtag } from './operations/multipart-operations.js';
import { authenticate, type SecretResolver } from './sigv4/authenticate.js';
import { mayAccess, type BucketAccess } from './bucket-access.js';
import { corsHeaders, preflightHeaders } from './cors.js';
import { scopeAllows, type ObjectScope } from './scoped-keys.js';

export interface S3ServerOptions {
  store: ObjectStore;
  /** The secret and principal of an access key id, or null when the key is unknown. */
  resolveSecret: SecretResolver;
  /** Region reported to clients (GetBucketLocation, HeadBucket). */
  region: string;
  logger?: Logger;
  /** Largest object accepted, in bytes. @default 5 GiB (S3's single-PUT limit) */
  maxObjectBytes?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Host names under which `<bucket>.<name>` addresses a bucket virtual-host style. @default ['localhost'] */
  virtualHostSuffixes?: string[];
  /**
   * Where the parts of multipart uploads wait until completed; best on the store's filesystem (parts can
   * be gigabytes). @default <os tmpdir>/nubes-s3-multipart
   */
  multipartDir?: string;
  /**
   * Origins a browser may call the endpoint from (CORS), e.g. the dashboard's; `*` allows any. Requests
   * are still authenticated by their signatures: CORS only lets a browser page read the replies.
   * @default ['*']
   */
  corsOrigins?: string[];
  /**
   * Refuses new requests during shutdown (503 ServiceUnavailable) and counts those under way; shared with
   * the REST API. @default a gate of its own
   */
  gate?: ShutdownGate;
  /** Called at the start of every request (metrics attach to the response's `finish`). */
  observe?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The scope of a job's short-lived key (see scoped-keys.ts), or null for an ordinary key. A scoped
   * request is checked against its scope before (and instead of) the bucket's visibility.
   */
  scopeOf?: (accessKeyId: string) => ObjectScope | null;
}

export interface S3Server {
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting connections, lets requests under way finish for a moment, then cuts them. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_OBJECT_BYTES = 5 * 1024 ** 3;
// Below this, the unread body of a refused request is drained to keep the connection; above, it is closed.
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 2000;
// Uploads neither completed nor aborted within a week are removed when the endpoint starts.
const STALE_UPLOAD_MS = 7 * 24 * 3600 * 1000;
// A connection silent this long is closed (there is no overall request timeout: uploads may be large).
const IDLE_TIMEOUT_MS = 5 * 60 * 1000;

function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function decodeBucket(bytes: Buffer | null): string | null {
  if (bytes === null) return null;
  const name = utf8OrNull(bytes);
  if (name === null) throw s3Failure('InvalidBucketName', 'The specified bucket is not valid.');
  validateBucketName(name);
  return name;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

async function readAll(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw s3Failure('MaxMessageLengthExceeded', `Your request was too big (more than ${maxBytes} bytes).`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Creates the S3 endpoint; nothing listens until `listen`. */
export function createS3Server(options: S3ServerOptions): S3Server {
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const virtualHostSuffixes = options.virtualHostSuffixes ?? ['localhost'];
  const multipart = new MultipartStaging(options.multipartDir ?? join(tmpdir(), 'nubes-s3-multipart'));
  const corsOrigins = options.corsOrigins ?? ['*'];
  const gate = options.gate ?? new ShutdownGate();

  async function handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
    const started = performance.now();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('Server', 'Nubes');
    const method = req.method ?? 'GET';
    let resource = (req.url ?? '/').split('?')[0] ?? '/';
    let bodyOpened = false;
    try {
      let leave: () => void;
      try {
        leave = gate.admit();
      } catch (refusal) {
        res.setHeader('Retry-After', '5');
        res.setHeader('Connection', 'close');
        throw refusal;
      }
      res.once('close', leave);
      const origin = req.headers.origin;
      if (typeof origin === 'string') {
        for (const [name, value] of Object.entries(corsHeaders(origin, corsOrigins)))
          res.setHeader(name, value);
      }
      if (method === 'OPTIONS') {
        // A CORS preflight carries no credentials: it is answered from the configuration alone.
        sendEmpty(res, 200, preflightHeaders(req.headers, corsOrigins));
        return;
      }
      const target = parseRequestTarget(req.url ?? '/', req.headers.host, virtualHostSuffixes);
      resource = target.rawPath;
      const auth = authenticate(
        { method, headers: req.headers, headersDistinct: req.headersDistinct, target },
        options.resolveSecret,
        clock.now(),
      );
      const bucket = decodeBucket(target.bucketBytes);
      const key = target.keyBytes === null ? null : decodeObjectKey(target.keyBytes);
      const route = routeS3Request(method, bucket !== null, key !== null, target.params, req.headers);
      const authorize = async (name: string, access: BucketAccess): Promise<void> => {
        let info;
        try {
          info = await options.store.headBucket(name);
        } catch (error) {
          // Whether a bucket exists is not for anonymous callers to learn.
          if (auth.anonymous) throw s3Failure('AccessDenied', 'Access Denied');
          throw error;
        }
        const caller = auth.anonymous ? null : { principal: auth.principal, admin: auth.admin };
        if (!mayAccess(info, caller, access)) throw s3Failure('AccessDenied', 'Access Denied');
      };
      const scope = auth.anonymous ? null : (options.scopeOf?.(auth.accessKeyId) ?? null);
      if (scope !== null) {
        const copySource = req.headers['x-amz-copy-source'] !== undefined;
        const request = { method, bucket, key, params: target.params, copySource };
        if (!scopeAllows(scope, request)) throw s3Failure('AccessDenied', 'Access Denied');
      } else if (route.access === 'authenticated') {
        if (auth.anonymous) throw s3Failure('AccessDenied', 'Access Denied');
      } else if (route.access === 'self') {
        // The operation checks the credentials it carries (postObject: context.authorizeAs).
      } else if (bucket !== null) {
        await authorize(bucket, route.access);
      }
      const context: S3Context = {
        req,
        res,
        requestId,
        store: options.store,
        multipart,
        region: options.region,
        maxObjectBytes,
        auth,
        bucket,
        key,
        params: target.params,
        sourceIp: clientIp(req),
        logger,
        authorize,
        resolveSecret: options.resolveSecret,
        authorizeAs: async (caller, name, objectKey) => {
          const keyScope = options.scopeOf?.(caller.accessKeyId) ?? null;
          const request = {
            method: 'PUT',
            bucket: name,
            key: objectKey,
            params: new Map<string, string>(),
            copySource: false,
          };
          if (keyScope !== null && !scopeAllows(keyScope, request))
            throw s3Failure('AccessDenied', 'Access Denied');
          const info = await options.store.headBucket(name);
          if (!mayAccess(info, { principal: caller.principal, admin: caller.admin }, 'write'))
            throw s3Failure('AccessDenied', 'Access Denied');
        },
        openBody: () => {
          if (bodyOpened) throw new Error('the request body can be opened once');
          bodyOpened = true;
          if (expectContinue) res.writeContinue();
          return openRequestBody(req, auth, declaredObjectLength(req.headers, auth), maxObjectBytes);
        },
        readBody: (maxBytes) => readAll(context.openBody(), maxBytes),
      };
      await route.operation(context);
      logger.debug(
        { requestId, method, resource, status: res.statusCode, ms: performance.now() - started },
        's3 request',
      );
    } catch (error) {
      const extraHeaders: Record<string, string> = {};
      if (hasBody(req) && !req.complete) {
        // The client may be blocked sending a body nobody will read (or waiting for 100 Continue):
        // drain a small one to keep the connection, close the connection on a large one.
        const length = Number(req.headers['content-length'] ?? Number.POSITIVE_INFINITY);
        if (expectContinue && !bodyOpened) extraHeaders.Connection = 'close';
        else if (!(length <= DRAIN_LIMIT_BYTES)) extraHeaders.Connection = 'close';
        req.unpipe();
        req.resume();
      }
      const reply = sendS3Error(res, error, resource, requestId, extraHeaders);
      const fields = {
        requestId,
        method,
        resource,
        status: reply.status,
        code: reply.code,
        ms: performance.now() - started,
      };
      if (reply.status >= 500) logger.error({ ...fields, err: error }, 's3 request failed');
      else logger.debug({ ...fields, message: (error as Error).message }, 's3 request refused');
    }
  }

  const server = createServer({ requestTimeout: 0 });
  server.setTimeout(IDLE_TIMEOUT_MS);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    options.observe?.(req, res);
    void handle(req, res, false);
  });
  // Answering before the body is sent lets a refused upload (too large, bad signature) cost nothing.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    options.observe?.(req, res);
    void handle(req, res, true);
  });

  return {
    async listen(port, host) {
      const swept = await multipart.sweep(STALE_UPLOAD_MS, clock.now());
      if (swept > 0) logger.info({ uploads: swept }, 'removed stale multipart uploads');
      const recovered = await multipart.recover((upload, etags) =>
        completedEarlier(
          { store: options.store, bucket: upload.bucket, key: upload.key },
          upload.createdMs,
          multipartEtag(etags),
        ),
      );
      if (recovered > 0) logger.info({ uploads: recovered }, 'removed multipart uploads left by a crash');
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = host.includes(':') ? `[${host}]` : host;
          logger.debug({ port: address.port, host }, 'S3 endpoint listening');
          resolve({ port: address.port, url: `http://${shownHost}:${address.port}` });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
