/**
 * @module executors/lambda/config-schema
 * The configuration of the AWS Lambda executor: the connection, the execution role every function gets,
 * how functions are named, where the runtime entry point sits in the image, and how the functions reach
 * storage (the platform's S3 endpoint for `minio.default`, AWS S3 with the function's role for `s3.*`).
 */
import { z } from 'zod';
import { storageEndpointSchema } from '../storage-endpoint-schema.js';
import { awsConnectionSchema } from '../aws/aws-connection.js';

/** What Lambda allows (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const LAMBDA_LIMITS = {
  timeoutSeconds: 900,
  minMemoryMiB: 128,
  memoryMiB: 10_240,
  minEphemeralStorageMiB: 512,
  ephemeralStorageMiB: 10_240,
  /** Sum of the names and values of a function's environment variables. */
  environmentBytes: 4096,
  syncPayloadBytes: 6 * 1024 * 1024,
  gpu: false,
} as const;

/** Options of the Lambda executor as they may be written in the platform's configuration. */
export const lambdaExecutorConfigSchema = awsConnectionSchema
  .extend({
    /** The execution role of every function (it needs CloudWatch Logs, and S3 for `s3.*` storage). */
    role: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'),
    /** Functions are named `<prefix><service>`. @default nubes- */
    functionPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{0,24}$/, 'letters, digits, - and _ only, at most 24')
      .default('nubes-'),
    /**
     * The image's entry point that speaks the Lambda Runtime API and runs the supervisor
     * (`dist/src/supervisor/lambda-main.js` of Nubes baked into the service's image).
     */
    entryPoint: z.array(z.string().min(1)).min(1).default(['/nubes/bin/nubes-lambda']),
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
    /**
     * The longest a job may run on Lambda here, declared in the executor's limits (Lambda's own is 900 s):
     * hybrid execution sends jobs that run longer to the batch executor. @default 900
     */
    maxTimeoutSeconds: z.number().int().min(1).max(LAMBDA_LIMITS.timeoutSeconds).default(900),
    /** Function timeout of services with no `timeout` of their own. @default 900 */
    defaultTimeoutSeconds: z.number().int().min(1).max(LAMBDA_LIMITS.timeoutSeconds).default(900),
    /**
     * Seconds the function lives past the service's timeout, so that the supervisor can stop the script
     * and still upload and report (SCAR's `timeout_threshold`). @default 10
     */
    timeoutThresholdSeconds: z.number().int().min(0).max(120).default(10),
    /** `/tmp` size of services that ask for none. @default 512 */
    ephemeralStorageMiB: z
      .number()
      .int()
      .min(LAMBDA_LIMITS.minEphemeralStorageMiB)
      .max(LAMBDA_LIMITS.ephemeralStorageMiB)
      .default(512),
    /**
     * How jobs are invoked: `RequestResponse` waits for the answer (at most 15 minutes, 6 MB payloads);
     * `Event` queues the invocation and follows it in CloudWatch Logs. Sync calls (/run) always wait.
     */
    invocationType: z.enum(['RequestResponse', 'Event']).default('RequestResponse'),
    /** Jobs of all services at once (the account's default concurrency is 1,000). */
    maxConcurrentInvocations: z.number().int().min(1).max(100_000).default(1000),
    /** How often CloudWatch Logs is read while an `Event` invocation runs. @default 1000 */
    logPollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
    /** How long past the function's timeout to wait for an invocation's end to reach the logs. */
    logGraceMs: z.number().int().min(0).max(600_000).default(60_000),
    /** How long to wait for a created or updated function to become ready. @default 300000 */
    readyTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
    /** The platform's S3 endpoint as functions reach it (provider `minio.default`). */
    storage: storageEndpointSchema.optional(),
    /**
     * Inputs on an AWS bucket (`s3.<id>` providers) get an S3 trigger: the bucket invokes the function
     * itself on each upload, with no job in the platform. @default true
     */
    s3Triggers: z.boolean().default(true),
    /** AWS S3 as functions reach it for `s3.*` storage (a VPC endpoint); the region's own otherwise. */
    functionS3Endpoint: z.string().url().optional(),
  })
  .strict();

/** The parsed, defaulted configuration. */
export type LambdaExecutorConfig = z.infer<typeof lambdaExecutorConfigSchema>;
