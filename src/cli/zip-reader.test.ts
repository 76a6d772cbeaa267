import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import yazl from 'yazl';
import { PlatformError } from '../core/index.js';
import { extractZip, readZip } from './zip-reader.js';
import { tempDir } from './testing/temp-dir.js';

/** A zip as OSCAR's supervisor (Python zipfile) or Nubes (yazl) makes it. */
async function makeZip(files: { name: string; data: Buffer; compress: boolean }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of files) zip.addBuffer(file.data, file.name, { compress: file.compress });
  zip.end();
  return buffer(zip.outputStream);
}

const text = Buffer.from('word,count\nthe,10\n'.repeat(50));
const binary = Buffer.from(Array.from({ length: 300 }, (_, index) => (index * 37) % 256));

void test('stored and deflated entries read back byte for byte, in archive order', async () => {
  const archive = await makeZip([
    { name: 'counts.csv', data: text, compress: true },
    { name: 'sub/raw.bin', data: binary, compress: false },
    { name: 'empty.txt', data: Buffer.alloc(0), compress: true },
  ]);
  const entries = readZip(archive);
  assert.deepEqual(
    entries.map((entry) => entry.name),
    ['counts.csv', 'sub/raw.bin', 'empty.txt'],
  );
  assert.deepEqual(entries[0]?.data, text);
  assert.deepEqual(entries[1]?.data, binary);
  assert.equal(entries[2]?.data.length, 0);
});

void test('extracting writes the files under the folder, sub-folders included', async () => {
  const dir = tempDir('nubes-cli-zip-');
  const archive = await makeZip([
    { name: 'a.txt', data: Buffer.from('A'), compress: true },
    { name: 'deep/b.txt', data: Buffer.from('B'), compress: false },
  ]);
  const written = extractZip(archive, dir);
  assert.deepEqual(written, [join(dir, 'a.txt'), join(dir, 'deep', 'b.txt')]);
  assert.equal(readFileSync(join(dir, 'deep', 'b.txt'), 'utf8'), 'B');
});

void test('a name that climbs out of the folder is refused (zip slip)', async () => {
  const archive = await makeZip([{ name: 'xx/evil', data: Buffer.from('x'), compress: false }]);
  // Same length, so every offset in the archive stays valid.
  const evil = Buffer.from(archive.toString('latin1').replaceAll('xx/evil', '../evil'), 'latin1');
  const dir = tempDir('nubes-cli-zip-');
  assert.throws(
    () => extractZip(evil, dir),
    (error: unknown) => error instanceof PlatformError && /outside/.test(error.message),
  );
});

void test('corruption and non-zips are reported, not silently accepted', async () => {
  const archive = await makeZip([{ name: 'a.txt', data: Buffer.from('hello world'), compress: false }]);
  const corrupt = Buffer.from(archive);
  corrupt[corrupt.indexOf('hello')] = 0x48; // 'h' -> 'H': the CRC no longer matches
  assert.throws(() => readZip(corrupt), /corrupt/);
  assert.throws(() => readZip(Buffer.from('definitely not a zip, just text')), /not a zip/);
});
