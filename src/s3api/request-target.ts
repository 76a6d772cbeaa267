/**
 * @module s3api/request-target
 * What a request addresses (bucket, key, query), read from the raw request line. The WHATWG URL parser is
 * deliberately not used: it resolves `..` and `%2e%2e` segments, which would hide a traversal attempt and
 * change the path the client signed.
 */
import { awsEncodeBytes, percentDecodeBytes } from './percent-encoding.js';
import { s3Failure } from './s3-errors.js';

export interface QueryParam {
  /** Raw bytes of the name and value, as sent (for the canonical query). */
  nameBytes: Buffer;
  valueBytes: Buffer;
  /** Decoded (lossy for invalid UTF-8: only used for routing and parameter values that are validated). */
  name: string;
  value: string;
}

export interface RequestTarget {
  /** Bucket name bytes as sent (not yet validated), or null for the service root. */
  bucketBytes: Buffer | null;
  /** Key bytes as sent (not yet decoded as UTF-8 nor validated), or null when the bucket itself is addressed. */
  keyBytes: Buffer | null;
  /** The path exactly as sent, and in SigV4's canonical encoding: either may be what the client signed. */
  rawPath: string;
  canonicalPath: string;
  query: QueryParam[];
  /** First value of each query parameter, by decoded name. */
  params: Map<string, string>;
  /** True when the bucket came from the Host header (virtual-hosted style). */
  virtualHosted: boolean;
}

function decodeOrFail(raw: string): Buffer {
  const bytes = percentDecodeBytes(raw);
  if (bytes === null) throw s3Failure('InvalidURI', 'the request URI has a malformed percent-encoding');
  return bytes;
}

function parseQuery(rawQuery: string): QueryParam[] {
  const query: QueryParam[] = [];
  if (rawQuery === '') return query;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const nameBytes = decodeOrFail(at < 0 ? pair : pair.slice(0, at));
    const valueBytes = decodeOrFail(at < 0 ? '' : pair.slice(at + 1));
    query.push({
      nameBytes,
      valueBytes,
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
    });
  }
  return query;
}

/** The bucket named by a virtual-hosted Host header (`bucket.localhost:9000`), if any. */
function bucketFromHost(host: string | undefined, suffixes: readonly string[]): string | null {
  if (host === undefined) return null;
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  for (const suffix of suffixes) {
    const tail = `.${suffix}`;
    if (hostname.length > tail.length && hostname.endsWith(tail)) return hostname.slice(0, -tail.length);
  }
  return null;
}

/** Splits a request (raw URL and Host header) into what it addresses. */
export function parseRequestTarget(
  rawUrl: string,
  host: string | undefined,
  virtualHostSuffixes: readonly string[],
): RequestTarget {
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!rawPath.startsWith('/')) throw s3Failure('InvalidURI', 'the request path must start with "/"');
  const query = parseQuery(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
  const params = new Map<string, string>();
  for (const param of query) if (!params.has(param.name)) params.set(param.name, param.value);

  // Re-encode segment by segment so that a `%2F` inside a segment stays encoded in the canonical form.
  const canonicalPath = rawPath
    .split('/')
    .map((segment) => awsEncodeBytes(decodeOrFail(segment)))
    .join('/');

  const hostBucket = bucketFromHost(host, virtualHostSuffixes);
  let bucketBytes: Buffer | null;
  let keyBytes: Buffer | null;
  if (hostBucket !== null) {
    bucketBytes = Buffer.from(hostBucket, 'utf8');
    keyBytes = rawPath === '/' ? null : decodeOrFail(rawPath.slice(1));
  } else {
    const rest = rawPath.slice(1);
    const slash = rest.indexOf('/');
    const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
    const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
    bucketBytes = rawBucket === '' ? null : decodeOrFail(rawBucket);
    keyBytes = rawKey === '' ? null : decodeOrFail(rawKey);
  }
  return { bucketBytes, keyBytes, rawPath, canonicalPath, query, params, virtualHosted: hostBucket !== null };
}
