/**
 * @module executors/lambda/s3-trigger-client
 * Applies a function's S3 triggers through the AWS APIs: Lambda's resource policy lets each bucket invoke
 * the function (AddPermission, `s3.amazonaws.com` limited to that bucket and account), then the bucket's
 * notification configuration is read, merged (see s3-trigger.ts) and written back. The buckets in use are
 * kept in a tag of the function, so that undeploy, which only knows the service's name, removes them all.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageIoSpec } from '../../fdl/service-spec.js';
import { isAwsError, toAwsError } from '../aws/aws-errors.js';
import type { LambdaExecutorConfig } from './config-schema.js';
import {
  accountOf,
  hasOwnEntries,
  mergeNotifications,
  permissionStatementId,
  wantedTriggers,
  type NotificationConfiguration,
  type WantedTrigger,
} from './s3-trigger.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');
type LambdaSdk = typeof import('@aws-sdk/client-lambda');

/** Tag listing the buckets whose notifications invoke the function. */
export const TRIGGER_BUCKETS_TAG = 'nubes:trigger-buckets';
const TAG_VALUE_MAX = 256;

export class S3Triggers {
  constructor(
    private readonly s3Sdk: S3Sdk,
    private readonly s3: S3Client,
    private readonly lambdaSdk: LambdaSdk,
    private readonly lambda: LambdaClient,
    private readonly config: LambdaExecutorConfig,
  ) {}

  /** Makes the function's triggers those of `inputs`; returns warnings. `tags` are the function's current tags. */
  async apply(
    functionName: string,
    functionArn: string,
    inputs: StorageIoSpec[],
    tags: Record<string, string>,
  ): Promise<string[]> {
    const byBucket = new Map<string, WantedTrigger[]>();
    for (const trigger of wantedTriggers(inputs)) {
      byBucket.set(trigger.bucket, [...(byBucket.get(trigger.bucket) ?? []), trigger]);
    }
    for (const bucket of bucketsOf(tags)) {
      if (!byBucket.has(bucket)) await this.detach(functionName, bucket);
    }
    for (const [bucket, wanted] of byBucket) {
      await this.allowBucket(functionName, bucket);
      await this.writeNotifications(bucket, functionName, functionArn, wanted);
    }
    const value = [...byBucket.keys()].join(' ');
    const warnings: string[] = [];
    if (value.length > TAG_VALUE_MAX) {
      warnings.push('too many trigger buckets to remember in a tag: undeploy may leave some notifications');
    }
    await this.tag(functionArn, value.slice(0, TAG_VALUE_MAX), bucketsOf(tags).length > 0);
    return warnings;
  }

  /** Removes every trigger of the function (undeploy). */
  async remove(functionName: string, tags: Record<string, string>): Promise<void> {
    for (const bucket of bucketsOf(tags)) await this.detach(functionName, bucket);
  }

  private async detach(functionName: string, bucket: string): Promise<void> {
    const current = await this.readNotifications(bucket);
    if (current !== null && hasOwnEntries(current, functionName)) {
      await this.putNotifications(bucket, mergeNotifications(current, functionName, '', []));
    }
    try {
      await this.lambda.send(
        new this.lambdaSdk.RemovePermissionCommand({
          FunctionName: functionName,
          StatementId: permissionStatementId(bucket),
        }),
      );
    } catch (error) {
      if (!isAwsError(error, 'ResourceNotFoundException')) {
        throw toAwsError('Lambda', `remove the permission of bucket ${bucket}`, error);
      }
    }
  }

  private async allowBucket(functionName: string, bucket: string): Promise<void> {
    try {
      await this.lambda.send(
        new this.lambdaSdk.AddPermissionCommand({
          FunctionName: functionName,
          StatementId: permissionStatementId(bucket),
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
          SourceArn: `arn:aws:s3:::${bucket}`,
          // A bucket name is global: the account keeps another account's bucket of that name out.
          SourceAccount: accountOf(this.config.role),
        }),
      );
    } catch (error) {
      // The statement is there from an earlier deploy.
      if (isAwsError(error, 'ResourceConflictException')) return;
      throw toAwsError('Lambda', `allow bucket ${bucket} to invoke ${functionName}`, error);
    }
  }

  private async writeNotifications(
    bucket: string,
    functionName: string,
    functionArn: string,
    wanted: WantedTrigger[],
  ): Promise<void> {
    const current = (await this.readNotifications(bucket)) ?? {};
    await this.putNotifications(bucket, mergeNotifications(current, functionName, functionArn, wanted));
  }

  private async readNotifications(bucket: string): Promise<NotificationConfiguration | null> {
    try {
      const reply = await this.s3.send(
        new this.s3Sdk.GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
      );
      const {
        LambdaFunctionConfigurations,
        QueueConfigurations,
        TopicConfigurations,
        EventBridgeConfiguration,
      } = reply;
      return {
        ...(LambdaFunctionConfigurations === undefined ? {} : { LambdaFunctionConfigurations }),
        ...(QueueConfigurations === undefined ? {} : { QueueConfigurations }),
        ...(TopicConfigurations === undefined ? {} : { TopicConfigurations }),
        ...(EventBridgeConfiguration === undefined ? {} : { EventBridgeConfiguration }),
      };
    } catch (error) {
      if (isAwsError(error, 'NoSuchBucket')) return null;
      throw toAwsError('S3', `read the notifications of bucket ${bucket}`, error);
    }
  }

  private async putNotifications(bucket: string, configuration: NotificationConfiguration): Promise<void> {
    try {
      await this.s3.send(
        new this.s3Sdk.PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: configuration as never,
        }),
      );
    } catch (error) {
      throw toAwsError('S3', `write the notifications of bucket ${bucket}`, error);
    }
  }

  private async tag(functionArn: string, value: string, hadTag: boolean): Promise<void> {
    try {
      if (value !== '') {
        await this.lambda.send(
          new this.lambdaSdk.TagResourceCommand({
            Resource: functionArn,
            Tags: { [TRIGGER_BUCKETS_TAG]: value },
          }),
        );
      } else if (hadTag) {
        await this.lambda.send(
          new this.lambdaSdk.UntagResourceCommand({ Resource: functionArn, TagKeys: [TRIGGER_BUCKETS_TAG] }),
        );
      }
    } catch (error) {
      throw toAwsError('Lambda', 'tag the function with its trigger buckets', error);
    }
  }
}

function bucketsOf(tags: Record<string, string>): string[] {
  return (tags[TRIGGER_BUCKETS_TAG] ?? '').split(' ').filter((bucket) => bucket !== '');
}
