/**
 * @module cli/testing/local-project
 * A project folder as `npm start` leaves it: `.nubes-data/credentials.json` written by the server, and
 * the environment that points the CLI at that server (a fake API in tests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** What the fake local server "wrote" to credentials.json. */
export const TEST_CREDENTIALS = {
  adminUser: 'admin',
  adminPassword: 'local-pw',
  s3AccessKey: 'AKLOCAL',
  s3SecretKey: 'local-secret',
};

/** A temporary project folder whose local server answers at `url` (its port goes to NUBES_PORT). */
export function localProject(url: string): { cwd: string; env: NodeJS.ProcessEnv; homeDir: string } {
  const cwd = tempDir('nubes-cli-project-');
  mkdirSync(join(cwd, '.nubes-data'));
  writeFileSync(join(cwd, '.nubes-data', 'credentials.json'), JSON.stringify(TEST_CREDENTIALS));
  return { cwd, env: { NUBES_PORT: new URL(url).port }, homeDir: join(cwd, 'home') };
}
