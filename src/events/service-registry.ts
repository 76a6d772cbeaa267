/**
 * @module events/service-registry
 * Deployed services: their OSCAR Service JSON and token in SQLite, and an in-memory index of resolved
 * specs used on the upload path to find which services an object triggers.
 */
import type { Db } from '../state/index.js';
import type { StorageEventName } from '../storage/object-store.js';
import type { Clock } from '../core/index.js';
import { PlatformError, safeEqual } from '../core/index.js';
import { toServiceSpec, triggeringInputs, type ServiceJson, type ServiceSpec } from '../fdl/index.js';

export interface ServiceRecord {
  name: string;
  json: ServiceJson;
  spec: ServiceSpec;
  token: string;
  owner: string;
  createdMs: number;
  updatedMs: number;
}

interface ServiceRow {
  name: string;
  definition: string;
  secrets_sealed: string | null;
  token: string;
  owner: string;
  created_at: number;
  updated_at: number;
}

/** Encrypts values at rest (auth/secret-box); the registry needs only these two operations. */
export interface Sealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

/**
 * What is sealed of a definition: `environment.secrets` and the `storage_providers` (their credentials).
 * Rows sealed before the providers were (a plain map of secrets) are still read.
 */
interface SealedParts {
  $nubes: 2;
  secrets?: Record<string, string>;
  storage_providers?: ServiceJson['storage_providers'];
}

/** The definition as stored: `environment.secrets` and `storage_providers` moved out, to be sealed. */
function splitSecrets(json: ServiceJson): { stored: ServiceJson; secrets: SealedParts | null } {
  const secrets = json.environment?.secrets;
  const hasSecrets = secrets !== undefined && Object.keys(secrets).length > 0;
  const providers = json.storage_providers;
  if (!hasSecrets && providers === undefined) return { stored: json, secrets: null };
  let stored: ServiceJson = json;
  const parts: SealedParts = { $nubes: 2 };
  if (hasSecrets) {
    const { secrets: _omitted, ...environment } = json.environment ?? {};
    stored = { ...stored, environment };
    parts.secrets = secrets;
  }
  if (providers !== undefined) {
    const { storage_providers: _moved, ...rest } = stored;
    stored = rest;
    parts.storage_providers = providers;
  }
  return { stored, secrets: parts };
}

/** Puts the sealed parts back into a stored definition. */
function joinSecrets(json: ServiceJson, opened: unknown): ServiceJson {
  const parts = opened as Partial<SealedParts> & Record<string, unknown>;
  if (parts.$nubes !== 2) {
    return { ...json, environment: { ...json.environment, secrets: opened as Record<string, string> } };
  }
  let out = json;
  if (parts.secrets !== undefined)
    out = { ...out, environment: { ...out.environment, secrets: parts.secrets } };
  if (parts.storage_providers !== undefined) out = { ...out, storage_providers: parts.storage_providers };
  return out;
}

export class ServiceRegistry {
  private readonly cache = new Map<string, ServiceRecord>();

  /**
   * @param sealer encrypts `environment.secrets` and `storage_providers` at rest; without one (tests,
   *   tools) they are stored as given.
   */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sealer: Sealer | null = null,
  ) {
    const unsealed: ServiceRecord[] = [];
    for (const row of db.prepare(`SELECT * FROM services`).all() as ServiceRow[]) {
      let json = JSON.parse(row.definition) as ServiceJson;
      // Written before provider credentials were sealed: sealed again now.
      if (sealer && json.storage_providers !== undefined && row.secrets_sealed !== null)
        unsealed.push(this.recordOf(row, json));
      if (row.secrets_sealed !== null) {
        if (!sealer) throw new PlatformError('CONFIG_INVALID', 'sealed service secrets need the secrets key');
        json = joinSecrets(json, JSON.parse(sealer.open(row.secrets_sealed)));
      } else if (
        sealer &&
        ((json.environment?.secrets && Object.keys(json.environment.secrets).length > 0) ||
          json.storage_providers !== undefined)
      ) {
        unsealed.push(this.recordOf(row, json));
      }
      this.cache.set(row.name, this.recordOf(row, json));
    }
    // Definitions written before secrets were sealed are sealed now.
    for (const { name } of unsealed) {
      const record = this.cache.get(name);
      if (record) this.write(record);
    }
  }

  private recordOf(row: ServiceRow, json: ServiceJson): ServiceRecord {
    return {
      name: row.name,
      json,
      spec: toServiceSpec(json),
      token: row.token,
      owner: row.owner,
      createdMs: row.created_at,
      updatedMs: row.updated_at,
    };
  }

  list(): ServiceRecord[] {
    return [...this.cache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): ServiceRecord {
    const record = this.cache.get(name);
    if (!record) throw new PlatformError('SERVICE_NOT_FOUND', `no service named "${name}"`);
    return record;
  }

  find(name: string): ServiceRecord | undefined {
    return this.cache.get(name);
  }

  /** Creates (or with `replace`, updates) a service; the spec must already be validated. */
  save(json: ServiceJson, options: { token: string; owner: string; replace: boolean }): ServiceRecord {
    const spec = toServiceSpec(json);
    const existing = this.cache.get(spec.name);
    if (existing && !options.replace)
      throw new PlatformError('SERVICE_EXISTS', `service "${spec.name}" already exists`);
    if (!existing && options.replace)
      throw new PlatformError('SERVICE_NOT_FOUND', `no service named "${spec.name}"`);
    const now = this.clock.now();
    const record: ServiceRecord = {
      name: spec.name,
      json,
      spec,
      token: options.token,
      owner: options.owner,
      createdMs: existing?.createdMs ?? now,
      updatedMs: now,
    };
    this.write(record);
    this.cache.set(record.name, record);
    return record;
  }

  private write(record: ServiceRecord): void {
    const { stored, secrets } = this.sealer
      ? splitSecrets(record.json)
      : { stored: record.json, secrets: null };
    const sealed = secrets && this.sealer ? this.sealer.seal(JSON.stringify(secrets)) : null;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO services (name, definition, secrets_sealed, token, owner, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, token = excluded.token,
             secrets_sealed = excluded.secrets_sealed, owner = excluded.owner, updated_at = excluded.updated_at`,
        )
        .run(
          record.name,
          JSON.stringify(stored),
          sealed,
          record.token,
          record.owner,
          record.createdMs,
          record.updatedMs,
        );
      this.db.prepare(`DELETE FROM service_inputs WHERE service = ?`).run(record.name);
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO service_inputs (service, bucket, folder) VALUES (?, ?, ?)`,
      );
      for (const input of triggeringInputs(record)) {
        if (isEmbeddedProvider(input.provider)) insert.run(record.name, input.bucket, input.folder);
      }
    })();
  }

  /** The service a 64-hex token belongs to, or null (compared in constant time). */
  serviceOfToken(token: string): string | null {
    let found: string | null = null;
    for (const record of this.cache.values()) if (safeEqual(record.token, token)) found = record.name;
    return found;
  }

  delete(name: string): void {
    this.get(name);
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM services WHERE name = ?`).run(name);
    })();
    this.cache.delete(name);
  }

  /**
   * Services whose input (on the embedded store) matches an object event: same bucket, key inside the
   * folder, and the event among those the input subscribes to (created objects unless it says otherwise).
   */
  triggeredBy(
    bucket: string,
    key: string,
    eventName: StorageEventName = 'ObjectCreated:Put',
  ): ServiceRecord[] {
    const matches: ServiceRecord[] = [];
    for (const record of this.cache.values()) {
      for (const input of triggeringInputs(record)) {
        if (!isEmbeddedProvider(input.provider) || input.bucket !== bucket) continue;
        if (!subscribes(input.events ?? DEFAULT_EVENTS, eventName)) continue;
        if (input.folder === '' || key.startsWith(`${input.folder}/`)) {
          matches.push(record);
          break;
        }
      }
    }
    return matches;
  }
}

const DEFAULT_EVENTS = ['s3:ObjectCreated:*'];

/** Whether an input's event patterns (`s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, ...) cover an event. */
export function subscribes(patterns: readonly string[], eventName: StorageEventName): boolean {
  const name = `s3:${eventName}`;
  return patterns.some((pattern) =>
    pattern.endsWith(':*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name,
  );
}

/** The embedded store answers to OSCAR's default MinIO provider. */
export function isEmbeddedProvider(provider: string): boolean {
  return provider === 'minio.default' || provider === 'minio';
}
