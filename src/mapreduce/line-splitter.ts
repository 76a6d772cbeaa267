/**
 * @module mapreduce/line-splitter
 * Splits an object into chunks of whole lines, with small ranged reads at each nominal boundary.
 * The one rule (as MARLA and Lithops meant it): a line belongs to the chunk in which its first byte lies,
 * with chunks on a fixed grid of `chunkBytes`. A line starts at byte 0 and after every `\n`, so CRLF lines
 * (whose `\r` sits before the `\n`) and multi-byte UTF-8 characters (whose bytes are never 0x0A) are never
 * cut; a line longer than a chunk leaves the chunks it covers empty, and those are dropped.
 */

/** A chunk of whole lines: bytes [start, end) of one object. */
export interface LineChunk {
  start: number;
  end: number;
}

/** Reads bytes [start, end] (inclusive) of the object; may return fewer at its end. */
export type RangeReader = (start: number, endInclusive: number) => Promise<Buffer>;

const FIRST_PROBE_BYTES = 4 * 1024;
const MAX_PROBE_BYTES = 4 * 1024 * 1024;

/** The first line start at or after `position` (the object's size when there is none). */
export async function lineStartAtOrAfter(position: number, size: number, read: RangeReader): Promise<number> {
  if (position <= 0) return 0;
  if (position >= size) return size;
  // A line starts at `position` exactly when the byte before it is a newline: scan from there.
  let from = position - 1;
  let window = FIRST_PROBE_BYTES;
  while (from < size) {
    const bytes = await read(from, Math.min(size, from + window) - 1);
    if (bytes.length === 0) break;
    const newline = bytes.indexOf(0x0a);
    if (newline >= 0) return from + newline + 1;
    from += bytes.length;
    window = Math.min(window * 2, MAX_PROBE_BYTES);
  }
  return size;
}

/** The non-empty chunks of an object of `size` bytes, in order, covering it exactly. */
export async function splitLines(size: number, chunkBytes: number, read: RangeReader): Promise<LineChunk[]> {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1)
    throw new Error(`invalid chunk size ${chunkBytes}`);
  const chunks: LineChunk[] = [];
  let start = 0;
  let grid = chunkBytes;
  while (start < size) {
    let end = size;
    while (grid < size) {
      const aligned = await lineStartAtOrAfter(grid, size, read);
      // Grid points up to `aligned` all fall inside the same line: they would align to the same place.
      grid = (Math.floor(aligned / chunkBytes) + 1) * chunkBytes;
      if (aligned > start) {
        end = aligned;
        break;
      }
    }
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}
