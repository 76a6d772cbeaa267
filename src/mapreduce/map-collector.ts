/**
 * @module mapreduce/map-collector
 * What a map task does with the pairs it emits: groups them by key in a hash map, combining a key's values
 * as they pile up (key-groups.ts), and at the end (or whenever even combined pairs outgrow the budget)
 * encodes each distinct key once into its reducer's partition, chosen by a hash of the key (or, when keys
 * hardly repeat, encodes every pair as it comes). Partitions are not sorted: reducers aggregate by hash
 * too, and sort only the distinct keys they end with.
 */
import { partitionOfString } from './partition.js';
import { RecordWriter, RawValue } from './record-codec.js';
import { KeyGroups, Values, keyText, type Combine, type Emit } from './key-groups.js';

export { keyText, type Combine, type Emit };

export interface MapCollectorOptions {
  reducers: number;
  combine: Combine | null;
  /** Bytes of buffered pairs before combining (and, if that is not enough, flushing to partitions). */
  budgetBytes: number;
}

/** Pairs emitted before deciding whether aggregating them pays. */
const SAMPLE_PAIRS = 100_000;
/** Distinct keys per pair beyond which it does not (each key seen less than twice on average). */
const UNIQUE_SHARE = 0.5;

export class MapCollector {
  private readonly groups: KeyGroups;
  private readonly writers: RecordWriter[];
  /** Pairs emitted by the map function. */
  emitted = 0;

  constructor(private readonly options: MapCollectorOptions) {
    this.groups = new KeyGroups(options.combine);
    this.writers = Array.from({ length: options.reducers }, () => new RecordWriter(64 * 1024));
  }

  /** Whether pairs go straight into their partitions, unaggregated (see `emit`). */
  private passThrough = false;

  /**
   * The emit function handed to the map function. Aggregating by key pays when keys repeat; when, after
   * a sample, they hardly do (a group-by over nearly unique keys), the pairs go straight into their
   * partitions instead and the reducers aggregate them once, rather than every pair being hashed twice
   * (the adaptive partial aggregation of query engines such as Trino and Spark).
   */
  readonly emit: Emit = (key, value) => {
    const text = typeof key === 'string' ? key : keyText(key);
    if (this.passThrough) {
      this.emitted++;
      const reducers = this.options.reducers;
      (this.writers[reducers === 1 ? 0 : partitionOfString(text, reducers)] as RecordWriter).writeString(
        text,
        value,
      );
      return;
    }
    const groups = this.groups;
    groups.add(text, value);
    if (++this.emitted === SAMPLE_PAIRS && groups.size > SAMPLE_PAIRS * UNIQUE_SHARE) {
      this.passThrough = true;
      this.flush();
    } else if (groups.estimatedBytes > this.options.budgetBytes) this.relieve();
  };

  private relieve(): void {
    this.groups.combineAll();
    if (this.groups.estimatedBytes > this.options.budgetBytes / 2) this.flush();
  }

  /** Encodes the buffered groups into their partitions and empties the buffer. */
  private flush(): void {
    const reducers = this.options.reducers;
    const writers = this.writers;
    for (const [key, entry] of this.groups.entries()) {
      const writer = writers[reducers === 1 ? 0 : partitionOfString(key, reducers)] as RecordWriter;
      if (entry instanceof Values) for (const value of entry.items) writer.writeString(key, value);
      else writer.writeString(key, entry);
    }
    this.groups.clear();
  }

  /** Ends the task: the encoded records of each partition, and how many records each holds. */
  finish(): { partitions: Buffer[]; records: number[] } {
    this.groups.combineAll();
    this.flush();
    return {
      partitions: this.writers.map((writer) => writer.bytes()),
      records: this.writers.map((writer) => writer.records),
    };
  }
}

export { RawValue };
