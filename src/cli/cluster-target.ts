/**
 * @module cli/cluster-target
 * Which cluster a remote command talks to. `-c ID` picks a configured cluster; without it the default
 * cluster is used; and when no cluster is configured at all, the local server of the current folder
 * (the one `npm start` runs): `http://127.0.0.1:8080` with the admin credentials the server wrote to
 * `./.nubes-data/credentials.json`. So `npm start` then `npx nubes apply x.yaml` needs no config file.
 *
 * The local server is found through the same variables the server reads (NUBES_PORT, NUBES_HOST,
 * NUBES_DATA_DIR, NUBES_ADMIN_USER, NUBES_ADMIN_PASSWORD); this module is the CLI's one reader of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CREDENTIALS_FILE, PlatformError } from '../core/index.js';
import { requireCluster, type ClusterConfig } from './cluster-config.js';

/** The id under which the zero-config local server appears (unless a cluster of that name is configured). */
export const LOCAL_CLUSTER_ID = 'local';

/** A cluster resolved for one command: where it is and how to authenticate. */
export interface ClusterTarget {
  id: string;
  /** Base URL without a trailing slash. */
  endpoint: string;
  /** Basic credentials for /system/*; undefined when none could be found (the server will answer 401). */
  auth: { user: string; password: string } | undefined;
  sslVerify: boolean;
  /** `local` for the zero-config local server, `config` for a cluster of the config file. */
  source: 'config' | 'local';
  /** Where the endpoint and credentials come from, for hints (a file path or variable names). */
  origin: string;
}

/** What the user asked for on the command line. */
export interface TargetSelection {
  /** `-c/--cluster` */
  clusterId?: string | undefined;
  /** `--data-dir`, for the local server's credentials. */
  dataDir?: string | undefined;
  /** The config file the clusters were read from (for hints). */
  configPath: string;
}

const localEnvSchema = z.object({
  NUBES_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  NUBES_HOST: z.string().min(1).optional(),
  NUBES_DATA_DIR: z.string().min(1).optional(),
  NUBES_ADMIN_USER: z.string().min(1).optional(),
  NUBES_ADMIN_PASSWORD: z.string().min(1).optional(),
});

const storedCredentialsSchema = z.object({ adminUser: z.string(), adminPassword: z.string() }).passthrough();

/** Picks the cluster a remote command talks to (see the module comment for the rules). */
export function resolveTarget(
  config: ClusterConfig,
  selection: TargetSelection,
  local: { env: NodeJS.ProcessEnv; cwd: string },
): ClusterTarget {
  const { clusterId } = selection;
  if (clusterId !== undefined) {
    if (clusterId === LOCAL_CLUSTER_ID && config.clusters[clusterId] === undefined) {
      return localTarget({ ...local, dataDir: selection.dataDir });
    }
    return configuredTarget(config, clusterId, selection.configPath);
  }
  if (config.default !== undefined && config.clusters[config.default] !== undefined) {
    return configuredTarget(config, config.default, selection.configPath);
  }
  const ids = Object.keys(config.clusters).sort();
  if (ids.length === 0) return localTarget({ ...local, dataDir: selection.dataDir });
  if (ids.length === 1) return configuredTarget(config, ids[0] as string, selection.configPath);
  throw new PlatformError(
    'VALIDATION_FAILED',
    `${ids.length} clusters are configured and none is the default`,
    {
      details: {
        hint: `choose one with -c ID, or set a default with \`nubes cluster default -s ID\` (${ids.join(', ')})`,
      },
    },
  );
}

/** The configured cluster `id` as a target. */
export function configuredTarget(config: ClusterConfig, id: string, configPath: string): ClusterTarget {
  const entry = requireCluster(config, id);
  if (entry.auth_user === undefined || entry.auth_password === undefined) {
    throw new PlatformError(
      'VALIDATION_FAILED',
      `cluster "${id}" has no user and password (OIDC clusters are not supported yet)`,
      {
        details: {
          hint: `add them with \`nubes cluster add ${id} ${entry.endpoint} USER --password-stdin\``,
        },
      },
    );
  }
  return {
    id,
    endpoint: entry.endpoint.replace(/\/+$/, ''),
    auth: { user: entry.auth_user, password: entry.auth_password },
    sslVerify: entry.ssl_verify,
    source: 'config',
    origin: configPath,
  };
}

/** The local server of the current folder, found the way the server itself would configure it. */
export function localTarget(options: {
  env: NodeJS.ProcessEnv;
  cwd: string;
  dataDir?: string | undefined;
}): ClusterTarget {
  const parsed = localEnvSchema.safeParse(options.env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      'CONFIG_INVALID',
      `environment variable ${String(issue?.path[0])}: ${issue?.message}`,
    );
  }
  const env = parsed.data;
  const host = connectableHost(env.NUBES_HOST);
  const endpoint = `http://${host}:${env.NUBES_PORT ?? 8080}`;
  const dataDir = resolve(options.cwd, options.dataDir ?? env.NUBES_DATA_DIR ?? '.nubes-data');
  const credentialsPath = join(dataDir, CREDENTIALS_FILE);
  const stored = readStoredCredentials(credentialsPath);
  const user = env.NUBES_ADMIN_USER ?? stored?.adminUser ?? 'admin';
  const password = env.NUBES_ADMIN_PASSWORD ?? stored?.adminPassword;
  const origin =
    env.NUBES_ADMIN_PASSWORD !== undefined ? 'NUBES_ADMIN_USER/NUBES_ADMIN_PASSWORD' : credentialsPath;
  return {
    id: LOCAL_CLUSTER_ID,
    endpoint,
    auth: password === undefined ? undefined : { user, password },
    sslVerify: true,
    source: 'local',
    origin,
  };
}

/** A server listening on every interface is reached through loopback. */
function connectableHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function readStoredCredentials(path: string): z.infer<typeof storedCredentialsSchema> | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PlatformError('CONFIG_INVALID', `${path} is not valid JSON`, { cause: error });
  }
  const parsed = storedCredentialsSchema.safeParse(raw);
  if (!parsed.success) throw new PlatformError('CONFIG_INVALID', `${path} is not a Nubes credentials file`);
  return parsed.data;
}
