/**
 * @module storage/fs/object-table
 * The SQL of the embedded store: the `buckets` and `objects` tables, as prepared statements. Callers own
 * the transactions.
 */
import type { Db } from '../../state/index.js';
import type { BucketInfo, BucketVisibility, ContentHeaders, ObjectInfo } from '../object-store.js';
import type { ScanBound } from '../list-keys.js';

interface BucketRow {
  name: string;
  owner: string;
  visibility: string;
  allowed_users: string;
  created_at: number;
}

interface ObjectRow {
  bucket: string;
  key: string;
  file: string;
  size: number;
  etag: string;
  content_type: string;
  metadata: string;
  headers: string;
  last_modified: number;
}

/** An object's row: its public description plus the name of its data file. */
export interface StoredObject extends ObjectInfo {
  file: string;
  contentHeaders: ContentHeaders;
}

function toBucketInfo(row: BucketRow): BucketInfo {
  const visibility =
    row.visibility === 'public' || row.visibility === 'restricted' ? row.visibility : 'private';
  return {
    name: row.name,
    owner: row.owner,
    visibility,
    allowedUsers: JSON.parse(row.allowed_users) as string[],
    createdMs: row.created_at,
  };
}

function toStoredObject(row: ObjectRow): StoredObject {
  return {
    bucket: row.bucket,
    key: row.key,
    file: row.file,
    size: row.size,
    etag: row.etag,
    contentType: row.content_type,
    lastModifiedMs: row.last_modified,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    contentHeaders: JSON.parse(row.headers) as ContentHeaders,
  };
}

const OBJECT_COLUMNS = 'bucket, key, file, size, etag, content_type, metadata, headers, last_modified';

/** Prepared statements over `buckets` and `objects`. */
export class ObjectTable {
  private readonly statements;

  constructor(readonly db: Db) {
    this.statements = {
      bucket: db.prepare<[string], BucketRow>('SELECT * FROM buckets WHERE name = ?'),
      buckets: db.prepare<[], BucketRow>('SELECT * FROM buckets ORDER BY name'),
      insertBucket: db.prepare<[string, string, string, string, number]>(
        'INSERT INTO buckets (name, owner, visibility, allowed_users, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      updateBucket: db.prepare<[string, string, string]>(
        'UPDATE buckets SET visibility = ?, allowed_users = ? WHERE name = ?',
      ),
      deleteBucket: db.prepare<[string]>('DELETE FROM buckets WHERE name = ?'),
      anyObject: db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1',
      ),
      object: db.prepare<[string, string], ObjectRow>(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?`,
      ),
      upsertObject: db.prepare<[string, string, string, number, string, string, string, string, number]>(
        `INSERT INTO objects (${OBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket, key) DO UPDATE SET file = excluded.file, size = excluded.size, etag = excluded.etag,
           content_type = excluded.content_type, metadata = excluded.metadata, headers = excluded.headers,
           last_modified = excluded.last_modified`,
      ),
      deleteObject: db.prepare<[string, string]>('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      scanFirst: db.prepare<[string, number], ObjectRow>(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? ORDER BY key LIMIT ?`,
      ),
      // TEXT keys compare with memcmp over their UTF-8 bytes (BINARY collation): S3's order.
      scanFrom: db.prepare<[string, string, number], ObjectRow>(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`,
      ),
      scanAfter: db.prepare<[string, string, number], ObjectRow>(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?`,
      ),
      files: db.prepare<[string], { file: string }>('SELECT file FROM objects WHERE bucket = ?'),
    };
  }

  bucket(name: string): BucketInfo | null {
    const row = this.statements.bucket.get(name);
    return row === undefined ? null : toBucketInfo(row);
  }

  buckets(): BucketInfo[] {
    return this.statements.buckets.all().map(toBucketInfo);
  }

  /** Inserts the bucket; false when it already existed. */
  insertBucket(bucket: BucketInfo): boolean {
    return (
      this.statements.insertBucket.run(
        bucket.name,
        bucket.owner,
        bucket.visibility,
        JSON.stringify(bucket.allowedUsers),
        bucket.createdMs,
      ).changes > 0
    );
  }

  /** Changes who may use a bucket; false when there is no such bucket. */
  updateBucket(name: string, visibility: BucketVisibility, allowedUsers: string[]): boolean {
    return this.statements.updateBucket.run(visibility, JSON.stringify(allowedUsers), name).changes > 0;
  }

  deleteBucket(name: string): void {
    this.statements.deleteBucket.run(name);
  }

  hasObjects(bucket: string): boolean {
    return this.statements.anyObject.get(bucket) !== undefined;
  }

  object(bucket: string, key: string): StoredObject | null {
    const row = this.statements.object.get(bucket, key);
    return row === undefined ? null : toStoredObject(row);
  }

  upsertObject(object: StoredObject): void {
    this.statements.upsertObject.run(
      object.bucket,
      object.key,
      object.file,
      object.size,
      object.etag,
      object.contentType,
      JSON.stringify(object.metadata),
      JSON.stringify(object.contentHeaders),
      object.lastModifiedMs,
    );
  }

  deleteObject(bucket: string, key: string): void {
    this.statements.deleteObject.run(bucket, key);
  }

  scan(bucket: string, bound: ScanBound | null, limit: number): StoredObject[] {
    const rows =
      bound === null
        ? this.statements.scanFirst.all(bucket, limit)
        : (bound.inclusive ? this.statements.scanFrom : this.statements.scanAfter).all(
            bucket,
            bound.key,
            limit,
          );
    return rows.map(toStoredObject);
  }

  /** The data file names the bucket's rows refer to. */
  files(bucket: string): Set<string> {
    return new Set(this.statements.files.all(bucket).map((row) => row.file));
  }
}
