/**
 * @module test/auth/tenants
 * A real server with two users (owner, other) holding personal API tokens, and helpers to call the API as
 * each principal of the authorization tests.
 */
import { startServer, type ServerProcess, type StartOptions } from '../support/server-process.js';

export type Who = 'anonymous' | 'owner' | 'other' | 'admin' | 'service';
export const EVERYONE: readonly Who[] = ['anonymous', 'owner', 'other', 'admin', 'service'];

export interface Tenants {
  server: ServerProcess;
  tokens: Record<'owner' | 'other', string>;
  /** The service token of the owner's service `owned` (set once it exists). */
  serviceToken: string;
  headers(who: Who): Record<string, string>;
  call(who: Who, method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startTenants(options: StartOptions = {}): Promise<Tenants> {
  const server = await startServer(options);
  const creds = await server.credentials();
  const basic = `Basic ${Buffer.from(`${creds.adminUser}:${creds.adminPassword}`).toString('base64')}`;
  const tenants: Tenants = {
    server,
    tokens: { owner: '', other: '' },
    serviceToken: '',
    headers(who): Record<string, string> {
      switch (who) {
        case 'anonymous':
          return {};
        case 'admin':
          return { authorization: basic };
        case 'service':
          return { authorization: `Bearer ${tenants.serviceToken}` };
        default:
          return { authorization: `Bearer ${tenants.tokens[who]}` };
      }
    },
    async call(who, method, path, body) {
      const headers: Record<string, string> = { ...tenants.headers(who) };
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      return fetch(`${server.apiUrl}${path}`, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
    },
    close: () => server.cleanup(),
  };
  for (const name of ['owner', 'other'] as const) {
    const created = await tenants.call('admin', 'POST', '/system/users', { name });
    if (created.status !== 201)
      throw new Error(`creating user ${name}: ${created.status} ${await created.text()}`);
    const token = await tenants.call('admin', 'POST', `/system/users/${name}/tokens`, { label: 'tests' });
    tenants.tokens[name] = ((await token.json()) as { token: string }).token;
  }
  return tenants;
}

/** A service definition for `name` reading `<bucket>/in`. */
export function serviceDefinition(name: string, bucket: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    image: 'busybox',
    script: 'echo "ran $JOB_UUID"\n',
    memory: '64Mi',
    input: [{ storage_provider: 'minio.default', path: `${bucket}/in` }],
    ...extra,
  };
}
