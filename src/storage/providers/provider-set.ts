/**
 * @module storage/providers/provider-set
 * The providers of one invocation: made on first use from the service's settings, shared by its stage-in
 * and stage-out, closed together. Also the zod schema of those settings, for the standalone supervisor,
 * which receives them in a secret environment variable rather than with the service definition.
 */
import { z } from 'zod';
import { PlatformError } from '../../core/index.js';
import type { ProviderSettings } from '../../fdl/service-spec.js';
import { createOnedataProvider } from './onedata-provider.js';
import { createS3Provider } from './s3-provider.js';
import type { StorageProvider } from './storage-provider.js';
import { createWebdavProvider } from './webdav-provider.js';

/** Connects to one provider (no request is made until it is used). */
export async function createStorageProvider(
  id: string,
  settings: ProviderSettings,
): Promise<StorageProvider> {
  switch (settings.type) {
    case 'minio':
    case 's3':
      return createS3Provider(id, settings);
    case 'webdav':
      return createWebdavProvider(id, settings);
    case 'onedata':
      return createOnedataProvider(id, settings);
  }
}

export type ProviderFactory = (id: string, settings: ProviderSettings) => Promise<StorageProvider>;

export class ProviderSet {
  private readonly open = new Map<string, Promise<StorageProvider>>();

  constructor(
    private readonly settings: Readonly<Record<string, ProviderSettings>>,
    private readonly factory: ProviderFactory = createStorageProvider,
  ) {}

  /** Whether `id` has settings (and so can be used). */
  has(id: string): boolean {
    return Object.hasOwn(this.settings, id);
  }

  get(id: string): Promise<StorageProvider> {
    let provider = this.open.get(id);
    if (provider === undefined) {
      const settings = Object.hasOwn(this.settings, id) ? this.settings[id] : undefined;
      if (settings === undefined) {
        return Promise.reject(
          new PlatformError(
            'VALIDATION_FAILED',
            `storage provider "${id}" is not defined in storage_providers`,
            {
              details: { provider: id },
            },
          ),
        );
      }
      provider = this.factory(id, settings);
      // A failed creation is not cached: the next use tries again.
      provider.catch(() => this.open.delete(id));
      this.open.set(id, provider);
    }
    return provider;
  }

  async close(): Promise<void> {
    const providers = await Promise.allSettled([...this.open.values()]);
    this.open.clear();
    await Promise.allSettled(
      providers.flatMap((result) => (result.status === 'fulfilled' ? [result.value.close()] : [])),
    );
  }
}

const nullableText = z.string().min(1).nullable();

/** ProviderSettings as JSON (the standalone supervisor's `NUBES_STORAGE_PROVIDERS`). */
export const providerSettingsSchema: z.ZodType<ProviderSettings, z.ZodTypeDef, unknown> =
  z.discriminatedUnion('type', [
    z
      .object({
        type: z.enum(['minio', 's3']),
        endpoint: z.string().url().nullable(),
        region: z.string().min(1),
        accessKey: nullableText,
        secretKey: nullableText,
        verifyTls: z.boolean(),
      })
      .strict(),
    z
      .object({
        type: z.literal('webdav'),
        baseUrl: z.string().url(),
        login: nullableText,
        password: z.string().nullable(),
      })
      .strict(),
    z
      .object({
        type: z.literal('onedata'),
        baseUrl: z.string().url(),
        token: z.string().min(1),
        space: z.string().min(1),
      })
      .strict(),
  ]);

export const providerSettingsMapSchema = z.record(z.string(), providerSettingsSchema);
