/**
 * @module executors/storage-endpoint-schema
 * The platform's S3 endpoint as a remote executor's jobs reach it (pods, Lambda functions, Batch jobs):
 * where they stage inputs and outputs of provider `minio.default`, with the keys they use there.
 */
import { z } from 'zod';

export const storageEndpointSchema = z
  .object({
    endpoint: z.string().url(),
    accessKey: z.string().min(1),
    secretKey: z.string().min(1),
    region: z.string().min(1).default('us-east-1'),
  })
  .strict();

export type StorageEndpoint = z.infer<typeof storageEndpointSchema>;
