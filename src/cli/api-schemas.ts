/**
 * @module cli/api-schemas
 * The parts of the REST API's answers the CLI reads, validated once when they arrive. The shapes are
 * OSCAR's (snake_case); fields the CLI does not read pass through untouched.
 */
import { z } from 'zod';

const stringList = z
  .array(z.string())
  .nullish()
  .transform((value) => value ?? []);

/** One `input`/`output` entry of a service (OSCAR StorageIOConfig). */
export const storageIoSchema = z
  .object({
    storage_provider: z
      .string()
      .nullish()
      .transform((value) => value || 'minio.default'),
    path: z.string(),
    prefix: stringList,
    suffix: stringList,
  })
  .passthrough();

/** A parsed `input`/`output` entry (provider defaulted, filters as lists). */
export type StorageIo = z.infer<typeof storageIoSchema>;

const credentialsProviderSchema = z
  .object({
    endpoint: z.string().nullish(),
    verify: z.boolean().nullish(),
    access_key: z.string().nullish(),
    secret_key: z.string().nullish(),
    region: z.string().nullish(),
  })
  .passthrough();

/** A service as GET /system/services[/{name}] returns it. */
export const serviceSchema = z
  .object({
    name: z.string(),
    image: z.string().nullish(),
    cpu: z.union([z.string(), z.number()]).nullish(),
    memory: z.union([z.string(), z.number()]).nullish(),
    token: z.string().nullish(),
    input: z
      .array(storageIoSchema)
      .nullish()
      .transform((value) => value ?? []),
    output: z
      .array(storageIoSchema)
      .nullish()
      .transform((value) => value ?? []),
    storage_providers: z
      .object({
        minio: z.record(credentialsProviderSchema).nullish(),
        s3: z.record(credentialsProviderSchema).nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

/** A parsed service. */
export type Service = z.infer<typeof serviceSchema>;

/** MinIO credentials of the caller, from GET /system/config. */
export const minioProviderSchema = z.object({
  endpoint: z.string(),
  verify: z.boolean().default(true),
  access_key: z.string(),
  secret_key: z.string(),
  region: z.string().default('us-east-1'),
});

/** The caller's MinIO endpoint and keys. */
export type MinioProvider = z.infer<typeof minioProviderSchema>;

/** GET /system/config */
export const systemConfigSchema = z
  .object({
    config: z.record(z.unknown()).nullish(),
    minio_provider: minioProviderSchema,
  })
  .passthrough();

/** A parsed GET /system/config answer. */
export type SystemConfig = z.infer<typeof systemConfigSchema>;

const timeField = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);

/** One job in GET /system/logs/{name}. */
export const jobInfoSchema = z
  .object({
    status: z.string(),
    creation_time: timeField,
    start_time: timeField,
    finish_time: timeField,
    exit_code: z
      .number()
      .nullish()
      .transform((value) => value ?? undefined),
  })
  .passthrough();

/** A parsed job of a listing. */
export type JobInfo = z.infer<typeof jobInfoSchema>;

/** GET /system/logs/{name}: one page of jobs. */
export const jobsPageSchema = z.object({
  jobs: z
    .record(jobInfoSchema)
    .nullish()
    .transform((value) => value ?? {}),
  next_page: z
    .union([z.string(), z.number()])
    .nullish()
    .transform((value) =>
      value === null || value === undefined || value === '' ? undefined : String(value),
    ),
  remaining_jobs: z
    .number()
    .nullish()
    .transform((value) => value ?? undefined),
});

/** A parsed page of jobs. */
export type JobsPage = z.infer<typeof jobsPageSchema>;

/** The answer of POST /job/{name}, when it has a body. */
export const jobSubmittedSchema = z
  .object({
    job_id: z.string().optional(),
    jobId: z.string().optional(),
    id: z.string().optional(),
  })
  .passthrough()
  .transform((value) => value.job_id ?? value.jobId ?? value.id);
