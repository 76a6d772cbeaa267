/**
 * @module api/error-handler
 * Turns anything thrown in a route into `{ error: { code, message, details } }` with the code's status.
 * Internal errors are logged with their stack and answered without it.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { PlatformError, toPlatformError } from '../core/index.js';

function fromFastify(error: FastifyError): PlatformError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PlatformError('PAYLOAD_TOO_LARGE', 'the request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PlatformError('UNSUPPORTED_MEDIA_TYPE', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new PlatformError('BAD_REQUEST', error.message);
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new PlatformError('BAD_REQUEST', `malformed request: ${error.message}`);
  }
  if (error.validation) return new PlatformError('VALIDATION_FAILED', error.message);
  if (typeof error.statusCode === 'number' && error.statusCode === 413) {
    return new PlatformError('PAYLOAD_TOO_LARGE', error.message);
  }
  return null;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const platformError =
      error instanceof PlatformError ? error : (fromFastify(error) ?? toPlatformError(error));
    if (platformError.code === 'INTERNAL') request.log.error({ err: error }, 'internal error');
    if (platformError.code === 'UNAUTHENTICATED')
      void reply.header('www-authenticate', 'Basic realm="nubes"');
    if (platformError.code === 'TOO_MANY_REQUESTS' || platformError.code === 'UNAVAILABLE') {
      const details = platformError.details as { retryAfterSeconds?: number } | undefined;
      void reply.header('retry-after', String(details?.retryAfterSeconds ?? 1));
    }
    const body: { code: string; message: string; details?: unknown } = {
      code: platformError.code,
      message: platformError.code === 'INTERNAL' ? 'internal error' : platformError.message,
    };
    if (platformError.details !== undefined) body.details = platformError.details;
    void reply.status(platformError.status).send({ error: body });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    });
  });
}
