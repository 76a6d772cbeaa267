/**
 * @module events/service-registry
 * Deployed services: their OSCAR Service JSON and token in SQLite, and an in-memory index of resolved
 * specs used on the upload path to find which services an object triggers.
 */
import type { Db } from '../state/index.js';
import type { StorageEventName } from '../storage/object-store.js';
import type { Clock } from '../core/index.js';
import { PlatformError } from '../core/index.js';
import { toServiceSpec, type ServiceJson, type ServiceSpec } from '../fdl/index.js';

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
  token: string;
  owner: string;
  created_at: number;
  updated_at: number;
}

export class ServiceRegistry {
  private readonly cache = new Map<string, ServiceRecord>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    for (const row of db.prepare(`SELECT * FROM services`).all() as ServiceRow[]) {
      const json = JSON.parse(row.definition) as ServiceJson;
      this.cache.set(row.name, {
        name: row.name,
        json,
        spec: toServiceSpec(json),
        token: row.token,
        owner: row.owner,
        createdMs: row.created_at,
        updatedMs: row.updated_at,
      });
    }
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
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO services (name, definition, token, owner, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, token = excluded.token,
             owner = excluded.owner, updated_at = excluded.updated_at`,
        )
        .run(
          record.name,
          JSON.stringify(json),
          record.token,
          record.owner,
          record.createdMs,
          record.updatedMs,
        );
      this.db.prepare(`DELETE FROM service_inputs WHERE service = ?`).run(record.name);
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO service_inputs (service, bucket, folder) VALUES (?, ?, ?)`,
      );
      for (const input of spec.input) {
        if (isEmbeddedProvider(input.provider)) insert.run(record.name, input.bucket, input.folder);
      }
    })();
    this.cache.set(record.name, record);
    return record;
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
      for (const input of record.spec.input) {
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
