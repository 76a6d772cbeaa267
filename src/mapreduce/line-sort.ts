/**
 * @module mapreduce/line-sort
 * Output files are `key\tvalue` lines sorted by key bytes (code-point order, as `LC_ALL=C sort`), so that
 * a job's output is the same whatever the timing of its tasks. A reducer that writes its keys out of order
 * (a streaming `awk` over a hash, a Python dict) has its output sorted here in bounded memory: sorted
 * batches spilled as runs, then merged. The merged output mode merges the reducers' sorted files the same
 * way. Synchronous: it runs in worker threads.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a file line by line through one fixed buffer (grown only for a line longer than it). */
export class LineReader {
  private readonly fd: number;
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  private eof = false;
  /** The current line without its `\n` (a copy, stable until `next()`). */
  line: Buffer = Buffer.alloc(0);
  /** Bytes of `line` before its first tab (the whole line when it has none). */
  keyLength = 0;

  constructor(
    readonly path: string,
    bufferBytes = 64 * 1024,
  ) {
    this.fd = openSync(path, 'r');
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  get key(): Buffer {
    return this.line.subarray(0, this.keyLength);
  }

  private fill(): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buffer.length) {
      const grown = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(grown, 0, 0, this.end);
      this.buffer = grown;
    }
    const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
    if (read === 0) this.eof = true;
    this.end += read;
    return read > 0;
  }

  /** Moves to the next line; false at the end of the file. */
  next(): boolean {
    let scanFrom = this.start;
    for (;;) {
      const newline = this.buffer.indexOf(0x0a, scanFrom);
      if (newline >= 0 && newline < this.end) {
        this.take(newline, newline + 1);
        return true;
      }
      scanFrom = this.end;
      const before = this.start;
      if (!this.fill()) {
        if (this.end > this.start) {
          // The last line has no newline.
          this.take(this.end, this.end);
          return true;
        }
        return false;
      }
      scanFrom -= before - this.start;
    }
  }

  private take(lineEnd: number, next: number): void {
    this.line = Buffer.from(this.buffer.subarray(this.start, lineEnd));
    const tab = this.line.indexOf(0x09);
    this.keyLength = tab < 0 ? this.line.length : tab;
    this.start = next;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Writes lines through a buffer. */
class LineWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(256 * 1024);
  private length = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(line: Buffer): void {
    if (this.length + line.length + 1 > this.buffer.length) this.flush();
    if (line.length + 1 > this.buffer.length) {
      writeSync(this.fd, line);
      writeSync(this.fd, NEWLINE);
      return;
    }
    line.copy(this.buffer, this.length);
    this.buffer[this.length + line.length] = 0x0a;
    this.length += line.length + 1;
  }

  private flush(): void {
    if (this.length > 0) writeSync(this.fd, this.buffer, 0, this.length);
    this.length = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
const NEWLINE = Buffer.from('\n');

function keyOf(line: Buffer): Buffer {
  const tab = line.indexOf(0x09);
  return tab < 0 ? line : line.subarray(0, tab);
}

/** Merges files of sorted lines by key into `outPath` (equal keys in file order). */
export function mergeLineFiles(paths: readonly string[], outPath: string): void {
  const readers: LineReader[] = [];
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const byKey = Buffer.compare((readers[a] as LineReader).key, (readers[b] as LineReader).key);
    return byKey < 0 || (byKey === 0 && a < b);
  };
  const siftDown = (from: number) => {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      let smallest = i;
      if (left < heap.length && less(heap[left] as number, heap[smallest] as number)) smallest = left;
      if (left + 1 < heap.length && less(heap[left + 1] as number, heap[smallest] as number))
        smallest = left + 1;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as number, heap[i] as number];
      i = smallest;
    }
  };
  const out = new LineWriter(outPath);
  try {
    for (const path of paths) {
      const reader = new LineReader(path);
      readers.push(reader);
      if (reader.next()) heap.push(readers.length - 1);
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
    while (heap.length > 0) {
      const top = readers[heap[0] as number] as LineReader;
      out.write(top.line);
      if (!top.next()) {
        const last = heap.pop() as number;
        if (heap.length > 0) heap[0] = last;
      }
      siftDown(0);
    }
  } finally {
    out.close();
    for (const reader of readers) reader.close();
  }
}

/**
 * Sorts the lines of `path` by key (stable: equal keys keep their order) in place. A file already in
 * order is left as it is; one larger than `budgetBytes` is sorted in runs under `spillDir`, then merged.
 */
export function sortLineFile(path: string, spillDir: string, budgetBytes: number): void {
  const reader = new LineReader(path);
  const runs: string[] = [];
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let previous: Buffer | null = null;
  let sorted = true;
  const spill = () => {
    const run = join(spillDir, `sort-run-${runs.length}`);
    writeSorted(batch, run);
    runs.push(run);
    batch = [];
    batchBytes = 0;
  };
  try {
    while (reader.next()) {
      const line = reader.line;
      if (sorted && previous !== null && Buffer.compare(keyOf(previous), reader.key) > 0) sorted = false;
      previous = line;
      batch.push(line);
      // Each line costs its bytes plus a Buffer object.
      batchBytes += line.length + 96;
      if (batchBytes > budgetBytes) spill();
    }
  } finally {
    reader.close();
  }
  if (sorted) {
    for (const run of runs) rmSync(run, { force: true });
    return;
  }
  const temp = `${path}.sorted`;
  if (runs.length === 0) {
    writeSorted(batch, temp);
  } else {
    if (batch.length > 0) spill();
    try {
      mergeLineFiles(runs, temp);
    } finally {
      for (const run of runs) rmSync(run, { force: true });
    }
  }
  renameSync(temp, path);
}

function writeSorted(lines: Buffer[], path: string): void {
  // Array.prototype.sort is stable.
  lines.sort((a, b) => Buffer.compare(keyOf(a), keyOf(b)));
  const out = new LineWriter(path);
  try {
    for (const line of lines) out.write(line);
  } finally {
    out.close();
  }
}
