/**
 * @module test/support/pi-reference
 * The Monte Carlo pi of test/fixtures/scheduler/pi.py, recomputed: point k of partition p is fixed by
 * (p, k), so the hits of a job can be checked exactly from each partition's iteration count.
 */

function mix(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The hits of the first `count` points of `partition`. */
export function piHits(partition: number, count: number): number {
  let total = 0;
  for (let k = 0; k < count; k++) {
    const base = partition * 1000003 + 2 * k;
    const x = mix(base) / 4294967296;
    const y = mix(base + 1) / 4294967296;
    if (x * x + y * y <= 1) total++;
  }
  return total;
}
