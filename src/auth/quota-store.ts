/**
 * @module auth/quota-store
 * The object store as users reach it through the S3 endpoint, with their storage quotas enforced before
 * anything is written: bytes stored in the buckets a user owns, and the number of buckets they own. A
 * refused write stores nothing (the check runs before the store reads the body).
 */
import type { ObjectStore, PutOptions } from '../storage/index.js';
import type { QuotaGuard } from './usage.js';

/** `store` with `guard`'s storage quotas applied to puts, copies and bucket creation. */
export function withStorageQuotas(store: ObjectStore, guard: QuotaGuard): ObjectStore {
  const ownerOf = async (bucket: string): Promise<string | null> => {
    try {
      return (await store.headBucket(bucket)).owner;
    } catch {
      // A missing bucket: the store itself answers NoSuchBucket.
      return null;
    }
  };
  const overrides: Partial<ObjectStore> = {
    async put(bucket, key, body, options?: PutOptions) {
      const owner = await ownerOf(bucket);
      // Streams of unknown length are admitted while the owner is under the limit.
      if (owner !== null) guard.admitBytes(owner, options?.expectedSize ?? 0);
      return store.put(bucket, key, body, options);
    },
    async copy(source, target, options) {
      const owner = await ownerOf(target.bucket);
      if (owner !== null) {
        const size = await store.head(source.bucket, source.key).then(
          (info) => info.size,
          () => 0,
        );
        guard.admitBytes(owner, size);
      }
      return store.copy(source, target, options);
    },
    async createBucket(name, options) {
      if (options?.owner !== undefined) guard.admitBucket(options.owner);
      return store.createBucket(name, options);
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(overrides, property))
        return overrides[property as keyof ObjectStore];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
