/**
 * @module cli/zip-reader
 * Reads the zip a synchronous call answers with when the script wrote several output files (OSCAR's
 * supervisor zips them). Only what such archives use: stored and deflated entries, no zip64, no
 * encryption. Entries are read through the central directory, as the format requires.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { PlatformError } from '../core/index.js';

/** One file of an archive. */
export interface ZipEntry {
  name: string;
  data: Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/** Every file of the archive (folders are left out), in archive order. */
export function readZip(archive: Buffer): ZipEntry[] {
  const end = findEndRecord(archive);
  const count = archive.readUInt16LE(end + 10);
  let offset = archive.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (offset + 46 > archive.length || archive.readUInt32LE(offset) !== CENTRAL_DIRECTORY_HEADER)
      fail('bad central directory');
    const method = archive.readUInt16LE(offset + 10);
    const expectedCrc = archive.readUInt32LE(offset + 16);
    const compressedSize = archive.readUInt32LE(offset + 20);
    const size = archive.readUInt32LE(offset + 24);
    const nameLength = archive.readUInt16LE(offset + 28);
    const extraLength = archive.readUInt16LE(offset + 30);
    const commentLength = archive.readUInt16LE(offset + 32);
    const localOffset = archive.readUInt32LE(offset + 42);
    const name = archive.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      fail('zip64 archives are not supported');
    if (name.endsWith('/')) continue;

    if (localOffset + 30 > archive.length || archive.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER)
      fail(`bad local header for ${name}`);
    const dataStart =
      localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28);
    const raw = archive.subarray(dataStart, dataStart + compressedSize);
    if (raw.length !== compressedSize) fail(`${name} is truncated`);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else fail(`${name} uses compression method ${method}, which is not supported`);
    if (data.length !== size || crc32(data) >>> 0 !== expectedCrc)
      fail(`${name} is corrupt (size or CRC mismatch)`);
    entries.push({ name, data });
  }
  return entries;
}

/**
 * Writes the archive's files under `dir`; returns the paths written. A name that would land outside
 * `dir` (absolute, or climbing with `..`) is refused.
 */
export function extractZip(archive: Buffer, dir: string): string[] {
  const written: string[] = [];
  for (const entry of readZip(archive)) {
    const target = safeJoin(dir, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.data);
    written.push(target);
  }
  return written;
}

function safeJoin(dir: string, name: string): string {
  const relativeName = normalize(name.replace(/\\/g, '/'));
  if (
    relativeName.startsWith('/') ||
    relativeName === '..' ||
    relativeName.startsWith(`..${sep}`) ||
    /^[A-Za-z]:/.test(relativeName)
  ) {
    fail(`refusing to write "${name}" outside the output folder`);
  }
  return join(dir, relativeName);
}

function findEndRecord(archive: Buffer): number {
  // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, archive.length - 22 - 0xffff);
  for (let offset = archive.length - 22; offset >= lowest; offset -= 1) {
    if (archive.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  return fail('not a zip archive (no end of central directory)');
}

function fail(message: string): never {
  throw new PlatformError('INTERNAL', `cannot read the zip answer: ${message}`);
}
