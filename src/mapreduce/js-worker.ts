/**
 * @module mapreduce/js-worker
 * The worker-thread side of map and reduce tasks: loads the user's JS module once per thread, runs
 * `map(chunk, emit)` over a chunk of whole lines (a Buffer) and `reduce(key, values, emit)` over merged
 * sorted runs, and merges runs into the sorted `key\tvalue` input of process reducers. What the user's code
 * prints goes to the task's log file, never to the server's output.
 */
import { Console } from 'node:console';
import { appendFileSync, closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { KeyGroups, compareKeys, keyText, valuesOf, type Combine, type Emit } from './key-groups.js';
import { MapCollector } from './map-collector.js';
import { FileRecordReader, RawValue } from './record-codec.js';
import { mergeLineFiles, sortLineFile } from './line-sort.js';
import { RunFileWriter, RunMerger, spillToFanIn } from './run-merge.js';
import type {
  LinesTaskMessage,
  MapTaskMessage,
  ReduceTaskMessage,
  TaskMessage,
  TaskReply,
} from './task-messages.js';

type MapFunction = (chunk: Buffer, emit: Emit) => unknown;

interface UserModule {
  map?: MapFunction;
  reduce?: Combine;
  combine?: Combine;
  default?: UserModule;
}

const modules = new Map<string, UserModule>();
/**
 * Bytes of whole lines handed to one call of a JS `map`. Small enough that the strings and arrays a map
 * function makes of a block die in the young generation (cheap to collect): with 8 MiB blocks, a word
 * count's millions of tokens per block were promoted, and collecting them took a third of its CPU time.
 */
const MAP_BLOCK_BYTES = 1024 * 1024;

async function load(path: string): Promise<UserModule> {
  let loaded = modules.get(path);
  if (loaded === undefined) {
    const imported = (await import(pathToFileURL(path).href)) as UserModule;
    loaded = { ...(imported.default ?? {}), ...imported };
    modules.set(path, loaded);
  }
  return loaded;
}

function fn<T>(module: UserModule, name: 'map' | 'reduce' | 'combine', file: string): T {
  const found = module[name];
  if (typeof found !== 'function') throw new Error(`${file} does not export a function "${name}"`);
  return found as T;
}

/** Sends the user's console output to the task's log. */
function captureConsole(logPath: string): void {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        appendFileSync(logPath, chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  globalThis.console = new Console({ stdout: sink, stderr: sink });
}

/**
 * The chunk in blocks of whole lines, read one block at a time (from a local file), so that a task's memory
 * does not grow with its chunk. A line longer than a block makes its block longer.
 */
function* lineBlocks(input: MapTaskMessage['input']): Generator<Buffer> {
  if ('bytes' in input) {
    const chunk = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
    for (let start = 0; start < chunk.length;) {
      const end = wholeLinesEnd(chunk, start, Math.min(chunk.length, start + MAP_BLOCK_BYTES));
      yield chunk.subarray(start, end);
      start = end;
    }
    return;
  }
  const fd = openSync(input.path, 'r');
  try {
    let position = input.start;
    let carry: Buffer | null = null;
    while (position < input.end || carry !== null) {
      // Past a long line's first block, read as much again as it has so far: copying it stays linear.
      const want = Math.min(Math.max(MAP_BLOCK_BYTES, carry?.length ?? 0), input.end - position);
      // A fresh block each time: the map function may keep the one it was given.
      const block = Buffer.allocUnsafe((carry?.length ?? 0) + want);
      let length = carry === null ? 0 : carry.copy(block);
      while (length < block.length) {
        const read = readSync(fd, block, length, block.length - length, position);
        if (read === 0) throw new Error(`${input.path} ended before byte ${input.end}`);
        length += read;
        position += read;
      }
      carry = null;
      if (position >= input.end) {
        if (length > 0) yield block;
        break;
      }
      const newline = block.lastIndexOf(0x0a);
      if (newline < 0) {
        carry = block;
        continue;
      }
      if (newline + 1 < length) carry = Buffer.from(block.subarray(newline + 1));
      yield block.subarray(0, newline + 1);
    }
  } finally {
    closeSync(fd);
  }
}

/** The end of the last whole line in chunk[start, end), or of the line running past `end`. */
function wholeLinesEnd(chunk: Buffer, start: number, end: number): number {
  if (end >= chunk.length) return chunk.length;
  const newline = chunk.lastIndexOf(0x0a, end - 1);
  if (newline >= start) return newline + 1;
  const next = chunk.indexOf(0x0a, end);
  return next < 0 ? chunk.length : next + 1;
}

/** Splits `key\tvalue` lines; `jsonKeys` keeps keys as the JSON text the Python runner wrote. */
function ingestPairs(chunk: Buffer, emit: Emit): void {
  let start = 0;
  while (start < chunk.length) {
    let end = chunk.indexOf(0x0a, start);
    if (end < 0) end = chunk.length;
    if (end > start) {
      const tab = chunk.indexOf(0x09, start);
      if (tab >= 0 && tab < end) {
        emit(chunk.toString('utf8', start, tab), new RawValue(Buffer.from(chunk.subarray(tab + 1, end))));
      } else {
        emit(chunk.toString('utf8', start, end), new RawValue(Buffer.alloc(0)));
      }
    }
    start = end + 1;
  }
}

/** The combiner: the combiner module's `combine` (or `reduce`), else the mapper module's `combine`. */
async function loadCombine(mapperPath: string | null, combinerPath: string | null): Promise<Combine | null> {
  if (combinerPath !== null) {
    const module = await load(combinerPath);
    return module.combine ?? fn<Combine>(module, 'reduce', 'the combiner');
  }
  if (mapperPath === null) return null;
  const module = await load(mapperPath);
  return typeof module.combine === 'function' ? module.combine : null;
}

async function runMap(task: MapTaskMessage): Promise<TaskReply> {
  let map: MapFunction = ingestPairs;
  const mapperPath = task.map.kind === 'module' ? task.map.path : null;
  if (mapperPath !== null) map = fn<MapFunction>(await load(mapperPath), 'map', 'the mapper');
  const collector = new MapCollector({
    reducers: task.reducers,
    combine: await loadCombine(mapperPath, task.combinerPath),
    budgetBytes: task.budgetBytes,
    inputBytes: 'bytes' in task.input ? task.input.bytes.byteLength : task.input.end - task.input.start,
  });
  for (const block of lineBlocks(task.input)) {
    collector.consumed(block.length);
    const result = map(block, collector.emit);
    if (result instanceof Promise) await result;
  }
  const { partitions, records } = collector.finish();
  // Each partition gets its own ArrayBuffer (small Buffers share a pool, which must not be transferred).
  const owned = partitions.map((partition) => new Uint8Array(partition));
  return { type: 'map-done', taskId: task.taskId, partitions: owned, records, emitted: collector.emitted };
}

/** How a value is printed in output lines: text as is, numbers as JS prints them, the rest as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof RawValue) return value.toString();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value) ?? 'null';
}

/** Output lines `key\tvalue`, written through one growing buffer. */
class LineOutput {
  private readonly fd: number;
  private buffer = Buffer.allocUnsafe(1024 * 1024);
  private length = 0;
  private previousKey: string | null = null;
  private written = 0;
  records = 0;
  /** Whether every key written so far came in order. */
  sorted = true;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    this.flush();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  line(key: string, value: unknown): void {
    if (this.sorted && this.previousKey !== null && compareKeys(this.previousKey, key) > 0)
      this.sorted = false;
    this.previousKey = key;
    this.records++;
    if (value instanceof RawValue) {
      this.ensure(key.length * 3 + value.bytes.length + 2);
      this.length += this.buffer.write(key, this.length, 'utf8');
      this.buffer[this.length++] = 0x09;
      this.length += value.bytes.copy(this.buffer, this.length);
    } else {
      const text = formatValue(value);
      this.ensure((key.length + text.length) * 3 + 2);
      this.length += this.buffer.write(key, this.length, 'utf8');
      this.buffer[this.length++] = 0x09;
      this.length += this.buffer.write(text, this.length, 'utf8');
    }
    this.buffer[this.length++] = 0x0a;
  }

  private flush(): void {
    if (this.length === 0) return;
    writeSync(this.fd, this.buffer, 0, this.length);
    this.written += this.length;
    this.length = 0;
  }

  /** Flushes and closes; returns the bytes written. */
  close(): number {
    this.flush();
    closeSync(this.fd);
    return this.written;
  }
}

/**
 * A reduce task: every record of its partition gathered by key in a hash map (combined as they pile up,
 * when there is a combiner), then each distinct key, in order, given to the reducer (or written as the
 * sorted lines a process reducer reads). Beyond the memory budget, the groups are spilled as sorted runs
 * and merged at the end: memory stays bounded whatever the partition's size.
 */
async function runReduce(task: ReduceTaskMessage): Promise<TaskReply> {
  const reduce =
    task.mode.kind === 'module' ? fn<Combine>(await load(task.mode.path), 'reduce', 'the reducer') : null;
  const combine =
    reduce === null ? null : await loadCombine(task.combine.mapperPath, task.combine.combinerPath);
  const groups = new KeyGroups(combine);
  const spills: string[] = [];
  const spill = () => {
    const writer = new RunFileWriter(join(task.spillDir, `reduce-spill-${spills.length}`));
    try {
      for (const [key, entry] of groups.sortedEntries())
        for (const value of valuesOf(entry)) writer.writeString(key, value);
    } finally {
      writer.close();
    }
    spills.push(writer.path);
    groups.clear();
  };
  for (const run of task.runs) {
    const reader = new FileRecordReader(run, 256 * 1024);
    try {
      while (reader.nextRaw()) {
        groups.addUtf8(reader.bytes, reader.keyStart, reader.keyEnd, reader.value);
        if (groups.estimatedBytes > task.budgetBytes) {
          groups.combineAll();
          if (groups.estimatedBytes > task.budgetBytes / 2) spill();
        }
      }
    } finally {
      reader.close();
    }
  }
  const output = new LineOutput(task.outPath);
  const emit: Emit = (key, value) => output.line(keyText(key), value);
  // A promise only when the reducer is async: awaiting each of a million keys otherwise costs a microtask.
  const give = (key: string, values: Iterable<unknown>): unknown => {
    if (reduce === null) {
      for (const value of values) output.line(key, value);
      return undefined;
    }
    return reduce(key, values, emit);
  };
  let bytes = 0;
  try {
    if (spills.length === 0) {
      for (const [key, entry] of groups.sortedEntries()) {
        const values = valuesOf(entry);
        // A combiner may have emitted nothing for a key.
        if (values.length > 0) {
          const result = give(key, values);
          if (result instanceof Promise) await result;
        }
      }
      groups.clear();
    } else {
      spill();
      const { runs, spills: passes } = spillToFanIn(spills, task.spillDir);
      const merger = new RunMerger(runs);
      try {
        for (const { key, values } of merger.groups()) {
          const result = give(key.toString('utf8'), values);
          if (result instanceof Promise) await result;
        }
      } finally {
        merger.close();
        for (const path of [...spills, ...passes]) rmSync(path, { force: true });
      }
    }
  } finally {
    bytes = output.close();
  }
  // A reducer may emit other keys than the one it was given, in any order.
  if (!output.sorted) sortLineFile(task.outPath, task.spillDir, task.budgetBytes);
  return { type: 'reduce-done', taskId: task.taskId, records: output.records, bytes };
}

function runLines(task: LinesTaskMessage): TaskReply {
  if (task.op === 'merge') mergeLineFiles(task.paths, task.outPath);
  else for (const path of task.paths) sortLineFile(path, task.spillDir, task.budgetBytes);
  return { type: 'lines-done', taskId: task.taskId };
}

const port = parentPort;
if (port !== null) {
  port.on('message', (message: TaskMessage) => {
    void (async () => {
      let reply: TaskReply;
      try {
        captureConsole(message.logPath);
        reply =
          message.type === 'map'
            ? await runMap(message)
            : message.type === 'reduce'
              ? await runReduce(message)
              : runLines(message);
      } catch (error) {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        try {
          appendFileSync(message.logPath, `${text}\n`);
        } catch {
          // the log folder is gone: the job is being cleaned up
        }
        reply = {
          type: 'failed',
          taskId: message.taskId,
          message: error instanceof Error ? error.message : String(error),
        };
      }
      const transfer = reply.type === 'map-done' ? reply.partitions.map((p) => p.buffer as ArrayBuffer) : [];
      port.postMessage(reply, transfer);
    })();
  });
}
