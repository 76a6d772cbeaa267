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
  // 4: scheduler: divisible jobs, their partitions, tenants and sites (src/scheduler)
  `
  CREATE TABLE sched_tenants (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    max_concurrent_jobs INTEGER NOT NULL,
    max_partitions INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  -- An infrastructure (a Slurm site, a workstation pool...) with its own token.
  CREATE TABLE sched_sites (
    name TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    slots INTEGER NOT NULL DEFAULT 0,
    last_seen_at INTEGER,
    created_at INTEGER NOT NULL
  ) STRICT;

  -- One divisible job. The sum_* .. finished_done columns are the balancer's running sums over the job's
  -- partitions, so that a report reads and writes one partition and this row (O(1)). version: optimistic
  -- concurrency (every write is conditional on the version read).
  CREATE TABLE sched_jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    iterations INTEGER NOT NULL,
    report_interval_ms INTEGER NOT NULL,
    epoch_ms INTEGER NOT NULL,
    deadline_at INTEGER,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    seq INTEGER NOT NULL,
    partition_count INTEGER NOT NULL,
    sum_done INTEGER NOT NULL DEFAULT 0,
    sum_assigned INTEGER NOT NULL DEFAULT 0,
    sum_speed REAL NOT NULL DEFAULT 0,
    sum_speed_time REAL NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 0,
    trusted INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    finished_done INTEGER NOT NULL DEFAULT 0,
    overrun INTEGER NOT NULL DEFAULT 0,
    deadline_checked_at INTEGER,
    result TEXT,
    error TEXT
  ) STRICT;
  CREATE INDEX sched_jobs_tenant ON sched_jobs(tenant, seq);
  CREATE INDEX sched_jobs_state ON sched_jobs(state, expires_at);

  CREATE TABLE sched_partitions (
    job_id TEXT NOT NULL REFERENCES sched_jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    job_seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    site TEXT,
    token_hash TEXT,
    lease_until INTEGER,
    assigned INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    speed REAL NOT NULL DEFAULT 0,
    trusted INTEGER NOT NULL DEFAULT 0,
    last_report_at INTEGER,
    last_report_sec REAL NOT NULL DEFAULT 0,
    last_elapsed_sec REAL NOT NULL DEFAULT 0,
    slow_reports INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER,
    finished_at INTEGER,
    result TEXT,
    PRIMARY KEY (job_id, idx)
  ) STRICT;
  CREATE INDEX sched_partitions_queue ON sched_partitions(state, tenant, job_seq, idx);
  CREATE INDEX sched_partitions_silent ON sched_partitions(state, last_report_at);
  CREATE INDEX sched_partitions_lease ON sched_partitions(lease_until) WHERE lease_until IS NOT NULL;

  -- Per-partition speed timeline (TaScaaS's balance.rep), insert-only.
  CREATE TABLE sched_speed_samples (
    job_id TEXT NOT NULL REFERENCES sched_jobs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    done INTEGER NOT NULL,
    speed REAL NOT NULL
  ) STRICT;
  CREATE INDEX sched_speed_samples_job ON sched_speed_samples(job_id, idx);

  -- Answers remembered per idempotency key, so a retried POST changes nothing twice.
  CREATE TABLE sched_idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
  ) STRICT;
  CREATE INDEX sched_idempotency_age ON sched_idempotency(created_at);
  `,
  // 5: jobs whose input is on an external storage provider; watermarks of polled external inputs
  `
  ALTER TABLE jobs ADD COLUMN input_provider TEXT;  -- <type>.<id>; NULL: the embedded store (minio.default)

  -- One row per polled input: objects modified after last_modified, or at it and not in keys_at, are new.
  CREATE TABLE input_watermarks (
    service TEXT NOT NULL,
    input TEXT NOT NULL,              -- <provider>/<bucket>/<folder>
    last_modified INTEGER NOT NULL,   -- epoch ms
    keys_at TEXT NOT NULL,            -- JSON list of the keys seen with that time
    PRIMARY KEY (service, input)
  ) STRICT;
  `,
  // 6: every run of a job on an executor (hybrid jobs run on their function executor, then on their batch one)
  `
  ALTER TABLE jobs ADD COLUMN runs TEXT NOT NULL DEFAULT '[]';  -- JSON list of JobRun, oldest first
  `,
  // 7: short-lived S3 keys of jobs on other machines (Slurm nodes), so that a restart does not revoke them
  `
  CREATE TABLE scoped_keys (
    access_key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,             -- sealed (auth/secret-box)
    scope TEXT NOT NULL,              -- JSON ObjectScope
    expires_at INTEGER NOT NULL       -- epoch ms
  ) STRICT, WITHOUT ROWID;
  `,
];
