import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { base64Encoder, decodeAnswer, encodedInput, isPrintable, isZip } from './payload.js';
import { tempDir } from './testing/temp-dir.js';

void test('the streaming base64 encoder matches Buffer.toString("base64") whatever the chunk boundaries', async () => {
  const data = randomBytes(10_007);
  for (const size of [1, 2, 3, 4, 5, 7, 1000, 20_000]) {
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < data.length; offset += size)
      chunks.push(data.subarray(offset, offset + size));
    const encoded = await text(Readable.from(chunks).pipe(base64Encoder()));
    assert.equal(encoded, data.toString('base64'), `chunk size ${size}`);
  }
  assert.equal(await text(Readable.from([]).pipe(base64Encoder())), '');
});

void test('the input of run/job is base64 of the file or of the text', async () => {
  const dir = tempDir('nubes-cli-payload-');
  writeFileSync(join(dir, 'in.bin'), Buffer.from([0, 1, 2, 250, 251]));
  assert.equal(
    await text(encodedInput({ file: join(dir, 'in.bin') }) as Readable),
    Buffer.from([0, 1, 2, 250, 251]).toString('base64'),
  );
  assert.equal((encodedInput({ text: 'Ada' }) as Buffer).toString(), 'QWRh');
});

void test('answers are base64-decoded when they are base64, and kept as they came otherwise', () => {
  assert.deepEqual(decodeAnswer(Buffer.from('SGVsbG8sIEFkYSEK\n')), {
    bytes: Buffer.from('Hello, Ada!\n'),
    decoded: true,
  });
  const plain = Buffer.from('Hello, Ada!\n');
  assert.deepEqual(decodeAnswer(plain), { bytes: plain, decoded: false });
  assert.equal(decodeAnswer(Buffer.from('abc')).decoded, false);
  assert.equal(decodeAnswer(Buffer.alloc(0)).decoded, false);
});

void test('zips and printable text are recognised', () => {
  assert.ok(isZip(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0])));
  assert.ok(isZip(Buffer.from([0x50, 0x4b, 0x05, 0x06, 0])));
  assert.ok(!isZip(Buffer.from('PK but not')));
  assert.ok(isPrintable(Buffer.from('words\n\tand \u001b[32mcolour\u001b[0m ünïcödé')));
  assert.ok(!isPrintable(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])));
  assert.ok(!isPrintable(Buffer.from('a\u0000b')));
});
