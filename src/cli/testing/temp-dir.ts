/**
 * @module cli/testing/temp-dir
 * Temporary folders for tests, all under one folder of this process that is removed when it exits (the
 * tests' project folders and HOMEs no longer pile up in the system's temporary folder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | null = null;

/** A new empty folder named `<prefix><random>`, removed with all the others when the process exits. */
export function tempDir(prefix: string): string {
  if (root === null) {
    const made = mkdtempSync(join(tmpdir(), 'nubes-test-'));
    root = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return mkdtempSync(join(root, prefix));
}
