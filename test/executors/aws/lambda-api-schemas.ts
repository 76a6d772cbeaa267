/**
 * @module test/executors/aws/lambda-api-schemas
 * The Lambda API's requests as the API reference documents them (https://docs.aws.amazon.com/lambda/latest/api/),
 * for the operations Nubes uses: every documented field, with its type and constraints, and nothing else
 * (`strict`), so a misspelt or misplaced field fails the test.
 */
import { z } from 'zod';

const functionNamePattern =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
export const functionNameSchema = z.string().min(1).max(140).regex(functionNamePattern);
const roleSchema = z.string().regex(/^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/);
const environmentSchema = z
  .object({ Variables: z.record(z.string().regex(/^[a-zA-Z]([a-zA-Z0-9_])+$/), z.string()).optional() })
  .strict();
const imageConfigSchema = z
  .object({
    EntryPoint: z.array(z.string()).max(1500).optional(),
    Command: z.array(z.string()).max(1500).optional(),
    WorkingDirectory: z.string().max(1000).optional(),
  })
  .strict();
const settings = {
  Role: roleSchema,
  Handler: z.string().max(128).optional(),
  Runtime: z.string().optional(),
  Description: z.string().max(256).optional(),
  Timeout: z.number().int().min(1).max(900).optional(),
  MemorySize: z.number().int().min(128).max(10240).optional(),
  EphemeralStorage: z
    .object({ Size: z.number().int().min(512).max(10240) })
    .strict()
    .optional(),
  Environment: environmentSchema.optional(),
  ImageConfig: imageConfigSchema.optional(),
  VpcConfig: z
    .object({ SubnetIds: z.array(z.string()).optional(), SecurityGroupIds: z.array(z.string()).optional() })
    .optional(),
  DeadLetterConfig: z.object({ TargetArn: z.string().optional() }).optional(),
  KMSKeyArn: z.string().optional(),
  TracingConfig: z.object({ Mode: z.enum(['Active', 'PassThrough']).optional() }).optional(),
  Layers: z.array(z.string()).optional(),
  FileSystemConfigs: z.array(z.object({ Arn: z.string(), LocalMountPath: z.string() })).optional(),
  LoggingConfig: z.record(z.unknown()).optional(),
  SnapStart: z.object({ ApplyOn: z.string().optional() }).optional(),
};

/** CreateFunction (POST /2015-03-31/functions). */
export const createFunctionSchema = z
  .object({
    FunctionName: z.string().min(1).max(140).regex(functionNamePattern),
    ...settings,
    Code: z
      .object({
        ZipFile: z.string().optional(),
        S3Bucket: z.string().optional(),
        S3Key: z.string().optional(),
        S3ObjectVersion: z.string().optional(),
        ImageUri: z.string().optional(),
        SourceKMSKeyArn: z.string().optional(),
      })
      .strict(),
    Publish: z.boolean().optional(),
    PackageType: z.enum(['Zip', 'Image']).optional(),
    Tags: z.record(z.string().max(128), z.string().max(256)).optional(),
    Architectures: z
      .array(z.enum(['x86_64', 'arm64']))
      .length(1)
      .optional(),
    CodeSigningConfigArn: z.string().optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    // An image function has no handler or runtime and its code is an image URI (API reference, PackageType).
    if (request.PackageType === 'Image') {
      if (request.Code.ImageUri === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['Code', 'ImageUri'],
          message: 'required for PackageType Image',
        });
      if (request.Handler !== undefined || request.Runtime !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['Runtime'], message: 'not allowed for PackageType Image' });
      }
    }
  });

/** UpdateFunctionConfiguration (PUT …/configuration): the settings, FunctionName in the path. */
export const updateConfigurationSchema = z
  .object({ ...settings, Role: roleSchema.optional(), RevisionId: z.string().optional() })
  .strict();

/** UpdateFunctionCode (PUT …/code). */
export const updateCodeSchema = z
  .object({
    ImageUri: z.string().optional(),
    ZipFile: z.string().optional(),
    S3Bucket: z.string().optional(),
    S3Key: z.string().optional(),
    S3ObjectVersion: z.string().optional(),
    Publish: z.boolean().optional(),
    DryRun: z.boolean().optional(),
    RevisionId: z.string().optional(),
    Architectures: z
      .array(z.enum(['x86_64', 'arm64']))
      .length(1)
      .optional(),
    SourceKMSKeyArn: z.string().optional(),
  })
  .strict();

/** AddPermission (POST …/policy). */
export const addPermissionSchema = z
  .object({
    StatementId: z
      .string()
      .min(1)
      .max(100)
      .regex(/^([a-zA-Z0-9-_]+)$/),
    Action: z.string().regex(/^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/),
    Principal: z.string().regex(/^[^\s]+$/),
    SourceArn: z
      .string()
      .regex(/^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/)
      .optional(),
    SourceAccount: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    EventSourceToken: z.string().optional(),
    RevisionId: z.string().optional(),
    PrincipalOrgID: z.string().optional(),
    FunctionUrlAuthType: z.enum(['NONE', 'AWS_IAM']).optional(),
    InvokedViaFunctionUrl: z.boolean().optional(),
  })
  .strict();

/** PutFunctionEventInvokeConfig (PUT /2019-09-25/…/event-invoke-config). */
export const eventInvokeConfigSchema = z
  .object({
    MaximumRetryAttempts: z.number().int().min(0).max(2).optional(),
    MaximumEventAgeInSeconds: z.number().int().min(60).max(21600).optional(),
    DestinationConfig: z.record(z.unknown()).optional(),
  })
  .strict();

/** TagResource (POST /2017-03-31/tags/{arn}). */
export const tagResourceSchema = z
  .object({ Tags: z.record(z.string().min(1).max(128), z.string().max(256)) })
  .strict();

/** Invoke's headers and size limits. */
export const invokeHeadersSchema = z
  .object({
    'x-amz-invocation-type': z.enum(['RequestResponse', 'Event', 'DryRun']).optional(),
    'x-amz-log-type': z.enum(['None', 'Tail']).optional(),
  })
  .passthrough();
