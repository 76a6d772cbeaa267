/**
 * @module fdl/storage-json
 * Schemas of OSCAR's storage pieces, shared by the FDL and the Service JSON: an `input`/`output` entry
 * (StorageIOConfig), a `mount`, the `storage_providers` credentials and the `clusters` of a federation.
 */
import { z } from 'zod';
import { bool, choice, num, opt, strictObject, text, textMap } from './schema-kit.js';

/** Provider types OSCAR knows; a `storage_provider` is `<type>` or `<type>.<id>`. */
export const STORAGE_PROVIDER_TYPES = ['minio', 's3', 'onedata', 'webdav', 'rucio'] as const;
export type StorageProviderType = (typeof STORAGE_PROVIDER_TYPES)[number];

// OSCAR lower-cases the type part (`S3.x` works), so the check does too.
const PROVIDER_PATTERN = new RegExp(`^(${STORAGE_PROVIDER_TYPES.join('|')})(\\.[^\\s.][^\\s]*)?$`, 'i');

const providerReference = text({
  nonEmpty: true,
  pattern: PROVIDER_PATTERN,
  patternMessage: `storage_provider must be <type> or <type>.<id> with type one of ${STORAGE_PROVIDER_TYPES.join(', ')}`,
});

const textList = z.array(text());

/**
 * The storage events an input may subscribe to (Nubes addition), named as in MinIO's and S3's bucket
 * notifications. An input without `events` is triggered by created objects, as in OSCAR.
 */
export const STORAGE_EVENT_PATTERNS = [
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
] as const;

/**
 * How an input on an external MinIO or S3 service learns of new objects (Nubes addition `trigger`): the
 * service calls Nubes back (`webhook`, the default), Nubes lists the bucket every `poll_interval` seconds
 * (`poll`), or Nubes reads the bucket's notifications from an SQS queue (`sqs`, with `queue_url`).
 */
export const INPUT_TRIGGERS = ['webhook', 'poll', 'sqs'] as const;

/** One `input` or `output` entry. `prefix`/`suffix` filter outputs by file name. */
export const storageIoSchema = strictObject({
  storage_provider: providerReference,
  path: text({ nonEmpty: true }),
  prefix: opt(textList),
  suffix: opt(textList),
  events: opt(z.array(choice(STORAGE_EVENT_PATTERNS))),
  trigger: opt(choice(INPUT_TRIGGERS)),
  poll_interval: opt(num({ min: 1, max: 86_400 })),
  queue_url: opt(text({ nonEmpty: true })),
}).superRefine((io, ctx) => {
  if (io.trigger === 'sqs' && io.queue_url === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['queue_url'],
      message: 'trigger sqs needs queue_url',
    });
  }
});
export type StorageIoJson = z.infer<typeof storageIoSchema>;

/**
 * `mount`: a provider path rclone-mounted into the container. Every field is optional because OSCAR's GET
 * answers `{"storage_provider": "", "path": ""}` for services without one.
 */
export const mountSchema = strictObject({
  storage_provider: opt(providerReference, { emptyIsAbsent: true }),
  path: opt(text(), { emptyIsAbsent: true }),
  prefix: opt(textList),
  suffix: opt(textList),
  options: opt(text(), { emptyIsAbsent: true }),
});
export type MountJson = z.infer<typeof mountSchema>;

const optText = () => opt(text());

const minioProviderSchema = strictObject({
  endpoint: optText(),
  verify: opt(bool()),
  access_key: optText(),
  secret_key: optText(),
  region: optText(),
});
// `endpoint` and `verify` are Nubes additions: any S3-compatible service, not only AWS.
const s3ProviderSchema = strictObject({
  endpoint: optText(),
  verify: opt(bool()),
  access_key: optText(),
  secret_key: optText(),
  region: optText(),
});
const onedataProviderSchema = strictObject({
  oneprovider_host: optText(),
  token: optText(),
  space: optText(),
});
const webdavProviderSchema = strictObject({ hostname: optText(), login: optText(), password: optText() });
const rucioProviderSchema = strictObject({
  host: optText(),
  auth_host: optText(),
  account: optText(),
  rse: optText(),
  refresh_token: optText(),
  oidc_audience: optText(),
  token_endpoint: optText(),
});

/** `storage_providers`: per type, a map of provider id → credentials. */
export const storageProvidersSchema = strictObject({
  minio: opt(z.record(z.string(), minioProviderSchema)),
  s3: opt(z.record(z.string(), s3ProviderSchema)),
  onedata: opt(z.record(z.string(), onedataProviderSchema)),
  webdav: opt(z.record(z.string(), webdavProviderSchema)),
  rucio: opt(z.record(z.string(), rucioProviderSchema)),
});
export type StorageProvidersJson = z.infer<typeof storageProvidersSchema>;

/**
 * One entry of `clusters`. `memory`, `cpu` and `log_level` are not OSCAR fields: they are the per-cluster
 * service defaults of SCAR's `scar.cfg` cluster records, which OSCAR examples carry along; they are accepted,
 * and the FDL parser reports them as unused.
 */
export const clusterSchema = strictObject({
  endpoint: optText(),
  auth_user: optText(),
  auth_password: optText(),
  ssl_verify: opt(bool()),
  memory: optText(),
  cpu: optText(),
  log_level: optText(),
});
export type ClusterJson = z.infer<typeof clusterSchema>;

/** Keys of a cluster entry that only SCAR's configuration uses. */
export const SCAR_ONLY_CLUSTER_KEYS = ['memory', 'cpu', 'log_level'] as const;

/** A federation member (v4) or a replica (v3): where jobs may be delegated. */
export const replicaSchema = strictObject({
  type: choice(['oscar', 'endpoint'] as const, { caseInsensitive: true }),
  cluster_id: optText(),
  service_name: optText(),
  url: optText(),
  ssl_verify: opt(bool()),
  priority: opt(num({ integer: true, min: 0 })),
  headers: opt(textMap()),
});
export type ReplicaJson = z.infer<typeof replicaSchema>;
