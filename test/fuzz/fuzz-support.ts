/**
 * @module test/fuzz/fuzz-support
 * What the fuzzing suites share: the hostile strings written by hand, the check that a failure is a coded
 * PlatformError (never a TypeError or a crash), and the count of cases each suite ran, printed at the end.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlatformError, type ErrorCode } from '../../src/core/index.js';

/** Strings that broke parsers somewhere: traversal, encodings, NUL, overlong UTF-8, control characters. */
export const HOSTILE_STRINGS: readonly string[] = [
  '..',
  '../',
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e',
  '%2e%2e%2f',
  '%252e%252e',
  '.%2e/',
  'a/../../b',
  'a/./b',
  '/absolute',
  '//double',
  'nul\u0000byte',
  '%00',
  '%c0%ae%c0%ae',
  '%c0%af',
  '%e0%80%ae',
  '%ed%a0%80',
  '%ff',
  '%',
  '%zz',
  '\ud800',
  '\u202e',
  '\r\nX-Injected: 1',
  ' ',
  '',
  'a'.repeat(1100),
  '{{template}}',
  '${PATH}',
  '$(id)',
  '`id`',
  '<script>',
  "'; DROP TABLE objects; --",
  '__proto__',
  'constructor',
];

export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc
      .array(fc.constantFrom(...HOSTILE_STRINGS, 'a', '/', '.', '%', 'é'), { maxLength: 8 })
      .map((parts) => parts.join('')),
  );

/** Runs `fn`; a throw must be a PlatformError with one of `codes` (or any code when none are given). */
export function onlyCodedFailures(fn: () => unknown, codes?: readonly ErrorCode[]): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PlatformError, `not a coded error: ${String(error)}`);
    if (codes) assert.ok(codes.includes(error.code), `unexpected code ${error.code}: ${error.message}`);
  }
}

const counts = new Map<string, number>();

/** Counts `n` cases run against `target`. */
export function countCases(target: string, n: number): void {
  counts.set(target, (counts.get(target) ?? 0) + n);
}

/** Prints `fuzz: <target>: N cases` per target and the total. */
export function printCounts(suite: string): void {
  let total = 0;
  for (const [target, n] of counts) {
    total += n;
    console.log(`fuzz: ${target}: ${n} cases`);
  }
  console.log(`fuzz: ${suite} total: ${total} cases`);
}

/** numRuns scaled by NUBES_FUZZ_RUNS (a multiplier, @default 1). */
export function runs(base: number): number {
  const factor = Number(process.env.NUBES_FUZZ_RUNS ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}
