/**
 * @module executors/lambda/lambda-replies
 * The parts of Lambda's replies the executor relies on, checked strictly (see aws-errors.ts checkReply):
 * function states as the API reference lists them, Invoke's status codes and error payloads.
 */
import { z } from 'zod';

/** FunctionConfiguration (CreateFunction, GetFunctionConfiguration, Update… replies). */
export const functionConfigurationSchema = z.object({
  FunctionName: z.string().min(1),
  FunctionArn: z.string().startsWith('arn:'),
  PackageType: z.enum(['Image', 'Zip']).optional(),
  State: z.enum(['Pending', 'Active', 'Inactive', 'Failed']).optional(),
  StateReason: z.string().optional(),
  LastUpdateStatus: z.enum(['Successful', 'Failed', 'InProgress']).optional(),
  LastUpdateStatusReason: z.string().optional(),
  MemorySize: z.number().int().optional(),
  Timeout: z.number().int().optional(),
  Role: z.string().optional(),
  EphemeralStorage: z.object({ Size: z.number().int() }).optional(),
  Environment: z.object({ Variables: z.record(z.string()).optional() }).optional(),
  ImageConfigResponse: z
    .object({
      ImageConfig: z
        .object({ EntryPoint: z.array(z.string()).optional(), Command: z.array(z.string()).optional() })
        .optional(),
    })
    .optional(),
});

export type FunctionConfigurationReply = z.infer<typeof functionConfigurationSchema>;

/** GetFunction: the configuration, where the code is, and the function's tags. */
export const getFunctionSchema = z.object({
  Configuration: functionConfigurationSchema,
  Code: z.object({ ImageUri: z.string().optional(), ResolvedImageUri: z.string().optional() }).optional(),
  Tags: z.record(z.string()).optional(),
});

/** Invoke: 200 for RequestResponse, 202 for Event; FunctionError set when the function failed. */
export const invokeReplySchema = z.object({
  StatusCode: z.number().int(),
  FunctionError: z.string().optional(),
  LogResult: z.string().optional(),
  // A byte array for RequestResponse; Event answers 202 with no body (the SDK's value is then not bytes).
  Payload: z.unknown().optional(),
  ExecutedVersion: z.string().optional(),
  $metadata: z.object({ requestId: z.string().optional() }).passthrough(),
});

/** The payload of a failed invocation (Lambda's own errors and the Nubes runtime's). */
export const functionErrorPayloadSchema = z.object({
  errorMessage: z.string(),
  errorType: z.string().optional(),
});
