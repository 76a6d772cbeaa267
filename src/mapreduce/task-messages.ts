/**
 * @module mapreduce/task-messages
 * The messages between the coordinator and its worker threads. Buffers travel as transferred
 * ArrayBuffers, never as JSON.
 */

/** How a map task's input lines are turned into pairs. */
export type MapFunctionRef =
  /** A JS module exporting `map(chunk, emit)`. */
  | { kind: 'module'; path: string }
  /** The `key\tvalue` lines a streaming mapper printed. */
  | { kind: 'streaming-pairs' }
  /** The `jsonKey\tjsonValue` lines the Python runner printed. */
  | { kind: 'python-pairs' };

export interface MapTaskMessage {
  type: 'map';
  taskId: string;
  map: MapFunctionRef;
  /** A JS module exporting `combine` (or `reduce`), or null for no combiner. */
  combinerPath: string | null;
  /** The chunk as a local file range, or its bytes. */
  input: { path: string; start: number; end: number } | { bytes: Uint8Array };
  reducers: number;
  /** Bytes of buffered groups before combining, then encoding them into the partitions early. */
  budgetBytes: number;
  logPath: string;
}

/** How a reduce task's merged records are consumed. */
export type ReduceMode =
  /** A JS module exporting `reduce(key, values, emit)`: output lines `key\tvalue`. */
  | { kind: 'module'; path: string }
  /** Write the merged records as sorted `key\tvalue` lines, the input of a process reducer. */
  | { kind: 'lines' };

export interface ReduceTaskMessage {
  type: 'reduce';
  taskId: string;
  mode: ReduceMode;
  /** Where the combiner applied while values are gathered comes from (as for map tasks). */
  combine: { mapperPath: string | null; combinerPath: string | null };
  runs: string[];
  spillDir: string;
  /** Bytes of lines sorted in memory when a reducer's output must be sorted. */
  budgetBytes: number;
  outPath: string;
  logPath: string;
}

/** Sorts a file of `key\tvalue` lines by key in place, or merges sorted files into `outPath`. */
export interface LinesTaskMessage {
  type: 'lines';
  taskId: string;
  op: 'sort' | 'merge';
  paths: string[];
  outPath: string;
  spillDir: string;
  budgetBytes: number;
  logPath: string;
}

export type TaskMessage = MapTaskMessage | ReduceTaskMessage | LinesTaskMessage;

export interface MapTaskReply {
  type: 'map-done';
  taskId: string;
  partitions: Uint8Array[];
  records: number[];
  emitted: number;
}

export interface ReduceTaskReply {
  type: 'reduce-done';
  taskId: string;
  records: number;
  bytes: number;
}

export interface TaskFailedReply {
  type: 'failed';
  taskId: string;
  message: string;
}

export interface LinesTaskReply {
  type: 'lines-done';
  taskId: string;
}

export type TaskReply = MapTaskReply | ReduceTaskReply | LinesTaskReply | TaskFailedReply;
