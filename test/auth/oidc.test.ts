/**
 * OIDC bearer tokens against a real server: validated with jose against a local issuer (discovery and JWKS
 * served on port 0, tokens signed here) for signature, issuer, audience and expiry; users created on first
 * sight with their EGI VO memberships; only members of the allowed groups admitted (OSCAR's OIDC_GROUPS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type ServerProcess } from '../support/server-process.js';
import { egiMember, startIssuer, type TestIssuer } from './oidc-issuer.js';
import { serviceDefinition } from './tenants.js';

let issuer: TestIssuer;
let server: ServerProcess;

before(async () => {
  issuer = await startIssuer('nubes');
  server = await startServer({
    env: {
      NUBES_OIDC_ISSUERS: issuer.issuer,
      NUBES_OIDC_AUDIENCE: 'nubes',
      NUBES_OIDC_GROUPS: 'vo.example.eu',
    },
  });
});
after(async () => {
  await server.cleanup();
  await issuer.close();
});

async function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(`${server.apiUrl}${path}`, { ...init, headers });
}

async function errorOf(response: Response): Promise<[number, string, string]> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return [response.status, body.error.code, body.error.message];
}

const member = (sub: string) => ({
  sub,
  eduperson_entitlement: [egiMember('vo.example.eu'), egiMember('vo.other.eu:subgroup')],
});

test('a valid token from the issuer makes its subject a user with the VOs of their entitlements', async () => {
  const token = await issuer.sign(member('1234@egi.eu'));
  const whoami = await as(token, '/system/whoami');
  assert.equal(whoami.status, 200);
  const body = (await whoami.json()) as { kind: string; name: string; groups: string[]; via: string };
  assert.deepEqual([body.kind, body.name, body.via], ['user', '1234@egi.eu', 'oidc']);
  assert.deepEqual(body.groups, ['vo.example.eu', 'vo.other.eu:subgroup']);
  const users = (await (await server.api('/system/users')).json()) as { name: string; source: string }[];
  assert.ok(users.some((user) => user.name === '1234@egi.eu' && user.source === 'oidc'));
});

test('expired, wrongly signed, wrong-audience and foreign-issuer tokens are refused with 401', async () => {
  const expired = await issuer.sign(member('late@egi.eu'), {
    expiresIn: Math.floor(Date.now() / 1000) - 600,
  });
  const [status, code, message] = await errorOf(await as(expired, '/system/info'));
  assert.deepEqual([status, code], [401, 'UNAUTHENTICATED']);
  assert.match(message, /expired/);

  const rogue = await issuer.sign(member('rogue@egi.eu'), { key: 'rogue' });
  assert.deepEqual((await errorOf(await as(rogue, '/system/info'))).slice(0, 2), [401, 'UNAUTHENTICATED']);

  const audience = await issuer.sign({ ...member('aud@egi.eu'), aud: 'someone-else' });
  const wrongAudience = await errorOf(await as(audience, '/system/info'));
  assert.deepEqual(wrongAudience.slice(0, 2), [401, 'UNAUTHENTICATED']);
  assert.match(wrongAudience[2], /aud/);

  const foreign = await issuer.sign({ ...member('x@elsewhere'), iss: 'https://idp.elsewhere.example' });
  assert.deepEqual((await errorOf(await as(foreign, '/system/info'))).slice(0, 2), [401, 'UNAUTHENTICATED']);

  const users = (await (await server.api('/system/users')).json()) as { name: string }[];
  for (const refused of ['late@egi.eu', 'rogue@egi.eu', 'aud@egi.eu', 'x@elsewhere'])
    assert.ok(!users.some((user) => user.name === refused), `${refused} was not created`);
});

test('a user in none of the allowed groups gets 403 and no account', async () => {
  const token = await issuer.sign({
    sub: 'outsider@egi.eu',
    eduperson_entitlement: [egiMember('vo.other.eu')],
  });
  const [status, code, message] = await errorOf(await as(token, '/system/services'));
  assert.deepEqual([status, code], [403, 'FORBIDDEN']);
  assert.match(message, /vo\.example\.eu/);
  const users = (await (await server.api('/system/users')).json()) as { name: string }[];
  assert.ok(!users.some((user) => user.name === 'outsider@egi.eu'));
});

test('OIDC users own their services; visibility decides who else sees and runs them', async () => {
  const alice = await issuer.sign(member('alice@egi.eu'));
  const bob = await issuer.sign(member('bob@egi.eu'));
  const carol = await issuer.sign(member('carol@egi.eu'));
  const json = { 'content-type': 'application/json' };
  const create = await as(alice, '/system/services', {
    method: 'POST',
    headers: json,
    body: JSON.stringify(
      serviceDefinition('alice-svc', 'alice-data', {
        visibility: 'restricted',
        allowed_users: ['bob@egi.eu'],
      }),
    ),
  });
  assert.equal(create.status, 201, await create.clone().text());
  const mine = (await (await as(alice, '/system/services/alice-svc')).json()) as { owner: string };
  assert.equal(mine.owner, 'alice@egi.eu');

  const listed = async (token: string) =>
    ((await (await as(token, '/system/services')).json()) as { name: string }[]).map((s) => s.name);
  assert.ok((await listed(bob)).includes('alice-svc'), 'an allowed user sees it');
  assert.ok(!(await listed(carol)).includes('alice-svc'), 'another user does not');
  assert.equal((await as(bob, '/job/alice-svc', { method: 'POST', body: '{}' })).status, 201);
  assert.deepEqual(
    (await errorOf(await as(carol, '/job/alice-svc', { method: 'POST', body: '{}' }))).slice(0, 2),
    [403, 'FORBIDDEN'],
  );
  // Only the owner changes it, even for an allowed user.
  const update = await as(bob, '/system/services', {
    method: 'PUT',
    headers: json,
    body: JSON.stringify(serviceDefinition('alice-svc', 'alice-data')),
  });
  assert.deepEqual((await errorOf(update)).slice(0, 2), [403, 'FORBIDDEN']);
  // Nobody attaches a service to a bucket they may not use.
  const intrude = await as(carol, '/system/services', {
    method: 'POST',
    headers: json,
    body: JSON.stringify(serviceDefinition('carol-spy', 'alice-data')),
  });
  assert.deepEqual((await errorOf(intrude)).slice(0, 2), [403, 'FORBIDDEN']);
  assert.equal((await server.api('/system/services/carol-spy')).status, 404, 'nothing half-created');
});
