/**
 * @module mapreduce/map-collector
 * What a map task does with the pairs it emits: groups them by key in a hash map, combining a key's values
 * as they pile up (key-groups.ts), and at the end (or whenever even combined pairs outgrow the budget)
 * encodes each distinct key once into its reducer's partition, chosen by a hash of the key (or, when keys
 * hardly repeat, encodes every pair as it comes). Partitions are not sorted: reducers aggregate by hash
 * too, and sort only the distinct keys they end with.
 */
import { partitionOfString, reducerOf } from './partition.js';
import { RecordWriter, RawValue } from './record-codec.js';
import { KeyGroups, Values, keyText, type Combine, type Emit } from './key-groups.js';

export { keyText, type Combine, type Emit };

export interface MapCollectorOptions {
  reducers: number;
  combine: Combine | null;
  /** Bytes of buffered pairs before combining (and, if that is not enough, flushing to partitions). */
  budgetBytes: number;
  /** Bytes of input the task will hand to the map function, when known (see `consumed`). */
  inputBytes?: number;
}

/** Pairs emitted before first asking whether aggregating them pays (asked again at each doubling). */
const SAMPLE_PAIRS = 100_000;
/** New keys per pair beyond which it does not (each key seen less than twice on average). */
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
    if (++this.emitted === this.nextCheck) this.decide();
    else if (groups.estimatedBytes > this.options.budgetBytes) this.relieve();
  };

  /** When to ask next whether aggregating pays (0: decided). */
  private nextCheck = SAMPLE_PAIRS;
  private distinctAtCheck = 0;
  /** Input bytes handed to the map function so far (see `consumed`). */
  private consumedBytes = 0;

  /** Tells the collector that the map function is being given `bytes` more of the task's input. */
  consumed(bytes: number): void {
    this.consumedBytes += bytes;
  }

  /**
   * Whether to keep aggregating: it pays when the task's pairs will have, in all, fewer than UNIQUE_SHARE
   * distinct keys per pair. Keys repeat more the more pairs are seen (in a chunk of a group-by whose keys
   * each come a few times, 72 % of the first 100,000 pairs had new keys, 37 % of all 704,000), so the
   * first sample alone would say "pass through" and the reducers would read 2.7 times as many records as
   * needed. When the first sample is not clear, a second one of as many pairs measures how fast new keys
   * thin out: if keys are drawn from a space of K, d(n) = K (1 - e^(-n/K)), so d(2n)/d(n) - 1 = e^(-n/K)
   * gives K, and from it the distinct keys of the whole task (its pairs extrapolated from the input bytes
   * consumed so far). Skewed keys repeat even more than this model says: it errs towards aggregating.
   */
  private decide(): void {
    const pairs = this.emitted;
    const distinct = this.groups.size;
    if (pairs === SAMPLE_PAIRS && distinct > pairs * UNIQUE_SHARE) {
      this.distinctAtCheck = distinct;
      this.nextCheck = pairs * 2;
      return;
    }
    this.nextCheck = 0;
    if (pairs === SAMPLE_PAIRS) return;
    const total = this.options.inputBytes ?? 0;
    const expectedPairs =
      total > 0 && this.consumedBytes > 0 ? Math.max(pairs, (pairs * total) / this.consumedBytes) : pairs;
    const thinning = distinct / this.distinctAtCheck - 1;
    let expectedDistinct = expectedPairs;
    if (thinning <= 0) expectedDistinct = distinct;
    else if (thinning < 1) {
      const space = pairs / 2 / -Math.log(thinning);
      expectedDistinct = space * (1 - Math.exp(-expectedPairs / space));
    }
    if (expectedDistinct > expectedPairs * UNIQUE_SHARE) {
      this.passThrough = true;
      this.flush();
    }
  }

  private relieve(): void {
    // Flushing empties the groups, so that their number says nothing more: aggregation is kept.
    this.nextCheck = 0;
    this.groups.combineAll();
    if (this.groups.estimatedBytes > this.options.budgetBytes / 2) this.flush();
  }

  /** Encodes the buffered groups into their partitions and empties the buffer. */
  private flush(): void {
    const reducers = this.options.reducers;
    const writers = this.writers;
    this.groups.forEach((key, entry, hash) => {
      const writer = writers[reducers === 1 ? 0 : reducerOf(hash, reducers)] as RecordWriter;
      if (entry instanceof Values) for (const value of entry.items) writer.writeString(key, value);
      else writer.writeString(key, entry);
    });
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
