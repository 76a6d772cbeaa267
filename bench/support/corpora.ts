/**
 * @module bench/support/corpora
 * Generated inputs of the MapReduce benchmark: text whose words follow a Zipf distribution, and a CSV
 * shaped like the AMPLab big-data benchmark's uservisits table. Deterministic for a seed, streamed.
 */
import { Readable } from 'node:stream';

const MIB = 1024 ** 2;

/** A seeded xorshift generator (uniform in [0, 1)). */
function random32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** A vocabulary of distinct lower-case words, and a table that draws word ranks from Zipf(s = 1). */
function zipfWords(size: number, seed: number): { words: Buffer[]; draw: () => number } {
  const random = random32(seed);
  const seen = new Set<string>();
  const words: Buffer[] = [];
  while (words.length < size) {
    const length = 2 + Math.floor(random() * 9);
    let word = '';
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + Math.floor(random() * 26));
    if (seen.has(word)) continue;
    seen.add(word);
    words.push(Buffer.from(word));
  }
  // Inverse CDF on a grid of 2^22 cells; a cell covering several ranks draws uniformly among them.
  const cells = 1 << 22;
  const start = new Uint32Array(cells + 1);
  let harmonic = 0;
  for (let rank = 1; rank <= size; rank++) harmonic += 1 / rank;
  let cumulative = 0;
  let rank = 0;
  for (let cell = 0; cell < cells; cell++) {
    const target = cell / cells;
    while (rank < size - 1 && cumulative + 1 / (rank + 1) / harmonic <= target) {
      cumulative += 1 / (rank + 1) / harmonic;
      rank++;
    }
    start[cell] = rank;
  }
  start[cells] = size - 1;
  return {
    words,
    draw: () => {
      const cell = Math.floor(random() * cells);
      const from = start[cell] as number;
      const to = start[cell + 1] as number;
      return to > from ? from + Math.floor(random() * (to - from + 1)) : from;
    },
  };
}

/** Text of `bytes` bytes: lines of 8..24 Zipf words separated by spaces. */
export function textCorpus(bytes: number, seed: number): Readable {
  const { words, draw } = zipfWords(1_000_000, seed);
  const random = random32(seed + 1);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const block = Buffer.allocUnsafe(Math.min(4 * MIB, left));
      let at = 0;
      // Whole lines only; the last block is cut to size and ends with a newline.
      while (at < block.length - 256) {
        const count = 8 + Math.floor(random() * 17);
        for (let i = 0; i < count; i++) {
          at += (words[draw()] as Buffer).copy(block, at);
          block[at++] = i === count - 1 ? 0x0a : 0x20;
        }
      }
      if (at < block.length) {
        block.fill(0x20, at, block.length - 1);
        block[block.length - 1] = 0x0a;
      }
      left -= block.length;
      this.push(block);
    },
  });
}

/** A uservisits-like CSV (AMPLab's schema) of about `bytes` bytes. */
export function uservisitsCorpus(bytes: number, seed: number): Readable {
  const random = random32(seed);
  const agents = ['Mozilla/5.0', 'Opera/9.80', 'curl/7.88', 'Safari/605.1'];
  const countries = ['ESP', 'FRA', 'DEU', 'USA', 'CHN', 'BRA', 'IND'];
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const rows: string[] = [];
      let size = 0;
      while (size < 4 * MIB && size < left) {
        // Source IPs cluster in 8-character prefixes (about 200,000 groups), as in the query's data.
        const ip = `${10 + Math.floor(random() * 240)}.${Math.floor(random() * 250)}.${Math.floor(random() * 250)}.${Math.floor(random() * 250)}`;
        const cents = Math.floor(random() * 100_000);
        const row =
          `${ip},http://example.org/${Math.floor(random() * 1e6)}.html,2026-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)},` +
          `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},${agents[Math.floor(random() * agents.length)]},` +
          `${countries[Math.floor(random() * countries.length)]},es-ES,word${Math.floor(random() * 1000)},${Math.floor(random() * 100)}\n`;
        rows.push(row);
        size += row.length;
      }
      left -= size;
      this.push(Buffer.from(rows.join('')));
    },
  });
}
