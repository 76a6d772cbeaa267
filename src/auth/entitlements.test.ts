import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupOfEntitlement, groupsFromClaim, inAllowedGroups } from './entitlements.js';

test('EGI entitlements give their VO (and subgroup) paths; plain group names pass through', () => {
  assert.equal(
    groupOfEntitlement('urn:mace:egi.eu:group:vo.access.egi.eu:role=member#aai.egi.eu'),
    'vo.access.egi.eu',
  );
  assert.equal(
    groupOfEntitlement('urn:mace:egi.eu:group:vo.x.eu:tools:role=vm_operator#aai.egi.eu'),
    'vo.x.eu:tools',
  );
  assert.equal(groupOfEntitlement('urn:geant:example.org:group:physics#idp.example.org'), 'physics');
  assert.equal(groupOfEntitlement('admins'), 'admins');
  assert.deepEqual(
    groupsFromClaim([
      'urn:mace:egi.eu:group:vo.b.eu:role=member#aai.egi.eu',
      'urn:mace:egi.eu:group:vo.a.eu:role=member#aai.egi.eu',
      'urn:mace:egi.eu:group:vo.a.eu:role=manager#aai.egi.eu',
      42,
    ]),
    ['vo.a.eu', 'vo.b.eu'],
  );
  assert.deepEqual(groupsFromClaim('one two'), ['one', 'two']);
  assert.deepEqual(groupsFromClaim(undefined), []);
});

test('allowed groups admit members of the VO and of its subgroups only', () => {
  assert.ok(inAllowedGroups([], []));
  assert.ok(inAllowedGroups(['vo.a.eu:tools'], ['vo.a.eu']));
  assert.ok(!inAllowedGroups(['vo.a.eu.evil'], ['vo.a.eu']));
  assert.ok(!inAllowedGroups([], ['vo.a.eu']));
});
