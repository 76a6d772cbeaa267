/**
 * @module storage/providers/onedata-provider
 * `onedata.<id>`: a Oneprovider's CDMI 1.1.1 interface, as OSCAR's supervisor uses it: the token in
 * `X-Auth-Token`, files at `https://<oneprovider_host>/cdmi/<space>/<path>` read and written as raw bytes
 * (non-CDMI content types), folders created with a CDMI container PUT (path ending in `/`).
 */
import { HttpFileProvider } from './http-file-provider.js';
import type { StorageProvider } from './storage-provider.js';
import { encodePath } from './http-provider-errors.js';

export interface OnedataSettings {
  baseUrl: string;
  token: string;
  space: string;
}

export const CDMI_VERSION = '1.1.1';

export function createOnedataProvider(id: string, settings: OnedataSettings): StorageProvider {
  return new HttpFileProvider({
    id,
    rootUrl: `${settings.baseUrl.replace(/\/+$/, '')}/cdmi/${encodePath(settings.space)}`,
    authHeaders: { 'x-auth-token': settings.token },
    missingParentStatuses: [404],
    createFolder: () => ({
      method: 'PUT',
      headers: {
        'x-cdmi-specification-version': CDMI_VERSION,
        'content-type': 'application/cdmi-container',
      },
    }),
    // 409: the container exists already.
    folderExistsStatuses: [409],
  });
}
