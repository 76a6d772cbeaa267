/**
 * @module supervisor/lambda-runtime
 * The supervisor inside an AWS Lambda container-image function: a client of the Lambda Runtime API
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) that takes invocations one at a time
 * (`GET /runtime/invocation/next`), runs each through the standalone supervisor, and answers
 * (`POST /runtime/invocation/{id}/response`) with the result line, the job's log and, for sync calls, the
 * output files. An envelope from the Lambda executor carries the job id and the service; an S3 trigger's
 * bare event runs the service of the function's environment. A supervisor failure (bad configuration) is
 * reported on the `/error` path as `Nubes.<CODE>`, which the executor reads back as that coded error.
 */
import type { Logger } from '../core/index.js';
import type { ServiceSpec } from '../fdl/service-spec.js';
import { toPlatformError } from '../core/index.js';
import { lambdaEnvelopeSchema, type LambdaAnswer, type LambdaEnvelope } from './lambda-envelope.js';
import { buildRemoteAnswer } from './remote-answer.js';
import { formatResultLine } from './result-line.js';
import { loadStandaloneConfig } from './standalone-config.js';
import { openStore, superviseEvent, type StoreFactory } from './standalone.js';

const API_VERSION = '2018-06-01';

export interface LambdaRuntimeOptions {
  /** `AWS_LAMBDA_RUNTIME_API` (host:port). */
  api: string;
  env: Record<string, string | undefined>;
  /** The function's log (CloudWatch Logs): the script's output is mirrored here as it comes. */
  stderr: NodeJS.WritableStream;
  logger: Logger;
  createStore: StoreFactory;
  /** Stops the loop after the current invocation (tests); Lambda itself ends the process. */
  signal?: AbortSignal;
}

/** Serves invocations until the Runtime API goes away or `signal` aborts. */
export async function runLambdaRuntime(options: LambdaRuntimeOptions): Promise<void> {
  const base = `http://${options.api}/${API_VERSION}/runtime`;
  const stopped = (): boolean => options.signal?.aborted === true;
  while (!stopped()) {
    let next: Response;
    try {
      next = await fetch(`${base}/invocation/next`, { signal: options.signal });
    } catch (error) {
      if (stopped()) return;
      throw error;
    }
    const requestId = next.headers.get('lambda-runtime-aws-request-id');
    const payload = Buffer.from(await next.arrayBuffer());
    if (!next.ok || requestId === null) {
      throw new Error(`the Runtime API answered ${next.status} without a request id`);
    }
    try {
      const answer = await invoke(requestId, payload, options);
      await post(`${base}/invocation/${requestId}/response`, JSON.stringify(answer));
    } catch (thrown) {
      const error = toPlatformError(thrown);
      options.logger.error({ error: error.toData() }, 'supervisor failed');
      await post(
        `${base}/invocation/${requestId}/error`,
        JSON.stringify({
          errorType: `Nubes.${error.code}`,
          errorMessage: error.message,
          stackTrace: [],
        }),
        { 'Lambda-Runtime-Function-Error-Type': `Nubes.${error.code}` },
      );
    }
  }
}

async function invoke(
  requestId: string,
  payload: Buffer,
  options: LambdaRuntimeOptions,
): Promise<LambdaAnswer> {
  const envelope = readEnvelope(payload);
  const config = loadStandaloneConfig({
    ...options.env,
    ...(envelope === null ? {} : { FUNCTION_CONFIG: envelope.functionConfig }),
    JOB_UUID: envelope?.jobId ?? options.env.JOB_UUID ?? requestId,
  });
  const eventBytes =
    envelope === null
      ? fromAwsBucket(payload, config.service)
      : envelope.bodyBase64 !== null
        ? Buffer.from(envelope.bodyBase64, 'base64')
        : Buffer.from(envelope.event);
  const store = openStore(config, options.createStore);
  try {
    const run = await superviseEvent(config, eventBytes, store, {
      logger: options.logger,
      mirror: options.stderr,
    });
    try {
      options.stderr.write(`\n${formatResultLine(run.result)}`);
      return await buildRemoteAnswer(run, envelope?.returnFiles === true);
    } finally {
      await run.dispose();
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}

/**
 * An S3 trigger's bare event names an AWS bucket: it is read through the service's `s3.*` input on that
 * bucket (delegated to that provider, as OSCAR wraps events of other storage), not the platform's store.
 */
function fromAwsBucket(payload: Buffer, service: ServiceSpec): Buffer {
  let bucket: unknown;
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      Records?: { eventSource?: unknown; s3?: { bucket?: { name?: unknown } } }[];
    };
    const record = parsed.Records?.[0];
    if (record?.eventSource !== 'aws:s3') return payload;
    bucket = record.s3?.bucket?.name;
  } catch {
    return payload;
  }
  const input = service.input.find((io) => io.provider.startsWith('s3.') && io.bucket === bucket);
  if (input === undefined) return payload;
  return Buffer.from(JSON.stringify({ storage_provider: input.provider, event: payload.toString('utf8') }));
}

/** The executor's envelope, or null for a bare event (an S3 trigger, a direct invoke). */
function readEnvelope(payload: Buffer): LambdaEnvelope | null {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null || !('nubes' in json)) return null;
  // A payload that claims to be an envelope must be one: a malformed one is an error, not an event.
  return lambdaEnvelopeSchema.parse(json).nubes;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`the Runtime API refused ${url}: ${response.status}`);
}
