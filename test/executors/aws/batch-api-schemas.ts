/**
 * @module test/executors/aws/batch-api-schemas
 * AWS Batch's requests as its API reference documents them (https://docs.aws.amazon.com/batch/latest/APIReference/),
 * for the operations Nubes uses: documented fields with their types and constraints, nothing else.
 */
import { z } from 'zod';

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/);
const keyValue = z.object({ name: z.string(), value: z.string() }).strict();
const resourceRequirement = z
  .object({ type: z.enum(['GPU', 'VCPU', 'MEMORY']), value: z.string().regex(/^\d+(\.\d+)?$/) })
  .strict();
const tags = z.record(z.string().min(1).max(128), z.string().max(256));

export const createComputeEnvironmentSchema = z
  .object({
    computeEnvironmentName: name,
    type: z.enum(['MANAGED', 'UNMANAGED']),
    state: z.enum(['ENABLED', 'DISABLED']).optional(),
    unmanagedvCpus: z.number().int().optional(),
    computeResources: z
      .object({
        type: z.enum(['EC2', 'SPOT', 'FARGATE', 'FARGATE_SPOT']),
        allocationStrategy: z.string().optional(),
        minvCpus: z.number().int().min(0).optional(),
        maxvCpus: z.number().int().min(1),
        desiredvCpus: z.number().int().min(0).optional(),
        instanceTypes: z.array(z.string()).optional(),
        imageId: z.string().optional(),
        subnets: z.array(z.string()).min(1),
        securityGroupIds: z.array(z.string()).optional(),
        ec2KeyPair: z.string().optional(),
        instanceRole: z.string().optional(),
        tags: tags.optional(),
        placementGroup: z.string().optional(),
        bidPercentage: z.number().int().optional(),
        spotIamFleetRole: z.string().optional(),
        launchTemplate: z.record(z.unknown()).optional(),
        ec2Configuration: z.array(z.record(z.unknown())).optional(),
      })
      .strict()
      .optional(),
    serviceRole: z.string().optional(),
    tags: tags.optional(),
    eksConfiguration: z.record(z.unknown()).optional(),
    context: z.string().optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    const resources = request.computeResources;
    // Fargate resources take no instance settings (API reference, ComputeResource).
    if (
      resources?.type.startsWith('FARGATE') === true &&
      (resources.instanceTypes !== undefined || resources.minvCpus !== undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['computeResources'],
        message: 'instanceTypes and minvCpus are not allowed for Fargate',
      });
    }
    if (request.type === 'MANAGED' && resources === undefined) {
      ctx.addIssue({ code: 'custom', path: ['computeResources'], message: 'required for MANAGED' });
    }
  });

export const describeComputeEnvironmentsSchema = z
  .object({
    computeEnvironments: z.array(z.string()).max(100).optional(),
    maxResults: z.number().int().optional(),
    nextToken: z.string().optional(),
  })
  .strict();

export const createJobQueueSchema = z
  .object({
    jobQueueName: name,
    state: z.enum(['ENABLED', 'DISABLED']).optional(),
    schedulingPolicyArn: z.string().optional(),
    priority: z.number().int().min(0).max(1000),
    computeEnvironmentOrder: z
      .array(z.object({ order: z.number().int(), computeEnvironment: z.string().min(1) }).strict())
      .min(1)
      .max(3),
    tags: tags.optional(),
    jobStateTimeLimitActions: z.array(z.record(z.unknown())).optional(),
  })
  .strict();

export const describeJobQueuesSchema = z
  .object({
    jobQueues: z.array(z.string()).max(100).optional(),
    maxResults: z.number().int().optional(),
    nextToken: z.string().optional(),
  })
  .strict();

export const containerPropertiesSchema = z
  .object({
    image: z.string().min(1),
    command: z.array(z.string()).optional(),
    jobRoleArn: z.string().optional(),
    executionRoleArn: z.string().optional(),
    volumes: z.array(z.record(z.unknown())).optional(),
    environment: z.array(keyValue).optional(),
    mountPoints: z.array(z.record(z.unknown())).optional(),
    readonlyRootFilesystem: z.boolean().optional(),
    privileged: z.boolean().optional(),
    ulimits: z.array(z.record(z.unknown())).optional(),
    user: z.string().optional(),
    instanceType: z.string().optional(),
    resourceRequirements: z.array(resourceRequirement).optional(),
    linuxParameters: z.record(z.unknown()).optional(),
    logConfiguration: z.record(z.unknown()).optional(),
    secrets: z.array(z.object({ name: z.string(), valueFrom: z.string() })).optional(),
    networkConfiguration: z.record(z.unknown()).optional(),
    fargatePlatformConfiguration: z.record(z.unknown()).optional(),
    ephemeralStorage: z.object({ sizeInGiB: z.number().int() }).optional(),
    runtimePlatform: z.record(z.unknown()).optional(),
  })
  .strict();

export const registerJobDefinitionSchema = z
  .object({
    jobDefinitionName: name,
    type: z.enum(['container', 'multinode']),
    parameters: z.record(z.string()).optional(),
    schedulingPriority: z.number().int().optional(),
    containerProperties: containerPropertiesSchema.optional(),
    nodeProperties: z.record(z.unknown()).optional(),
    retryStrategy: z
      .object({
        attempts: z.number().int().min(1).max(10).optional(),
        evaluateOnExit: z.array(z.record(z.unknown())).optional(),
      })
      .strict()
      .optional(),
    propagateTags: z.boolean().optional(),
    timeout: z
      .object({ attemptDurationSeconds: z.number().int().min(60) })
      .strict()
      .optional(),
    tags: tags.optional(),
    platformCapabilities: z
      .array(z.enum(['EC2', 'FARGATE']))
      .max(1)
      .optional(),
    eksProperties: z.record(z.unknown()).optional(),
    ecsProperties: z.record(z.unknown()).optional(),
    consumableResourceProperties: z.record(z.unknown()).optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.type === 'container' && request.containerProperties === undefined) {
      ctx.addIssue({ code: 'custom', path: ['containerProperties'], message: 'required for container jobs' });
    }
  });

export const describeJobDefinitionsSchema = z
  .object({
    jobDefinitions: z.array(z.string()).optional(),
    maxResults: z.number().int().optional(),
    jobDefinitionName: z.string().optional(),
    status: z.enum(['ACTIVE', 'INACTIVE']).optional(),
    nextToken: z.string().optional(),
  })
  .strict();

export const deregisterJobDefinitionSchema = z.object({ jobDefinition: z.string().min(1) }).strict();

export const submitJobSchema = z
  .object({
    jobName: name,
    jobQueue: z.string().min(1),
    shareIdentifier: z.string().optional(),
    schedulingPriorityOverride: z.number().int().optional(),
    arrayProperties: z.object({ size: z.number().int().min(2).max(10000) }).optional(),
    dependsOn: z.array(z.record(z.unknown())).optional(),
    jobDefinition: z.string().min(1),
    parameters: z.record(z.string()).optional(),
    containerOverrides: z
      .object({
        vcpus: z.number().int().optional(),
        memory: z.number().int().optional(),
        command: z.array(z.string()).optional(),
        instanceType: z.string().optional(),
        environment: z.array(keyValue).optional(),
        resourceRequirements: z.array(resourceRequirement).optional(),
      })
      .strict()
      .optional(),
    nodeOverrides: z.record(z.unknown()).optional(),
    retryStrategy: z.record(z.unknown()).optional(),
    propagateTags: z.boolean().optional(),
    timeout: z
      .object({ attemptDurationSeconds: z.number().int().min(60) })
      .strict()
      .optional(),
    tags: tags.optional(),
    eksPropertiesOverride: z.record(z.unknown()).optional(),
    ecsPropertiesOverride: z.record(z.unknown()).optional(),
    consumableResourcePropertiesOverride: z.record(z.unknown()).optional(),
  })
  .strict();

export const describeJobsSchema = z.object({ jobs: z.array(z.string().min(1)).min(1).max(100) }).strict();

export const terminateJobSchema = z.object({ jobId: z.string().min(1), reason: z.string().min(1) }).strict();
