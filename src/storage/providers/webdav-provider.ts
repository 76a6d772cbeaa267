/**
 * @module storage/providers/webdav-provider
 * `webdav.<id>`: any WebDAV server (dCache, Nextcloud, `rclone serve webdav`). Folders are created with
 * MKCOL (RFC 4918 answers 409 to a PUT whose parent is missing, 405 to a MKCOL on an existing folder).
 * Credentials travel as HTTP Basic, so the server should be https (OSCAR writes the host without scheme
 * and means https); an explicit `http://` is honoured for servers on a trusted network.
 */
import { HttpFileProvider } from './http-file-provider.js';
import type { StorageProvider } from './storage-provider.js';

export interface WebdavSettings {
  baseUrl: string;
  login: string | null;
  password: string | null;
}

export function createWebdavProvider(id: string, settings: WebdavSettings): StorageProvider {
  const authHeaders: Record<string, string> = {};
  if (settings.login !== null) {
    const pair = `${settings.login}:${settings.password ?? ''}`;
    authHeaders.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  return new HttpFileProvider({
    id,
    rootUrl: settings.baseUrl.replace(/\/+$/, ''),
    authHeaders,
    missingParentStatuses: [409, 404],
    createFolder: () => ({ method: 'MKCOL', headers: {} }),
    folderExistsStatuses: [405],
  });
}
