/**
 * @module executors/batch/batch-replies
 * The parts of AWS Batch's replies the executor relies on, checked strictly: the states of compute
 * environments, queues and jobs as the API reference lists them.
 */
import { z } from 'zod';

export const computeEnvironmentsSchema = z.object({
  computeEnvironments: z
    .array(
      z.object({
        computeEnvironmentName: z.string(),
        computeEnvironmentArn: z.string(),
        status: z.enum(['CREATING', 'UPDATING', 'DELETING', 'DELETED', 'VALID', 'INVALID']).optional(),
        statusReason: z.string().optional(),
        state: z.enum(['ENABLED', 'DISABLED']).optional(),
      }),
    )
    .default([]),
});

export const jobQueuesSchema = z.object({
  jobQueues: z
    .array(
      z.object({
        jobQueueName: z.string(),
        jobQueueArn: z.string(),
        status: z.enum(['CREATING', 'UPDATING', 'DELETING', 'DELETED', 'VALID', 'INVALID']).optional(),
        statusReason: z.string().optional(),
        state: z.enum(['ENABLED', 'DISABLED']),
      }),
    )
    .default([]),
});

export const jobDefinitionsSchema = z.object({
  jobDefinitions: z
    .array(
      z.object({
        jobDefinitionName: z.string(),
        jobDefinitionArn: z.string(),
        revision: z.number().int(),
        status: z.string().optional(),
        containerProperties: z
          .object({
            image: z.string().optional(),
            command: z.array(z.string()).optional(),
            resourceRequirements: z
              .array(z.object({ type: z.enum(['VCPU', 'MEMORY', 'GPU']), value: z.string() }))
              .optional(),
            environment: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
            jobRoleArn: z.string().optional(),
            executionRoleArn: z.string().optional(),
          })
          .optional(),
        timeout: z.object({ attemptDurationSeconds: z.number().int().optional() }).optional(),
      }),
    )
    .default([]),
  nextToken: z.string().optional(),
});

export const registerReplySchema = z.object({
  jobDefinitionName: z.string(),
  jobDefinitionArn: z.string(),
  revision: z.number().int(),
});

export const submitReplySchema = z.object({
  jobId: z.string().min(1),
  jobName: z.string(),
  jobArn: z.string().optional(),
});

export const JOB_STATUSES = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
] as const;

export const describeJobsSchema = z.object({
  jobs: z
    .array(
      z.object({
        jobId: z.string(),
        jobName: z.string(),
        status: z.enum(JOB_STATUSES),
        statusReason: z.string().optional(),
        startedAt: z.number().optional(),
        stoppedAt: z.number().optional(),
        container: z
          .object({
            exitCode: z.number().int().optional(),
            reason: z.string().optional(),
            logStreamName: z.string().optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

export type BatchJob = z.infer<typeof describeJobsSchema>['jobs'][number];
