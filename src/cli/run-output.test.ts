import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import yazl from 'yazl';
import { writeRunAnswer } from './run-output.js';
import { memoryIo } from './testing/memory-io.js';
import { tempDir } from './testing/temp-dir.js';

const b64 = (data: Buffer | string) => Buffer.from(Buffer.from(data).toString('base64'));

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  return buffer(zip.outputStream);
}

void test('a base64 answer is decoded to stdout; a raw answer is written as it came', () => {
  const io = memoryIo();
  writeRunAnswer(io, b64('Hello, Ada!\n'), { raw: false, serviceName: 'hello' });
  assert.equal(io.out(), 'Hello, Ada!\n');
  const raw = memoryIo();
  writeRunAnswer(raw, Buffer.from('SGk='), { raw: true, serviceName: 'hello' });
  assert.equal(raw.out(), 'SGk=');
});

void test('-o FILE saves the decoded bytes; -o DIR/ extracts a zip answer', async () => {
  const cwd = tempDir('nubes-cli-run-');
  const io = memoryIo({ cwd });
  writeRunAnswer(io, b64(Buffer.from([1, 2, 3])), { raw: false, output: 'out.bin', serviceName: 'x' });
  assert.deepEqual(readFileSync(join(cwd, 'out.bin')), Buffer.from([1, 2, 3]));
  const zip = await zipOf({ 'a.txt': 'A', 'b/c.txt': 'C' });
  const written = writeRunAnswer(io, b64(zip), { raw: false, output: 'results/', serviceName: 'x' });
  assert.deepEqual(written, [join(cwd, 'results', 'a.txt'), join(cwd, 'results', 'b', 'c.txt')]);
  assert.equal(readFileSync(join(cwd, 'results', 'b', 'c.txt'), 'utf8'), 'C');
  writeRunAnswer(io, b64(zip), { raw: false, output: 'kept.zip', serviceName: 'x' });
  assert.deepEqual(readFileSync(join(cwd, 'kept.zip')), zip);
});

void test('on a terminal, a zip is listed and binary data is not dumped; through a pipe both go to stdout', async () => {
  const zip = await zipOf({ 'a.txt': 'A', 'b.txt': 'BB' });
  const tty = memoryIo({ stdoutIsTty: true });
  writeRunAnswer(tty, b64(zip), { raw: false, serviceName: 'x' });
  assert.equal(tty.out(), '');
  assert.match(tty.err(), /zip of 2 files/);
  assert.match(tty.err(), /a\.txt/);
  assert.match(tty.err(), /-o DIR\//);
  const binary = memoryIo({ stdoutIsTty: true });
  writeRunAnswer(binary, b64(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0])), { raw: false, serviceName: 'x' });
  assert.equal(binary.out(), '');
  assert.match(binary.err(), /binary data/);
  const pipe = memoryIo();
  writeRunAnswer(pipe, b64(zip), { raw: false, serviceName: 'x' });
  assert.deepEqual(pipe.outBytes(), zip);
  assert.ok(!existsSync(join('/nonexistent-cwd', 'x.out')));
});
