/**
 * @module state/migrations
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records the last.
 * Never edit a shipped migration: add a new one.
 */

export const MIGRATIONS: readonly string[] = [
  // 1: the core platform
  `
  CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT 'admin',
    visibility TEXT NOT NULL DEFAULT 'private',
    created_at INTEGER NOT NULL
  ) STRICT;

  -- One row per stored object. The data lives in objects/<bucket>/<file>; 'file' is a generated name,
  -- never derived from the key, so no key can reach outside the store.
  CREATE TABLE objects (
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE services (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    token TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT 'admin',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  -- Trigger index: which service listens on which bucket/folder (rebuilt on every service write).
  CREATE TABLE service_inputs (
    service TEXT NOT NULL REFERENCES services(name) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    folder TEXT NOT NULL,
    PRIMARY KEY (service, bucket, folder)
  ) STRICT;
  CREATE INDEX service_inputs_bucket ON service_inputs(bucket);

  -- The durable queue. status: queued | running | succeeded | failed | dead | cancelled
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,               -- storage | http
    status TEXT NOT NULL,
    event TEXT NOT NULL,              -- the raw event JSON handed to the script as EVENT
    input_bucket TEXT,
    input_key TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after INTEGER NOT NULL,       -- epoch ms: not before
    lease_owner TEXT,
    lease_until INTEGER,
    exit_code INTEGER,
    error TEXT,                       -- JSON ErrorData of the last failure
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    seq INTEGER NOT NULL              -- FIFO order
  ) STRICT;
  CREATE INDEX jobs_ready ON jobs(status, run_after, seq);
  CREATE INDEX jobs_service ON jobs(service, created_at);

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: the S3 endpoint's stored representation headers; who may use a restricted bucket
  `
  ALTER TABLE objects ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE buckets ADD COLUMN allowed_users TEXT NOT NULL DEFAULT '[]';
  `,
  // 3: users, groups, personal API tokens, per-user S3 keys, sealed service secrets (src/auth)
  `
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,             -- local | oidc
    admin INTEGER NOT NULL DEFAULT 0,
    quotas TEXT NOT NULL DEFAULT '{}', -- JSON: limits that differ from the configured defaults
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE user_groups (
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    grp TEXT NOT NULL,
    PRIMARY KEY (user, grp)
  ) STRICT;

  -- Personal API tokens: only the SHA-256 of the token is kept.
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER
  ) STRICT;

  -- Per-user S3 keys. SigV4 needs the secret itself, so it is sealed (AES-256-GCM), not hashed.
  CREATE TABLE s3_keys (
    access_key TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  -- environment.secrets of a service, sealed; the definition column holds none.
  ALTER TABLE services ADD COLUMN secrets_sealed TEXT;
  `,
];
