import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import { decodeObjectKey, validateObjectKey } from './object-key.js';

function rejects(key: string): void {
  assert.throws(
    () => validateObjectKey(key),
    (error: unknown) => error instanceof PlatformError && error.code === 'INVALID_KEY',
    JSON.stringify(key),
  );
}

test('ordinary keys, folders, spaces and non-ASCII are accepted', () => {
  for (const key of [
    'a',
    'in/photo.png',
    'dir/',
    'a//b',
    'x..y',
    '.hidden',
    'a/.b/..c',
    'café ü/😀.txt',
    '%2e%2e',
  ]) {
    validateObjectKey(key);
  }
  validateObjectKey('k'.repeat(1024));
});

test('traversal segments are rejected with "/" or "\\" as separator', () => {
  for (const key of ['..', '.', '../x', 'a/../../b', 'a/..', 'a/./b', 'a\\..\\b', '..\\x', 'a/b/.'])
    rejects(key);
});

test('empty, absolute, control characters, lone surrogates and overlong keys are rejected', () => {
  for (const key of [
    '',
    '/etc/passwd',
    'a\u0000b',
    'tab\there',
    'line\nbreak',
    '\ud800x',
    'x\udc00',
    'bad\ufffd',
  ]) {
    rejects(key);
  }
  rejects('é'.repeat(513)); // 1026 UTF-8 bytes
});

test('decodeObjectKey refuses invalid UTF-8 (overlong dots, encoded surrogates) instead of replacing it', () => {
  assert.equal(decodeObjectKey(Buffer.from('in/é.txt')), 'in/é.txt');
  for (const bytes of [
    [0xc0, 0xae, 0xc0, 0xae, 0x2f, 0x78], // overlong "../x"
    [0xe0, 0x80, 0xae], // overlong "."
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0x61, 0xe2, 0x82], // truncated sequence
  ]) {
    assert.throws(
      () => decodeObjectKey(Buffer.from(bytes)),
      (error: unknown) => (error as PlatformError).code === 'INVALID_KEY',
    );
  }
  assert.throws(
    () => decodeObjectKey(Buffer.from('../x')),
    (error: unknown) => (error as PlatformError).code === 'INVALID_KEY',
  );
});
