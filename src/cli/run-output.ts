/**
 * @module cli/run-output
 * Where the answer of `service run` goes. Decoded from base64 unless `--raw`; written to `-o FILE`; a zip
 * (several output files) given `-o DIR/` is extracted there; without `-o` it goes to stdout, except that
 * binary data and zips are not dumped on a terminal.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { println, type CliIo } from './cli-io.js';
import { formatBytes, plural } from './output.js';
import { decodeAnswer, isPrintable, isZip } from './payload.js';
import { extractZip, readZip } from './zip-reader.js';

/** How `service run` was asked to deliver its answer. */
export interface RunOutputOptions {
  /** The answer is already raw bytes (`--raw`, `/run?raw=true`): do not decode it. */
  raw: boolean;
  /** `-o`: a file, or a folder (existing, or written with a trailing slash). */
  output?: string | undefined;
  serviceName: string;
}

/** Writes the answer where the options say; returns the paths written (empty when it went to stdout). */
export function writeRunAnswer(io: CliIo, answer: Buffer, options: RunOutputOptions): string[] {
  const bytes = options.raw ? answer : decodeAnswer(answer).bytes;
  const zip = isZip(bytes);
  if (options.output !== undefined) {
    const target = resolve(io.cwd, options.output);
    const isDir = /[\\/]$/.test(options.output) || (existsSync(target) && statSync(target).isDirectory());
    if (isDir) {
      mkdirSync(target, { recursive: true });
      if (zip) {
        const written = extractZip(bytes, target);
        for (const path of written) println(io.stderr, path);
        return written;
      }
      const file = join(target, `${options.serviceName}.out`);
      writeFileSync(file, bytes);
      println(io.stderr, file);
      return [file];
    }
    writeFileSync(target, bytes);
    return [target];
  }
  if (io.stdoutIsTty && zip) {
    const entries = readZip(bytes);
    println(io.stderr, `the answer is a zip of ${plural(entries.length, 'file')}:`);
    for (const entry of entries) println(io.stderr, `  ${entry.name}  ${formatBytes(entry.data.length)}`);
    println(io.stderr, 'hint: add -o DIR/ to extract them, or -o FILE.zip to keep the archive');
    return [];
  }
  if (io.stdoutIsTty && !isPrintable(bytes)) {
    println(io.stderr, `the answer is ${formatBytes(bytes.length)} of binary data`);
    println(io.stderr, 'hint: add -o FILE to save it, or pipe the output to a file');
    return [];
  }
  io.stdout.write(bytes);
  // Keep the prompt on its own line after text without a final newline.
  if (io.stdoutIsTty && bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) io.stdout.write('\n');
  return [];
}
