/**
 * @module mapreduce/run-merge
 * K-way merge of sorted run files (intermediate objects, spills) in bounded memory: one read buffer per
 * open run, at most `fanIn` runs open at once. With more runs than that, groups of runs are first merged
 * into spill files on local disk, pass after pass, as external merge sort does.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileRecordReader, RecordWriter } from './record-codec.js';

/** Runs merged at once; each costs one read buffer (64 KiB). */
export const DEFAULT_FAN_IN = 64;

/** Yields the records of sorted runs in key order (equal keys in run order). */
export class RunMerger {
  private readonly heap: FileRecordReader[] = [];
  private readonly order = new Map<FileRecordReader, number>();

  constructor(paths: readonly string[]) {
    paths.forEach((path, index) => {
      const reader = new FileRecordReader(path);
      this.order.set(reader, index);
      if (reader.next()) this.push(reader);
      else reader.close();
    });
  }

  private less(a: FileRecordReader, b: FileRecordReader): boolean {
    const byKey = Buffer.compare(a.key, b.key);
    return byKey < 0 || (byKey === 0 && (this.order.get(a) ?? 0) < (this.order.get(b) ?? 0));
  }

  private push(reader: FileRecordReader): void {
    const heap = this.heap;
    heap.push(reader);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i] as FileRecordReader, heap[parent] as FileRecordReader)) break;
      [heap[i], heap[parent]] = [heap[parent] as FileRecordReader, heap[i] as FileRecordReader];
      i = parent;
    }
  }

  private siftDown(): void {
    const heap = this.heap;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.less(heap[left] as FileRecordReader, heap[smallest] as FileRecordReader))
        smallest = left;
      if (
        right < heap.length &&
        this.less(heap[right] as FileRecordReader, heap[smallest] as FileRecordReader)
      )
        smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as FileRecordReader, heap[i] as FileRecordReader];
      i = smallest;
    }
  }

  /** The smallest current key, or null when every run is exhausted. */
  peekKey(): Buffer | null {
    return this.heap[0]?.key ?? null;
  }

  /** Takes the smallest record. Call only when `peekKey()` is not null. */
  take(): { key: Buffer; value: unknown } {
    const top = this.heap[0] as FileRecordReader;
    const record = { key: top.key, value: top.value };
    if (top.next()) {
      this.siftDown();
    } else {
      top.close();
      const last = this.heap.pop() as FileRecordReader;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown();
      }
    }
    return record;
  }

  /**
   * Yields each key once with a one-pass iterator over its values, read lazily from the runs. Values a
   * consumer leaves unread are skipped.
   */
  *groups(): Generator<{ key: Buffer; values: Iterable<unknown> }> {
    while (this.peekKey() !== null) {
      const first = this.take();
      const key = first.key;
      let pending: { value: unknown } | null = { value: first.value };
      const values: Iterable<unknown> = {
        [Symbol.iterator]: () => ({
          next: (): IteratorResult<unknown> => {
            if (pending !== null) {
              const { value } = pending;
              pending = null;
              return { value, done: false };
            }
            const next = this.peekKey();
            if (next !== null && next.equals(key)) return { value: this.take().value, done: false };
            return { value: undefined, done: true };
          },
        }),
      };
      yield { key, values };
      pending = null;
      for (let next = this.peekKey(); next !== null && next.equals(key); next = this.peekKey()) this.take();
    }
  }

  close(): void {
    for (const reader of this.heap) reader.close();
    this.heap.length = 0;
  }
}

/** Writes records to a file through a bounded buffer. */
export class RunFileWriter {
  private readonly fd: number;
  private readonly writer = new RecordWriter(256 * 1024);
  bytes = 0;
  records = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(key: Buffer, value: unknown): void {
    this.writer.write(key, value);
    this.records++;
    if (this.writer.byteLength >= 192 * 1024) this.flush();
  }

  writeString(key: string, value: unknown): void {
    this.writer.writeString(key, value);
    this.records++;
    if (this.writer.byteLength >= 192 * 1024) this.flush();
  }

  private flush(): void {
    const bytes = this.writer.bytes();
    writeSync(this.fd, bytes);
    this.bytes += bytes.length;
    this.writer.reset();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * Reduces the runs to at most `fanIn` by merging groups of them into spill files under `spillDir`; returns
 * the runs to merge last and the spill files made (to delete afterwards).
 */
export function spillToFanIn(
  runs: readonly string[],
  spillDir: string,
  fanIn = DEFAULT_FAN_IN,
): { runs: string[]; spills: string[] } {
  let current = [...runs];
  const spills: string[] = [];
  let pass = 0;
  while (current.length > fanIn) {
    const next: string[] = [];
    for (let i = 0; i < current.length; i += fanIn) {
      const group = current.slice(i, i + fanIn);
      if (group.length === 1) {
        next.push(group[0] as string);
        continue;
      }
      const out = join(spillDir, `spill-${pass}-${i / fanIn}`);
      const merger = new RunMerger(group);
      const writer = new RunFileWriter(out);
      try {
        while (merger.peekKey() !== null) {
          const { key, value } = merger.take();
          writer.write(key, value);
        }
      } finally {
        writer.close();
        merger.close();
      }
      // Earlier spills are no longer needed once merged into the next pass.
      for (const run of group) {
        if (spills.includes(run)) rmSync(run, { force: true });
      }
      spills.push(out);
      next.push(out);
    }
    current = next;
    pass++;
  }
  return { runs: current, spills };
}
