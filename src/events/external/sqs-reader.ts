/**
 * @module events/external/sqs-reader
 * `trigger: sqs`: the bucket's notifications go to an SQS queue (S3 → SQS, or S3 → SNS → SQS), and Nubes
 * reads them (ReceiveMessage with long polling), enqueues their jobs in one transaction, and only then
 * deletes the messages. A message whose jobs were committed but whose deletion failed comes back and is
 * enqueued again: SQS delivers at least once, and so does this reader. S3's `s3:TestEvent` and bodies that
 * are not event records are deleted without a job.
 */
import type { Logger } from '../../core/index.js';
import type { ProviderSettings } from '../../fdl/service-spec.js';
import { readEventRecords, type ExternalObjectEvent } from './external-events.js';
import type { InputWatcher } from './external-inputs.js';

type S3Settings = Extract<ProviderSettings, { type: 'minio' | 's3' }>;

export interface SqsReaderOptions {
  queueUrl: string;
  /** The provider's keys and region sign the SQS calls too; SQS's own endpoint comes from the queue URL. */
  settings: S3Settings;
  enqueue: (events: ExternalObjectEvent[]) => unknown;
  logger: Logger;
  /** Long-poll wait. @default 20 */
  waitSeconds?: number;
  /** Pause after a failed receive. @default 5000 */
  retryDelayMs?: number;
}

/** The event records of one message body: S3's own, or wrapped in an SNS envelope (`Message`). */
export function recordsOfMessage(body: string): ExternalObjectEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const message = (parsed as { Type?: unknown; Message?: unknown } | null)?.Message;
  if (typeof message === 'string') {
    try {
      parsed = JSON.parse(message);
    } catch {
      return [];
    }
  }
  return readEventRecords(parsed);
}

export function startSqsReader(options: SqsReaderOptions): InputWatcher {
  const controller = new AbortController();
  let client: import('@aws-sdk/client-sqs').SQSClient | null = null;

  const run = async () => {
    const sdk = await import('@aws-sdk/client-sqs');
    const { settings } = options;
    client = new sdk.SQSClient({
      region: settings.region,
      // The queue URL names its endpoint; the SDK sends each call there.
      endpoint: new URL(options.queueUrl).origin,
      ...(settings.accessKey !== null && settings.secretKey !== null
        ? { credentials: { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey } }
        : {}),
    });
    while (!controller.signal.aborted) {
      try {
        const received = await client.send(
          new sdk.ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitSeconds ?? 20,
          }),
          { abortSignal: controller.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        options.enqueue(messages.flatMap((message) => recordsOfMessage(message.Body ?? '')));
        await client.send(
          new sdk.DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle ?? '',
            })),
          }),
        );
      } catch (error) {
        if (controller.signal.aborted) break;
        options.logger.warn(
          { queue: options.queueUrl, err: error },
          'reading the SQS queue failed; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 5_000));
      }
    }
  };
  const done = run().catch((error: unknown) =>
    options.logger.error({ err: error }, 'the SQS reader stopped'),
  );

  return {
    async close() {
      controller.abort();
      await done;
      client?.destroy();
    },
  };
}
