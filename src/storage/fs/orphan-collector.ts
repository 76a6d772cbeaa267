/**
 * @module storage/fs/orphan-collector
 * Crash recovery for the embedded store. A PUT writes its file before the row that refers to it, and a
 * replaced or deleted file is unlinked after the commit, so a crash can leave files no row refers to, never
 * a row without its file. Run once at open, before any write.
 */
import { readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectTable } from './object-table.js';

/** The store's folder of in-progress uploads, under its root; not a valid bucket name, so never a bucket. */
export const TMP_DIR_NAME = '.tmp';

export interface OrphanReport {
  /** Files removed: unfinished uploads and data files no row refers to. */
  removedFiles: number;
}

/** Removes unfinished uploads and unreferenced data files under `rootDir`. Synchronous: runs at open. */
export function collectOrphans(table: ObjectTable, rootDir: string): OrphanReport {
  let removedFiles = 0;
  const tmpDir = join(rootDir, TMP_DIR_NAME);
  for (const name of readdirSync(tmpDir)) {
    rmSync(join(tmpDir, name), { recursive: true, force: true });
    removedFiles++;
  }
  for (const bucket of readdirSync(rootDir)) {
    if (bucket === TMP_DIR_NAME) continue;
    const dir = join(rootDir, bucket);
    if (!statSync(dir).isDirectory()) continue;
    const referenced = table.files(bucket);
    for (const file of readdirSync(dir)) {
      if (referenced.has(file)) continue;
      rmSync(join(dir, file), { recursive: true, force: true });
      removedFiles++;
    }
    // The folder of a bucket deleted just before a crash.
    if (table.bucket(bucket) === null && referenced.size === 0) rmdirSync(dir);
  }
  return { removedFiles };
}
