/**
 * @module cli/cluster-config
 * The CLI's list of clusters, `~/.nubes/config.yaml`, shaped like oscar-cli's config:
 * `{clusters: {<id>: {endpoint, auth_user, auth_password, ssl_verify}}, default: <id>}`.
 * An oscar-cli file (`oscar:` instead of `clusters:`) is read as well, so `--config ~/.oscar-cli/config.yaml`
 * works; it is written back under the key it was read with.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../core/index.js';

const clusterEntrySchema = z
  .object({
    endpoint: z.string().url(),
    auth_user: z.string().optional(),
    auth_password: z.string().optional(),
    ssl_verify: z.boolean().default(true),
    // oscar-cli fields that Nubes reads without using, so an oscar-cli file parses.
    oidc_account_name: z.string().optional(),
    oidc_refresh_token: z.string().optional(),
    memory: z.string().optional(),
    log_level: z.string().optional(),
  })
  .strict();

/** One configured cluster as stored in the file. */
export type ClusterEntry = z.infer<typeof clusterEntrySchema>;

const fileSchema = z
  .object({
    clusters: z.record(clusterEntrySchema).optional(),
    oscar: z.record(clusterEntrySchema).optional(),
    default: z.string().optional(),
  })
  .strict();

/** The config file, parsed. `clustersKey` records whether it came from Nubes or oscar-cli. */
export interface ClusterConfig {
  clusters: Record<string, ClusterEntry>;
  default: string | undefined;
  clustersKey: 'clusters' | 'oscar';
}

/** Where the config file lives unless `--config` says otherwise. */
export function defaultConfigPath(homeDir: string): string {
  return join(homeDir, '.nubes', 'config.yaml');
}

/** Reads the config file; a missing file is an empty config. Throws CONFIG_INVALID on a malformed file. */
export function readClusterConfig(path: string): ClusterConfig {
  if (!existsSync(path)) return { clusters: {}, default: undefined, clustersKey: 'clusters' };
  let raw: unknown;
  try {
    // YAML is a superset of JSON, so oscar-cli's JSON config files parse too.
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', `${path} is not valid YAML: ${(error as Error).message}`, {
      cause: error,
      details: { hint: 'fix the file or remove it and add the clusters again with `nubes cluster add`' },
    });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new PlatformError('CONFIG_INVALID', `${path}: ${where}: ${issue?.message ?? 'invalid'}`, {
      details: {
        hint: 'the file holds `clusters: {<id>: {endpoint, auth_user, auth_password, ssl_verify}}` and `default: <id>`',
      },
    });
  }
  const clustersKey =
    parsed.data.clusters === undefined && parsed.data.oscar !== undefined ? 'oscar' : 'clusters';
  const clusters = { ...(parsed.data.oscar ?? {}), ...(parsed.data.clusters ?? {}) };
  return { clusters, default: parsed.data.default, clustersKey };
}

/** Writes the config file atomically, readable by its owner only (it holds passwords). */
export function writeClusterConfig(path: string, config: ClusterConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const document: Record<string, unknown> = { [config.clustersKey]: config.clusters };
  if (config.default !== undefined) document['default'] = config.default;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringifyYaml(document), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Adds or replaces a cluster; the first cluster added becomes the default. */
export function addCluster(config: ClusterConfig, id: string, entry: ClusterEntry): ClusterConfig {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
    throw new PlatformError(
      'VALIDATION_FAILED',
      `cluster id "${id}" may hold only letters, digits, '.', '_' and '-'`,
    );
  }
  const clusters = { ...config.clusters, [id]: entry };
  return { ...config, clusters, default: config.default ?? id };
}

/** Removes a cluster; when it was the default, the first remaining one (if any) becomes the default. */
export function removeCluster(config: ClusterConfig, id: string): ClusterConfig {
  requireCluster(config, id);
  const clusters = { ...config.clusters };
  delete clusters[id];
  const fallback = Object.keys(clusters).sort()[0];
  return { ...config, clusters, default: config.default === id ? fallback : config.default };
}

/** Makes `id` the default cluster. */
export function setDefaultCluster(config: ClusterConfig, id: string): ClusterConfig {
  requireCluster(config, id);
  return { ...config, default: id };
}

/** Throws NOT_FOUND (a user error) when `id` is not configured. */
export function requireCluster(config: ClusterConfig, id: string): ClusterEntry {
  const entry = config.clusters[id];
  if (entry === undefined) {
    const known = Object.keys(config.clusters);
    throw new PlatformError('NOT_FOUND', `cluster "${id}" is not configured`, {
      details: {
        hint:
          known.length > 0
            ? `configured clusters: ${known.sort().join(', ')}`
            : 'add one with `nubes cluster add ID ENDPOINT USER`',
      },
    });
  }
  return entry;
}
