/**
 * @module executors/lambda/s3-trigger
 * S3 triggers of a Lambda function: an input on an AWS bucket (`s3.<id>`) makes the bucket invoke the
 * function on each matching upload. PutBucketNotificationConfiguration replaces a bucket's whole
 * notification configuration, so it is always read first and merged: entries of other functions, queues,
 * topics and EventBridge stay as they were, and only this function's own entries (recognised by their Id)
 * are replaced or removed. (MARLA replaced the whole configuration, silently disabling whatever else the
 * bucket fed; SCAR appends, as done here.)
 */
import type { StorageIoSpec } from '../../fdl/service-spec.js';

/** A bucket's notification configuration as the S3 SDK reads and writes it (the parts Nubes touches typed). */
export interface NotificationConfiguration {
  LambdaFunctionConfigurations?: LambdaNotification[];
  QueueConfigurations?: unknown[];
  TopicConfigurations?: unknown[];
  EventBridgeConfiguration?: unknown;
}

export interface LambdaNotification {
  Id?: string;
  LambdaFunctionArn: string | undefined;
  Events: string[] | undefined;
  Filter?: { Key?: { FilterRules?: { Name?: string; Value?: string }[] } };
}

/** One trigger wanted on a bucket. */
export interface WantedTrigger {
  bucket: string;
  /** Key prefix (`folder/`), '' for the whole bucket. */
  prefix: string;
  events: string[];
}

/** The Id prefix of a function's own notification entries. */
export function triggerIdPrefix(functionName: string): string {
  return `nubes-${functionName}-`;
}

/** The triggers of a service's AWS inputs, grouped later by bucket. */
export function wantedTriggers(inputs: StorageIoSpec[]): WantedTrigger[] {
  return inputs
    .filter((io) => io.provider.startsWith('s3.'))
    .map((io) => ({
      bucket: io.bucket,
      prefix: io.folder === '' ? '' : `${io.folder}/`,
      events: io.events !== undefined && io.events.length > 0 ? [...io.events] : ['s3:ObjectCreated:*'],
    }));
}

/**
 * `current` with this function's entries replaced by `wanted` (all on one bucket); [] removes them. Every
 * other entry is kept as read, in its place.
 */
export function mergeNotifications(
  current: NotificationConfiguration,
  functionName: string,
  functionArn: string,
  wanted: WantedTrigger[],
): NotificationConfiguration {
  const own = triggerIdPrefix(functionName);
  const kept = (current.LambdaFunctionConfigurations ?? []).filter(
    (entry) => !(entry.Id ?? '').startsWith(own),
  );
  const added: LambdaNotification[] = wanted.map((trigger, index) => ({
    Id: `${own}${index}`,
    LambdaFunctionArn: functionArn,
    Events: trigger.events,
    ...(trigger.prefix === ''
      ? {}
      : { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: trigger.prefix }] } } }),
  }));
  const merged: NotificationConfiguration = { ...current, LambdaFunctionConfigurations: [...kept, ...added] };
  return merged;
}

/** Whether a configuration has entries of this function. */
export function hasOwnEntries(current: NotificationConfiguration, functionName: string): boolean {
  const own = triggerIdPrefix(functionName);
  return (current.LambdaFunctionConfigurations ?? []).some((entry) => (entry.Id ?? '').startsWith(own));
}

/** The statement id of the permission that lets `bucket` invoke the function. */
export function permissionStatementId(bucket: string): string {
  return `nubes-s3-${bucket.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 100);
}

/** The account id of an ARN (`arn:aws:iam::123456789012:role/x` -> `123456789012`). */
export function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}
