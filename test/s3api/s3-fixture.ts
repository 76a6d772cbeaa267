/**
 * @module test/s3api/s3-fixture
 * An embedded store behind the S3 endpoint on port 0, in a temporary directory, and the environment the
 * real clients (aws cli, boto3) run with.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/state/index.js';
import { createFsObjectStore, type FsObjectStore, type StorageEvent } from '../../src/storage/index.js';
import { createS3Server, type S3ServerOptions } from '../../src/s3api/index.js';

export const ACCESS_KEY_ID = 'NUBESTESTACCESSKEY01';
export const SECRET_KEY = 'nubes-test-secret-key/with+special=chars';
export const REGION = 'us-east-1';
export const PRINCIPAL = 'test-user';
/** Keys of two ordinary (non-admin) users, for visibility tests: access key id -> user. */
export const USERS = {
  ALICEACCESSKEY000001: { secretKey: 'alice-secret', principal: 'alice' },
  BOBACCESSKEY00000001: { secretKey: 'bob-secret', principal: 'bob' },
} as const;

export interface S3Fixture {
  url: string;
  port: number;
  store: FsObjectStore;
  db: Db;
  dir: string;
  events: StorageEvent[];
  /** Environment for aws cli / boto3 child processes: our credentials, a temporary HOME, no CA bundle. */
  clientEnv: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startS3Fixture(overrides: Partial<S3ServerOptions> = {}): Promise<S3Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'nubes-s3api-'));
  const db = openDatabase(join(dir, 'nubes.db'), { durable: false });
  const events: StorageEvent[] = [];
  const store = await createFsObjectStore({
    db,
    rootDir: join(dir, 'objects'),
    onEvent: (event) => events.push(event),
  });
  const server = createS3Server({
    store,
    region: REGION,
    multipartDir: join(dir, 'multipart'),
    resolveSecret: (accessKeyId) =>
      accessKeyId === ACCESS_KEY_ID
        ? { secretKey: SECRET_KEY, principal: PRINCIPAL, admin: true }
        : (USERS[accessKeyId as keyof typeof USERS] ?? null),
    ...overrides,
  });
  const { port, url } = await server.listen(0, '127.0.0.1');
  const clientEnv: NodeJS.ProcessEnv = { ...process.env };
  // Our machines export CA bundles for their package mirrors; no client must see them or a profile.
  for (const name of Object.keys(clientEnv)) {
    if (/^AWS_|_CA_BUNDLE$|^(https?|all)_proxy$/i.test(name)) delete clientEnv[name];
  }
  Object.assign(clientEnv, {
    HOME: join(dir, 'home'),
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_DEFAULT_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    PYTHONDONTWRITEBYTECODE: '1',
    NO_PROXY: '127.0.0.1,localhost',
  });
  return {
    url,
    port,
    store,
    db,
    dir,
    events,
    clientEnv,
    async close() {
      await server.close();
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
