/**
 * @module mapreduce/record-codec
 * The binary form of intermediate key/value records: `u32 keyLength, key bytes (UTF-8), u8 tag, payload`.
 * Numbers travel as 8-byte doubles and strings as raw bytes, so the common cases (counts, sums, text) are
 * never serialised as JSON; anything else is JSON. Runs of records are sorted by the key's bytes (the order
 * of `LC_ALL=C sort`), which is also code-point order.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** A record's value tag. */
const TAG_NUMBER = 0;
const TAG_STRING = 1;
const TAG_JSON = 2;
/** Raw bytes handed to and from process mappers and reducers (`key\tvalue` lines), kept verbatim. */
const TAG_RAW = 3;

/** A value that is already text and must be kept as its bytes (streaming and Python functions). */
export class RawValue {
  constructor(readonly bytes: Buffer) {}
  toString(): string {
    return this.bytes.toString('utf8');
  }
}

/** Appends encoded records to a growing buffer. */
export class RecordWriter {
  private buffer: Buffer;
  private length = 0;
  records = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** Appends one record; `key` is the key's UTF-8 bytes. */
  write(key: Buffer, value: unknown): void {
    this.records++;
    this.ensure(4 + key.length + 1 + 8);
    this.buffer.writeUInt32LE(key.length, this.length);
    key.copy(this.buffer, this.length + 4);
    this.length += 4 + key.length;
    this.writeValue(value);
  }

  /** Appends one record with a string key, encoded straight into the buffer (no Buffer per key). */
  writeString(key: string, value: unknown): void {
    this.records++;
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    this.ensure(4 + key.length * 3 + 1 + 8);
    const keyBytes = this.buffer.write(key, this.length + 4, 'utf8');
    this.buffer.writeUInt32LE(keyBytes, this.length);
    this.length += 4 + keyBytes;
    this.writeValue(value);
  }

  private writeValue(value: unknown): void {
    if (typeof value === 'number') {
      this.buffer[this.length] = TAG_NUMBER;
      this.buffer.writeDoubleLE(value, this.length + 1);
      this.length += 9;
      return;
    }
    let tag: number;
    let payload: Buffer;
    if (value instanceof RawValue) {
      tag = TAG_RAW;
      payload = value.bytes;
    } else if (typeof value === 'string') {
      tag = TAG_STRING;
      payload = Buffer.from(value, 'utf8');
    } else {
      tag = TAG_JSON;
      payload = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
    }
    this.ensure(1 + 4 + payload.length);
    this.buffer[this.length] = tag;
    this.buffer.writeUInt32LE(payload.length, this.length + 1);
    payload.copy(this.buffer, this.length + 5);
    this.length += 5 + payload.length;
  }

  /** The encoded bytes so far (a view: copy before writing more if it must outlive the writer). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  get byteLength(): number {
    return this.length;
  }

  reset(): void {
    this.length = 0;
    this.records = 0;
  }
}

/** One decoded record: `key` is a view valid until the reader moves on. */
export interface RecordView {
  key: Buffer;
  value: unknown;
}

/** Decodes a value whose tag starts at `offset`; returns it and the offset after it. */
function decodeValue(buffer: Buffer, offset: number): { value: unknown; next: number } | null {
  if (offset >= buffer.length) return null;
  const tag = buffer[offset];
  if (tag === TAG_NUMBER) {
    if (offset + 9 > buffer.length) return null;
    return { value: buffer.readDoubleLE(offset + 1), next: offset + 9 };
  }
  if (offset + 5 > buffer.length) return null;
  const length = buffer.readUInt32LE(offset + 1);
  const end = offset + 5 + length;
  if (end > buffer.length) return null;
  const payload = buffer.subarray(offset + 5, end);
  if (tag === TAG_STRING) return { value: payload.toString('utf8'), next: end };
  if (tag === TAG_RAW) return { value: new RawValue(Buffer.from(payload)), next: end };
  if (tag === TAG_JSON) return { value: JSON.parse(payload.toString('utf8')) as unknown, next: end };
  throw new Error(`corrupt intermediate record: unknown value tag ${String(tag)}`);
}

/** Decodes every record of an in-memory buffer. */
export function* decodeRecords(buffer: Buffer): Generator<RecordView> {
  let offset = 0;
  while (offset < buffer.length) {
    const keyLength = buffer.readUInt32LE(offset);
    const key = buffer.subarray(offset + 4, offset + 4 + keyLength);
    const decoded = decodeValue(buffer, offset + 4 + keyLength);
    if (decoded === null) throw new Error('corrupt intermediate record: truncated');
    yield { key, value: decoded.value };
    offset = decoded.next;
  }
}

/**
 * Reads records from a file sequentially with synchronous reads into a fixed buffer (it runs in worker
 * threads, where blocking is fine), so that memory stays at one buffer per open run whatever the file size.
 */
export class FileRecordReader {
  private readonly fd: number;
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  private eof = false;
  /** The current record's key (a copy: stable until `next()` is called again). */
  key: Buffer = Buffer.alloc(0);
  value: unknown = undefined;

  constructor(
    readonly path: string,
    bufferBytes = 64 * 1024,
  ) {
    this.fd = openSync(path, 'r');
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  private fill(): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buffer.length) {
      // One record larger than the buffer: grow to hold it.
      const grown = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(grown, 0, 0, this.end);
      this.buffer = grown;
    }
    const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
    if (read === 0) this.eof = true;
    this.end += read;
    return read > 0;
  }

  /** The current record's key as a string, after `nextString()`. */
  keyString = '';

  /** Moves to the next record, decoding its key as a string (no Buffer copy); false at the end. */
  nextString(): boolean {
    if (!this.nextRaw()) return false;
    this.keyString = this.bytes.toString('utf8', this.keyStart, this.keyEnd);
    return true;
  }

  /** Where the current record's key is after `nextRaw()`: `bytes[keyStart..keyEnd)`, valid until the next call. */
  bytes: Buffer = Buffer.alloc(0);
  keyStart = 0;
  keyEnd = 0;

  /** Moves to the next record without decoding its key (see `bytes`); false at the end. */
  nextRaw(): boolean {
    for (;;) {
      const buffer = this.buffer;
      const start = this.start;
      const available = this.end - start;
      if (available >= 4) {
        const keyLength = buffer.readUInt32LE(start);
        const valueAt = start + 4 + keyLength;
        let decoded: { value: unknown; next: number } | null = null;
        if (available >= 4 + keyLength + 9 && buffer[valueAt] === TAG_NUMBER) {
          this.value = buffer.readDoubleLE(valueAt + 1);
          this.start = valueAt + 9;
        } else if (
          available > 4 + keyLength &&
          (decoded = decodeValue(buffer.subarray(0, this.end), valueAt)) !== null
        ) {
          this.value = decoded.value;
          this.start = decoded.next;
        } else {
          if (this.fill()) continue;
          if (this.end > this.start) throw new Error(`corrupt intermediate file ${this.path}: truncated`);
          return false;
        }
        this.bytes = buffer;
        this.keyStart = start + 4;
        this.keyEnd = valueAt;
        return true;
      }
      if (!this.fill()) {
        if (this.end > this.start) throw new Error(`corrupt intermediate file ${this.path}: truncated`);
        return false;
      }
    }
  }

  /** Moves to the next record; false at the end of the file. */
  next(): boolean {
    for (;;) {
      const available = this.buffer.subarray(this.start, this.end);
      if (available.length >= 4) {
        const keyLength = available.readUInt32LE(0);
        if (available.length >= 4 + keyLength) {
          const decoded = decodeValue(available, 4 + keyLength);
          if (decoded !== null) {
            this.key = Buffer.from(available.subarray(4, 4 + keyLength));
            this.value = decoded.value;
            this.start += decoded.next;
            return true;
          }
        }
      }
      if (!this.fill()) {
        if (this.end > this.start) throw new Error(`corrupt intermediate file ${this.path}: truncated`);
        return false;
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
