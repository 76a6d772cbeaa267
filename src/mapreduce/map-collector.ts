/**
 * @module mapreduce/map-collector
 * What a map task does with the pairs it emits: group them by key in one Map per chunk, combine each
 * key's values (the combiner, when there is one) whenever the buffer grows past its budget and at the end,
 * hash-partition the keys, sort each partition by key bytes and encode it. When even combined pairs
 * exceed the budget, sorted runs are spilled to disk and merged at the end, so a chunk's memory stays
 * bounded whatever its keys.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { partitionOf } from './partition.js';
import { RecordWriter, RawValue } from './record-codec.js';
import { RunFileWriter, RunMerger } from './run-merge.js';

/** `emit(key, value)` as user functions see it. */
export type Emit = (key: unknown, value: unknown) => void;
/** A combiner or reducer: called once per key with all of its values. */
export type Combine = (key: string, values: Iterable<unknown>, emit: Emit) => void;

/** Several values buffered for one key (a plain array could be a user's value). */
class Values {
  constructor(readonly items: unknown[]) {}
}

/** Rough heap cost of buffered entries, to decide when to combine or spill. */
const ENTRY_BYTES = 80;
const VALUE_BYTES = 24;

export interface MapCollectorOptions {
  reducers: number;
  combine: Combine | null;
  /** Bytes of buffered pairs before combining (and, if that is not enough, spilling). */
  budgetBytes: number;
  spillDir: string;
}

/** Converts an emitted key to the string it is grouped and sorted by. */
export function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  throw new TypeError(`emit(key, value): the key must be a string or a number, got ${typeof key}`);
}

export class MapCollector {
  private buffer = new Map<string, unknown>();
  private estimatedBytes = 0;
  private readonly spills: string[][] = [];
  /** Pairs emitted by the map function. */
  emitted = 0;

  constructor(private readonly options: MapCollectorOptions) {}

  /** The emit function handed to the map function. */
  readonly emit: Emit = (key, value) => {
    const text = keyText(key);
    this.emitted++;
    const buffer = this.buffer;
    const existing = buffer.get(text);
    if (existing === undefined && !buffer.has(text)) {
      buffer.set(text, value);
      this.estimatedBytes += ENTRY_BYTES + 2 * text.length;
    } else if (existing instanceof Values) {
      existing.items.push(value);
      this.estimatedBytes += VALUE_BYTES;
    } else {
      buffer.set(text, new Values([existing, value]));
      this.estimatedBytes += VALUE_BYTES * 3;
    }
    if (this.estimatedBytes > this.options.budgetBytes) this.relieve();
  };

  private add(into: Map<string, unknown>, key: unknown, value: unknown): void {
    const text = keyText(key);
    const existing = into.get(text);
    if (existing === undefined && !into.has(text)) into.set(text, value);
    else if (existing instanceof Values) existing.items.push(value);
    else into.set(text, new Values([existing, value]));
  }

  /** Applies the combiner to every key with several values. */
  private combineBuffer(): void {
    const combine = this.options.combine;
    if (combine === null) return;
    const combined = new Map<string, unknown>();
    const emit: Emit = (key, value) => this.add(combined, key, value);
    for (const [key, entry] of this.buffer) {
      combine(key, entry instanceof Values ? entry.items : [entry], emit);
    }
    this.buffer = combined;
    this.estimatedBytes = 0;
    for (const [key, entry] of combined) {
      this.estimatedBytes +=
        ENTRY_BYTES + 2 * key.length + (entry instanceof Values ? VALUE_BYTES * entry.items.length : 0);
    }
  }

  private relieve(): void {
    this.combineBuffer();
    if (this.estimatedBytes > this.options.budgetBytes / 2) this.spill();
  }

  /** The buffer as sorted records per partition. */
  private sortedPartitions(): { key: Buffer; entry: unknown }[][] {
    const partitions: { key: Buffer; entry: unknown }[][] = Array.from(
      { length: this.options.reducers },
      () => [],
    );
    for (const [text, entry] of this.buffer) {
      const key = Buffer.from(text, 'utf8');
      (partitions[partitionOf(key, this.options.reducers)] as { key: Buffer; entry: unknown }[]).push({
        key,
        entry,
      });
    }
    for (const partition of partitions) partition.sort((a, b) => Buffer.compare(a.key, b.key));
    return partitions;
  }

  private spill(): void {
    const index = this.spills.length;
    const files: string[] = [];
    this.sortedPartitions().forEach((records, partition) => {
      const path = join(this.options.spillDir, `map-spill-${index}-${partition}`);
      const writer = new RunFileWriter(path);
      for (const { key, entry } of records) writeEntry(writer, key, entry);
      writer.close();
      files.push(path);
    });
    this.spills.push(files);
    this.buffer = new Map();
    this.estimatedBytes = 0;
  }

  /** Ends the task: the encoded sorted records of each partition, and how many records each holds. */
  finish(): { partitions: Buffer[]; records: number[] } {
    this.combineBuffer();
    if (this.spills.length === 0) {
      const records: number[] = [];
      const partitions = this.sortedPartitions().map((entries) => {
        const writer = new RecordWriter(1024);
        for (const { key, entry } of entries) writeEntry(writer, key, entry);
        records.push(writer.records);
        return Buffer.from(writer.bytes());
      });
      return { partitions, records };
    }
    this.spill();
    const partitions: Buffer[] = [];
    const records: number[] = [];
    for (let partition = 0; partition < this.options.reducers; partition++) {
      const runs = this.spills.map((files) => files[partition] as string);
      const merger = new RunMerger(runs);
      const writer = new RecordWriter(64 * 1024);
      const combine = this.options.combine;
      try {
        for (const { key, values } of merger.groups()) {
          if (combine === null) {
            for (const value of values) writer.write(key, value);
          } else {
            // The combiner may emit other keys; within one group they stay in the order emitted.
            combine(key.toString('utf8'), values, (k, v) => writer.write(Buffer.from(keyText(k), 'utf8'), v));
          }
        }
      } finally {
        merger.close();
      }
      partitions.push(Buffer.from(writer.bytes()));
      records.push(writer.records);
      for (const run of runs) rmSync(run, { force: true });
    }
    return { partitions, records };
  }
}

function writeEntry(writer: { write(key: Buffer, value: unknown): void }, key: Buffer, entry: unknown): void {
  if (entry instanceof Values) for (const value of entry.items) writer.write(key, value);
  else writer.write(key, entry);
}

export { RawValue };
