/**
 * @module s3api/s3-response
 * Writing S3 replies: XML documents in S3's namespace, empty replies, and errors in S3's XML error shape
 * (HEAD replies never carry a body).
 */
import type { ServerResponse } from 'node:http';
import { toS3Error } from './s3-errors.js';

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r]/g, (char) =>
    char === '&'
      ? '&amp;'
      : char === '<'
        ? '&lt;'
        : char === '>'
          ? '&gt;'
          : char === '"'
            ? '&quot;'
            : char === "'"
              ? '&apos;'
              : '&#13;',
  );
}

/** `<name>escaped value</name>`. */
export function element(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function xmlDocument(root: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${body}</${root}>`;
}

/** S3's timestamp form in XML: ISO 8601 with milliseconds. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

export function sendXml(
  res: ServerResponse,
  status: number,
  xml: string,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** Sends a failure as S3 does; when the reply has already started, the connection is cut instead. */
export function sendS3Error(
  res: ServerResponse,
  error: unknown,
  resource: string,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): { code: string; status: number } {
  const reply = toS3Error(error);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return reply;
  }
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${element('Code', reply.code)}${element('Message', reply.message)}${element('Resource', resource)}${element('RequestId', requestId)}</Error>`;
  const body = Buffer.from(xml, 'utf8');
  const isHead = res.req.method === 'HEAD';
  res.writeHead(reply.status, {
    ...extraHeaders,
    'Content-Type': 'application/xml',
    'Content-Length': isHead ? 0 : body.length,
  });
  res.end(isHead ? undefined : body);
  return reply;
}
