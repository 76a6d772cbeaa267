import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, runningChecksum } from './checksums.js';

test('CRC-32C matches its check value and, in pieces, the whole', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  const data = Buffer.alloc(66560, 'a');
  const running = runningChecksum('crc32c');
  running?.update(data.subarray(0, 1000));
  running?.update(data.subarray(1000));
  assert.equal(running?.digestBase64(), 'sOO8/Q==');
});

test('CRC32, SHA-1 and SHA-256 digests are base64 of the big-endian value; CRC-64 is accepted unverified', () => {
  const crc = runningChecksum('crc32');
  crc?.update(Buffer.from('abc'));
  assert.equal(crc?.digestBase64(), 'NSRBwg==');
  const sha = runningChecksum('sha256');
  sha?.update(Buffer.from('abc'));
  assert.equal(sha?.digestBase64(), 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  assert.equal(runningChecksum('crc64nvme'), null);
});
