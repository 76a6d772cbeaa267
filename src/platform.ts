/**
 * @module platform
 * Wiring only: builds every domain from the loaded config and closes them in reverse order.
 */
import type { Logger, NubesConfig } from './core/index.js';

export interface Platform {
  /** Base URL of the REST API, e.g. http://127.0.0.1:8080 */
  apiUrl: string;
  /** Base URL of the S3 endpoint, e.g. http://127.0.0.1:9000 */
  s3Url: string;
  config: NubesConfig;
  close(): Promise<void>;
}

export function startPlatform(_config: NubesConfig, _logger: Logger): Promise<Platform> {
  return Promise.reject(new Error('startPlatform: not wired yet'));
}
