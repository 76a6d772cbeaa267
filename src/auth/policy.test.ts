import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorize, can, type Resource } from './policy.js';
import type { Principal } from './principal.js';

const alice: Principal = { kind: 'user', name: 'alice', groups: [], via: 'token' };
const bob: Principal = { kind: 'user', name: 'bob', groups: [], via: 'token' };
const owned = (
  visibility: 'private' | 'public' | 'restricted',
  kind: 'service' | 'bucket' = 'service',
): Resource => ({
  kind,
  name: 'x',
  owner: 'alice',
  visibility,
  allowedUsers: ['bob'],
});

test('visibility opens reads and runs, never changes, to others', () => {
  for (const visibility of ['private', 'public', 'restricted'] as const) {
    assert.ok(can(alice, 'write', owned(visibility)));
    assert.equal(can(bob, 'invoke', owned(visibility)), visibility !== 'private');
    assert.ok(!can(bob, 'write', owned(visibility)));
    assert.ok(!can(bob, 'delete', owned(visibility)));
  }
  const carol: Principal = { kind: 'user', name: 'carol', groups: [], via: 'oidc' };
  assert.ok(!can(carol, 'read', owned('restricted')));
  assert.ok(can(carol, 'read', owned('public')));
});

test('anonymous callers read public buckets only; service tokens reach their own service only', () => {
  assert.ok(can({ kind: 'anonymous' }, 'read', owned('public', 'bucket')));
  assert.ok(!can({ kind: 'anonymous' }, 'read', owned('public')));
  const token: Principal = { kind: 'service', service: 'x' };
  assert.ok(can(token, 'invoke', owned('private')));
  assert.ok(!can(token, 'write', owned('private')));
  assert.ok(!can({ kind: 'service', service: 'y' }, 'invoke', owned('private')));
  assert.throws(() => authorize({ kind: 'anonymous' }, 'read', { kind: 'cluster' }), {
    code: 'UNAUTHENTICATED',
  });
  assert.throws(() => authorize(bob, 'read', { kind: 'administration' }), { code: 'FORBIDDEN' });
  assert.throws(() => authorize({ kind: 'unrecognized', reason: 'nope' }, 'read', { kind: 'cluster' }), {
    code: 'UNAUTHENTICATED',
    message: 'nope',
  });
});
