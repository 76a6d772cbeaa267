/**
 * @module executors/batch/config-schema
 * The configuration of the AWS Batch executor: the connection, the job queue jobs go to and the compute
 * environment behind it (each used as it is, or created when described here), the roles of the jobs, and
 * how the jobs reach the platform's S3 endpoint.
 */
import { z } from 'zod';
import { storageEndpointSchema } from '../storage-endpoint-schema.js';
import { awsConnectionSchema } from '../aws/aws-connection.js';

const batchName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'letters, digits, - and _ only, at most 128');
const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN');

/** A managed compute environment to create when it does not exist (SCAR's `batch.compute_resources`). */
const computeEnvironmentSchema = z
  .object({
    name: batchName,
    /** EC2 and SPOT run GPU jobs; FARGATE has no GPU. @default EC2 */
    type: z.enum(['EC2', 'SPOT', 'FARGATE', 'FARGATE_SPOT']).default('EC2'),
    minvCpus: z.number().int().min(0).default(0),
    maxvCpus: z.number().int().min(1).default(2),
    desiredvCpus: z.number().int().min(0).optional(),
    /** @default ['optimal'] */
    instanceTypes: z.array(z.string().min(1)).min(1).default(['optimal']),
    subnets: z.array(z.string().min(1)).min(1),
    securityGroupIds: z.array(z.string().min(1)).min(1),
    /** The EC2 instance profile (EC2 and SPOT only). */
    instanceRole: z.string().min(1).optional(),
    serviceRole: roleArn.optional(),
  })
  .strict();

/** Options of the Batch executor as they may be written in the platform's configuration. */
export const batchExecutorConfigSchema = awsConnectionSchema
  .extend({
    jobQueue: z
      .object({
        name: batchName.default('nubes'),
        /** Create the queue when it does not exist. @default true */
        create: z.boolean().default(true),
        priority: z.number().int().min(0).max(1000).default(1),
        /** Existing compute environments of a created queue, in order (the one below comes first). */
        computeEnvironments: z.array(batchName).default([]),
      })
      .strict()
      .default({}),
    computeEnvironment: computeEnvironmentSchema.optional(),
    /** Job definitions are named `<prefix><service>`. @default nubes- */
    definitionPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{0,24}$/)
      .default('nubes-'),
    /** The role of the jobs' containers (what AWS S3 and other services see). */
    jobRoleArn: roleArn.optional(),
    /** The role ECS uses to pull images and write logs (required on Fargate). */
    executionRoleArn: roleArn.optional(),
    /** The standalone supervisor in the image (`dist/src/supervisor/main.js` behind a wrapper). */
    supervisorPath: z.string().startsWith('/').default('/nubes/bin/nubes-supervisor'),
    /** Seconds a job lives past its service's timeout for the supervisor to stop it and report. */
    timeoutThresholdSeconds: z.number().int().min(0).max(600).default(10),
    /** Jobs of all services at once. @default 1000 */
    maxConcurrentJobs: z.number().int().min(1).max(100_000).default(1000),
    /** How often a job's state is read. @default 5000 */
    pollIntervalMs: z.number().int().min(10).max(600_000).default(5000),
    /** How long to wait for a created compute environment or queue to become VALID. */
    readyTimeoutMs: z.number().int().min(100).max(3_600_000).default(600_000),
    /** Where the jobs' logs go (Batch's default awslogs group). */
    logGroup: z.string().min(1).default('/aws/batch/job'),
    /** The platform's S3 endpoint as jobs reach it (provider `minio.default`). */
    storage: storageEndpointSchema.optional(),
  })
  .strict();

export type BatchExecutorConfig = z.infer<typeof batchExecutorConfigSchema>;
