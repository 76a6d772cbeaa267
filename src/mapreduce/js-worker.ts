/**
 * @module mapreduce/js-worker
 * The worker-thread side of map and reduce tasks: loads the user's JS module once per thread, runs
 * `map(chunk, emit)` over a chunk of whole lines (a Buffer) and `reduce(key, values, emit)` over merged
 * sorted runs, and merges runs into the sorted `key\tvalue` input of process reducers. What the user's code
 * prints goes to the task's log file, never to the server's output.
 */
import { Console } from 'node:console';
import { appendFileSync, closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { MapCollector, keyText, type Combine, type Emit } from './map-collector.js';
import { RawValue } from './record-codec.js';
import { mergeLineFiles, sortLineFile } from './line-sort.js';
import { RunMerger, spillToFanIn } from './run-merge.js';
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

function readChunk(input: MapTaskMessage['input']): Buffer {
  if ('bytes' in input)
    return Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  const length = input.end - input.start;
  const chunk = Buffer.allocUnsafe(length);
  const fd = openSync(input.path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const read = readSync(fd, chunk, done, length - done, input.start + done);
      if (read === 0) throw new Error(`${input.path} ended before byte ${input.end}`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  return chunk;
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

async function runMap(task: MapTaskMessage): Promise<TaskReply> {
  let map: MapFunction = ingestPairs;
  let combine: Combine | null = null;
  if (task.map.kind === 'module') {
    const module = await load(task.map.path);
    map = fn<MapFunction>(module, 'map', 'the mapper');
    // A mapper module may bring its own combiner.
    if (typeof module.combine === 'function') combine = module.combine;
  }
  if (task.combinerPath !== null) {
    const module = await load(task.combinerPath);
    combine = module.combine ?? fn<Combine>(module, 'reduce', 'the combiner');
  }
  const collector = new MapCollector({
    reducers: task.reducers,
    combine,
    budgetBytes: task.budgetBytes,
    spillDir: task.spillDir,
  });
  const chunk = readChunk(task.input);
  const result = map(chunk, collector.emit);
  if (result instanceof Promise) await result;
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

class LineOutput {
  private readonly fd: number;
  private parts: Buffer[] = [];
  private pending = 0;
  private previousKey: Buffer | null = null;
  records = 0;
  /** Whether every key written so far came in order. */
  sorted = true;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  line(key: Buffer | string, value: unknown): void {
    const keyBytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (this.sorted && this.previousKey !== null && Buffer.compare(this.previousKey, keyBytes) > 0)
      this.sorted = false;
    this.previousKey = keyBytes;
    const valueBytes = value instanceof RawValue ? value.bytes : Buffer.from(formatValue(value), 'utf8');
    this.parts.push(keyBytes, TAB, valueBytes, NEWLINE);
    this.pending += keyBytes.length + valueBytes.length + 2;
    this.records++;
    if (this.pending > 256 * 1024) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    writeSync(this.fd, Buffer.concat(this.parts, this.pending));
    this.parts = [];
    this.pending = 0;
  }

  close(): number {
    this.flush();
    const size = fstatSync(this.fd).size;
    closeSync(this.fd);
    return size;
  }
}
const TAB = Buffer.from('\t');
const NEWLINE = Buffer.from('\n');

async function runReduce(task: ReduceTaskMessage): Promise<TaskReply> {
  const reduce =
    task.mode.kind === 'module' ? fn<Combine>(await load(task.mode.path), 'reduce', 'the reducer') : null;
  const { runs, spills } = spillToFanIn(task.runs, task.spillDir);
  const merger = new RunMerger(runs);
  const output = new LineOutput(task.outPath);
  let bytes = 0;
  try {
    if (reduce === null) {
      while (merger.peekKey() !== null) {
        const { key, value } = merger.take();
        output.line(key, value);
      }
    } else {
      const emit: Emit = (key, value) => output.line(keyText(key), value);
      for (const { key, values } of merger.groups()) {
        const result = reduce(key.toString('utf8'), values, emit) as unknown;
        if (result instanceof Promise) await result;
      }
    }
  } finally {
    merger.close();
    bytes = output.close();
    for (const spill of spills) rmSync(spill, { force: true });
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
