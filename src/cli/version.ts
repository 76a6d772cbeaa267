/**
 * @module cli/version
 * The version of this Nubes, as package.json states it.
 */
import { readFileSync } from 'node:fs';

/** The version in package.json (`0.0.0` when it cannot be read). */
export function nubesVersion(): string {
  try {
    // dist/src/cli/version.js -> package.json at the project root.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
