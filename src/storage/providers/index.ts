/**
 * @module storage/providers
 * Storage providers named in FDL (`minio.<id>`, `s3.<id>`, `webdav.<id>`, `onedata.<id>`): read an
 * input object into a file and write output files, for the supervisor.
 */
export type { ObjectLocation, StorageProvider, UploadSource } from './storage-provider.js';
export {
  ProviderSet,
  createStorageProvider,
  providerSettingsSchema,
  providerSettingsMapSchema,
  type ProviderFactory,
} from './provider-set.js';
export { createS3Provider, type S3ProviderSettings } from './s3-provider.js';
export { createWebdavProvider, type WebdavSettings } from './webdav-provider.js';
export { createOnedataProvider, CDMI_VERSION, type OnedataSettings } from './onedata-provider.js';
