import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeLineFiles, sortLineFile } from './line-sort.js';

const byKeyBytes = (a: string, b: string) =>
  Buffer.compare(Buffer.from(a.split('\t')[0] ?? ''), Buffer.from(b.split('\t')[0] ?? ''));

void test('sortLineFile sorts by key bytes, stably, through spilled runs when over budget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'line-sort-'));
  try {
    const keys = ['b', 'a', 'ä', '日本', '𝔘', 'ab', 'a\u00ff', 'z', ''];
    const lines = Array.from({ length: 20_000 }, (_, i) => `${keys[(i * 7) % keys.length]}${i % 50}\t${i}`);
    lines.push('no-tab-line', 'long'.repeat(30_000) + '\tv');
    const path = join(dir, 'out');
    writeFileSync(path, lines.join('\n')); // the last line has no newline
    sortLineFile(path, dir, 4096);
    // Array.prototype.sort is stable: equal keys keep their input order, as sortLineFile must.
    const expected = [...lines].sort(byKeyBytes);
    assert.equal(readFileSync(path, 'utf8'), expected.join('\n') + '\n');
    assert.deepEqual(readdirSync(dir), ['out'], 'spilled runs are removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('sortLineFile leaves a sorted file untouched; mergeLineFiles merges sorted files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'line-sort-'));
  try {
    const sorted = join(dir, 'sorted');
    writeFileSync(sorted, 'a\t1\nb\t2\nc\t3');
    sortLineFile(sorted, dir, 1);
    assert.equal(readFileSync(sorted, 'utf8'), 'a\t1\nb\t2\nc\t3');
    const parts = [
      ['apple\t1', 'kiwi\t2', 'ñame\t3'],
      ['banana\t4', 'zucchini\t5'],
      [],
      ['cherry\t6', 'ñu\t7'],
    ].map((part, index) => {
      const path = join(dir, `part-${index}`);
      writeFileSync(path, part.map((line) => `${line}\n`).join(''));
      return { path, part };
    });
    mergeLineFiles(
      parts.map((part) => part.path),
      join(dir, 'merged'),
    );
    const expected = parts.flatMap((part) => part.part).sort(byKeyBytes);
    assert.equal(readFileSync(join(dir, 'merged'), 'utf8'), expected.map((line) => `${line}\n`).join(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
