/**
 * @module events/external/bucket-notifications
 * Registers Nubes's webhook on an external S3-compatible bucket, merged into the bucket's notification
 * configuration: entries that other tools put there are kept, ours are found again by their Id (unlike
 * MARLA, which replaced the whole configuration and so silenced everyone else's notifications).
 *
 * - Ceph RGW (and any service with RGW's SNS-compatible topics): a topic whose `push-endpoint` is the
 *   webhook URL (persistent: RGW queues and retries deliveries while Nubes is down), then a
 *   TopicConfiguration on the bucket.
 * - MinIO (no topic API): a QueueConfiguration naming webhook target `nubes-<service>`, which MinIO's
 *   administrator configures once (`mc admin config set ALIAS notify_webhook:<target> endpoint=<url>`);
 *   until then deploying says so, with the exact command.
 *
 * RGW merges a PutBucketNotificationConfiguration into what the bucket has, while S3 and MinIO replace it;
 * sending the merged list is right for both. Removing ours therefore needs RGW's own
 * `DELETE /<bucket>?notification=<id>` there.
 */
import { createHash } from 'node:crypto';
import { PlatformError } from '../../core/index.js';
import type { ProviderSettings } from '../../fdl/service-spec.js';
import { fromS3Error } from '../../storage/s3/s3-error-mapping.js';

type S3Settings = Extract<ProviderSettings, { type: 'minio' | 's3' }>;

export interface WebhookTarget {
  service: string;
  provider: string;
  bucket: string;
  /** '' for the whole bucket. */
  folder: string;
  /** `s3:ObjectCreated:*`, ... */
  events: string[];
  /** The webhook URL, its token included. */
  url: string;
}

/** The Id of our configuration entry (and RGW topic) for one service input: stable across deploys. */
export function notificationId(
  target: Pick<WebhookTarget, 'service' | 'provider' | 'bucket' | 'folder'>,
): string {
  const digest = createHash('sha256')
    .update(`${target.provider}\n${target.bucket}\n${target.folder}`)
    .digest('hex')
    .slice(0, 10);
  return `nubes-${target.service}-${digest}`;
}

/** MinIO's ARN of webhook target `nubes-<service>`, in the configured region ('' by default). */
export function minioWebhookArn(service: string, region = ''): string {
  return `arn:minio:sqs:${region}:nubes-${service}:webhook`;
}

interface Clients {
  s3: import('@aws-sdk/client-s3').S3Client;
  s3Sdk: typeof import('@aws-sdk/client-s3');
  sns: import('@aws-sdk/client-sns').SNSClient;
  snsSdk: typeof import('@aws-sdk/client-sns');
}

async function clients(settings: S3Settings): Promise<Clients> {
  const [s3Sdk, snsSdk] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/client-sns')]);
  const credentials =
    settings.accessKey !== null && settings.secretKey !== null
      ? { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey }
      : undefined;
  const common = {
    region: settings.region,
    ...(settings.endpoint === null ? {} : { endpoint: settings.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    maxAttempts: 2,
    // A service that takes the connection and never answers fails the call instead of holding it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  };
  return {
    s3: new s3Sdk.S3Client({
      ...common,
      forcePathStyle: settings.endpoint !== null,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    s3Sdk,
    sns: new snsSdk.SNSClient(common),
    snsSdk,
  };
}

type NotificationConfiguration = import('@aws-sdk/client-s3').NotificationConfiguration;

function withoutId(config: NotificationConfiguration, id: string): NotificationConfiguration {
  const keep = <T extends { Id?: string | undefined }>(list: T[] | undefined): T[] =>
    (list ?? []).filter((entry) => entry.Id !== id);
  return {
    TopicConfigurations: keep(config.TopicConfigurations),
    QueueConfigurations: keep(config.QueueConfigurations),
    LambdaFunctionConfigurations: keep(config.LambdaFunctionConfigurations),
    ...(config.EventBridgeConfiguration ? { EventBridgeConfiguration: config.EventBridgeConfiguration } : {}),
  };
}

function keyFilter(folder: string): {
  Filter?: { Key: { FilterRules: { Name: 'prefix'; Value: string }[] } };
} {
  return folder === '' ? {} : { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: `${folder}/` }] } } };
}

function isUnsupported(error: unknown): boolean {
  const shape = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = shape.Code ?? shape.name ?? '';
  const status = shape.$metadata?.httpStatusCode;
  return (
    /NotImplemented|InvalidAction|MethodNotAllowed|InvalidRequest|UnknownOperation|XMinioAdmin/i.test(code) ||
    status === 405 ||
    status === 501 ||
    status === 400
  );
}

function failure(target: WebhookTarget, what: string, error: unknown): PlatformError {
  const mapped = fromS3Error(error, 'BUCKET_NOT_FOUND');
  return new PlatformError(
    mapped.code,
    `${target.provider}: ${what} on bucket ${target.bucket}: ${mapped.message}`,
    {
      details: { provider: target.provider, bucket: target.bucket },
      retryable: mapped.retryable,
      cause: error,
    },
  );
}

/**
 * Adds (or updates) our entry in the bucket's notification configuration. Resolves with warnings (MinIO
 * waiting for its administrator); throws when the bucket or the service cannot be used.
 */
export async function registerWebhook(settings: S3Settings, target: WebhookTarget): Promise<string[]> {
  const id = notificationId(target);
  const c = await clients(settings);
  try {
    let topicArn: string | null = null;
    try {
      const topic = await c.sns.send(
        new c.snsSdk.CreateTopicCommand({
          Name: id,
          Attributes: { 'push-endpoint': target.url, persistent: 'true' },
        }),
      );
      topicArn = topic.TopicArn ?? null;
    } catch (error) {
      if (!isUnsupported(error)) throw failure(target, 'creating the notification topic', error);
    }
    let existing: NotificationConfiguration;
    try {
      existing = await c.s3.send(
        new c.s3Sdk.GetBucketNotificationConfigurationCommand({ Bucket: target.bucket }),
      );
    } catch (error) {
      throw failure(target, 'reading the notification configuration', error);
    }
    const merged = withoutId(existing, id);
    const events = target.events as import('@aws-sdk/client-s3').Event[];
    if (topicArn !== null) {
      merged.TopicConfigurations = [
        ...(merged.TopicConfigurations ?? []),
        { Id: id, TopicArn: topicArn, Events: events, ...keyFilter(target.folder) },
      ];
    } else {
      merged.QueueConfigurations = [
        ...(merged.QueueConfigurations ?? []),
        { Id: id, QueueArn: minioWebhookArn(target.service), Events: events, ...keyFilter(target.folder) },
      ];
    }
    try {
      await c.s3.send(
        new c.s3Sdk.PutBucketNotificationConfigurationCommand({
          Bucket: target.bucket,
          NotificationConfiguration: merged,
        }),
      );
    } catch (error) {
      if (topicArn === null && isUnsupported(error)) {
        return [
          `input on ${target.provider}:${target.bucket}: the service has no topic API and no webhook target ` +
            `nubes-${target.service}; as its administrator run ` +
            `\`mc admin config set ALIAS notify_webhook:nubes-${target.service} endpoint=URL\` with URL from ` +
            `GET /system/services/${target.service}/storage-webhooks (${redactToken(target.url)}), restart ` +
            'MinIO and deploy again',
        ];
      }
      throw failure(target, 'writing the notification configuration', error);
    }
    return [];
  } finally {
    c.s3.destroy();
    c.sns.destroy();
  }
}

/** Removes our entry (and RGW topic); other entries stay. Missing ones are not an error. */
export async function unregisterWebhook(
  settings: S3Settings,
  target: Omit<WebhookTarget, 'url' | 'events'>,
): Promise<void> {
  const id = notificationId(target);
  const c = await clients(settings);
  try {
    const existing = await c.s3.send(
      new c.s3Sdk.GetBucketNotificationConfigurationCommand({ Bucket: target.bucket }),
    );
    const entries = [
      ...(existing.TopicConfigurations ?? []),
      ...(existing.QueueConfigurations ?? []),
      ...(existing.LambdaFunctionConfigurations ?? []),
    ];
    if (entries.some((entry) => entry.Id === id)) {
      // RGW: delete by id (it merges PUTs). S3 and MinIO answer this with an error: then PUT the rest.
      const deleted = await deleteRgwNotification(c, target.bucket, id).then(
        () => true,
        () => false,
      );
      const after = deleted
        ? await c.s3.send(new c.s3Sdk.GetBucketNotificationConfigurationCommand({ Bucket: target.bucket }))
        : existing;
      const stillThere = [
        ...(after.TopicConfigurations ?? []),
        ...(after.QueueConfigurations ?? []),
        ...(after.LambdaFunctionConfigurations ?? []),
      ].some((entry) => entry.Id === id);
      if (stillThere) {
        await c.s3.send(
          new c.s3Sdk.PutBucketNotificationConfigurationCommand({
            Bucket: target.bucket,
            NotificationConfiguration: withoutId(after, id),
          }),
        );
      }
    }
    const arn = existing.TopicConfigurations?.find((entry) => entry.Id === id)?.TopicArn;
    if (arn !== undefined)
      await c.sns.send(new c.snsSdk.DeleteTopicCommand({ TopicArn: arn })).catch(() => undefined);
  } finally {
    c.s3.destroy();
    c.sns.destroy();
  }
}

/**
 * RGW's `DELETE /<bucket>?notification=<id>`, which the SDK has no command for: a DeleteBucketCors request
 * whose query is rewritten before it is signed.
 */
async function deleteRgwNotification(c: Clients, bucket: string, id: string): Promise<void> {
  const command = new c.s3Sdk.DeleteBucketCorsCommand({ Bucket: bucket });
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { query?: Record<string, string | null> };
      request.query = { notification: id };
      return next(args);
    },
    { step: 'build', name: 'nubesRgwNotificationQuery' },
  );
  await c.s3.send(command);
}

/** The URL with its token replaced, for messages. */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/, '$1<token>');
}
