/**
 * @module fdl/user-isolation
 * OSCAR's `isolation_level: USER` in terms of buckets: every allowed user gets a private copy of each of the
 * service's buckets on the embedded store, named as OSCAR names them (`<bucket>-<first 10 characters of the
 * user>`); an upload into a user's copy of an input triggers the service, and that job's outputs go to the
 * same user's copies of the output buckets, so no user sees another's data.
 */
import type { ServiceJson } from './service-json.js';
import type { ServiceSpec, StorageIoSpec } from './service-spec.js';

/** A service as stored: its resolved spec and the Service JSON it came from (`isolation_level` is there). */
export interface IsolatedService {
  spec: ServiceSpec;
  json: Pick<ServiceJson, 'isolation_level'>;
}

/** Whether the service isolates its users (OSCAR's `isolation_level: USER`, any case). */
export function isolatesUsers(service: IsolatedService): boolean {
  return service.json.isolation_level?.toUpperCase() === 'USER';
}

/** The embedded store's providers (OSCAR's default MinIO). */
function isEmbedded(io: StorageIoSpec): boolean {
  return io.provider === 'minio.default' || io.provider === 'minio';
}

/**
 * `<bucket>-<user[:10]>` as OSCAR names it, made a valid bucket name: lower case, characters other than
 * letters, digits, `.` and `-` become `-`, at most 63 characters, ending with a letter or digit.
 */
export function userBucketName(bucket: string, user: string): string {
  const suffix = user
    .slice(0, 10)
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-');
  return `${bucket}-${suffix}`
    .slice(0, 63)
    .replace(/[.-]+$/, '')
    .replace(/[.-]{2,}/g, '-');
}

export interface UserBucket {
  user: string;
  /** The service's bucket. */
  bucket: string;
  /** The user's private copy. */
  userBucket: string;
}

/** The per-user buckets of a service (none unless `isolation_level: USER`). */
export function userBuckets(service: IsolatedService): UserBucket[] {
  if (!isolatesUsers(service)) return [];
  const { spec } = service;
  const buckets = new Set([...spec.input, ...spec.output].filter(isEmbedded).map((io) => io.bucket));
  const result: UserBucket[] = [];
  for (const user of new Set(spec.allowedUsers)) {
    for (const bucket of buckets) result.push({ user, bucket, userBucket: userBucketName(bucket, user) });
  }
  return result;
}

/** The inputs that trigger the service: its own, and each allowed user's copies of them. */
export function triggeringInputs(service: IsolatedService): StorageIoSpec[] {
  const { spec } = service;
  const copies = userBuckets(service);
  const inputs = [...spec.input];
  for (const input of spec.input) {
    if (!isEmbedded(input)) continue;
    for (const copy of copies) {
      if (copy.bucket !== input.bucket) continue;
      const path = input.folder === '' ? copy.userBucket : `${copy.userBucket}/${input.folder}`;
      inputs.push({ ...input, bucket: copy.userBucket, path });
    }
  }
  return inputs;
}

/** The user whose copy `bucket` is, or null. */
export function userOfBucket(service: IsolatedService, bucket: string): string | null {
  return userBuckets(service).find((copy) => copy.userBucket === bucket)?.user ?? null;
}

/**
 * The service as one job sees it: a job on a user's copy of an input writes its outputs into that user's
 * copies of the output buckets (outputs elsewhere than the embedded store are left as they are).
 */
export function specForInput(service: IsolatedService, inputBucket: string | null): ServiceSpec {
  const { spec } = service;
  if (inputBucket === null) return spec;
  const user = userOfBucket(service, inputBucket);
  if (user === null) return spec;
  return {
    ...spec,
    output: spec.output.map((output) => {
      if (!isEmbedded(output)) return output;
      const bucket = userBucketName(output.bucket, user);
      return { ...output, bucket, path: output.folder === '' ? bucket : `${bucket}/${output.folder}` };
    }),
  };
}
