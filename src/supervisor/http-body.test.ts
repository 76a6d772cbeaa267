import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHttpBody } from './http-body.js';

void test('JSON bodies are kept as they are (OSCAR)', () => {
  for (const text of ['{"a": 1}', '[1,2]', '"str"', '42']) {
    const decoded = decodeHttpBody(Buffer.from(text));
    assert.equal(decoded.encoding, 'json');
    assert.equal(decoded.data.toString(), text);
  }
});

void test('base64 bodies are decoded, line breaks tolerated (OSCAR, oscar-cli)', () => {
  const payload = Buffer.from([0, 1, 2, 250, 251, 252, 10]);
  const wrapped = payload.toString('base64').replace(/(.{4})/g, '$1\n');
  const decoded = decodeHttpBody(Buffer.from(wrapped));
  assert.equal(decoded.encoding, 'base64');
  assert.deepEqual(decoded.data, payload);
});

void test('bodies that are neither are kept raw (Nubes addition), binary included', () => {
  for (const body of [
    Buffer.from('hello world!'),
    Buffer.from([0xff, 0xfe, 0x00, 0x41]),
    Buffer.from('abc'),
  ]) {
    const decoded = decodeHttpBody(body);
    assert.equal(decoded.encoding, 'raw');
    assert.deepEqual(decoded.data, body);
  }
  assert.equal(decodeHttpBody(Buffer.alloc(0)).encoding, 'raw');
});
