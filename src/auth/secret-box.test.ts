import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_KEY_FILE, loadSecretBox } from './secret-box.js';
import { tempDir } from '../cli/testing/temp-dir.js';

test('the secret box seals with a fresh IV, opens its own values and refuses tampered ones', () => {
  const dir = tempDir('nubes-box-');
  const box = loadSecretBox(dir);
  assert.equal(statSync(join(dir, SECRET_KEY_FILE)).mode & 0o777, 0o600);
  const a = box.seal('hunter2');
  const b = box.seal('hunter2');
  assert.notEqual(a, b);
  assert.ok(!a.includes('hunter2'));
  assert.equal(box.open(a), 'hunter2');
  assert.equal(loadSecretBox(dir).open(b), 'hunter2', 'the key persists');
  const raw = Buffer.from(a.slice('aesgcm1:'.length), 'base64');
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
  assert.throws(() => box.open(`aesgcm1:${raw.toString('base64')}`), { code: 'INTERNAL' });
  assert.throws(() => loadSecretBox(tempDir('nubes-box-')).open(a), { code: 'INTERNAL' });
});
