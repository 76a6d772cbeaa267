/**
 * @module executors/aws/aws-connection
 * How the AWS executors (Lambda, Batch) reach AWS: the region, optional endpoint overrides per service (a
 * VPC endpoint, LocalStack, or the tests' in-test endpoint), optional static credentials (the SDK's default
 * chain otherwise: environment, shared files, instance or task role), and the SDK's retries.
 */
import { z } from 'zod';

/** Connection settings shared by the AWS executors, as written in the platform's configuration. */
export const awsConnectionSchema = z
  .object({
    /** @default us-east-1 */
    region: z.string().min(1).default('us-east-1'),
    /** Endpoint overrides by service; the public AWS endpoints of the region otherwise. */
    endpoints: z
      .object({
        lambda: z.string().url().optional(),
        batch: z.string().url().optional(),
        logs: z.string().url().optional(),
        s3: z.string().url().optional(),
      })
      .strict()
      .default({}),
    /** Static credentials; without them the SDK's default provider chain applies. */
    credentials: z
      .object({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /**
     * Attempts of one AWS call, the first included; throttling (429, ThrottlingException) and 5xx are
     * retried by the SDK with backoff, honouring Retry-After. @default 5
     */
    maxAttempts: z.number().int().min(1).max(20).default(5),
  })
  .strict();

export type AwsConnection = z.infer<typeof awsConnectionSchema>;

export type AwsService = keyof AwsConnection['endpoints'];

/** The options every SDK v3 client of `service` is built with. */
export function awsClientConfig(
  connection: AwsConnection,
  service: AwsService,
): {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  retryMode: 'standard';
} {
  const endpoint = connection.endpoints[service];
  return {
    region: connection.region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
    maxAttempts: connection.maxAttempts,
    retryMode: 'standard',
  };
}
