/**
 * @module mapreduce/function-files
 * User function files: their kind from name and content, and their form on disk. JS modules are written
 * where worker threads import them (TypeScript is transpiled first); Python and executables are copied into
 * each process task's work folder.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { PlatformError } from '../core/index.js';
import type { FunctionKind, FunctionSource } from './job-model.js';

const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * The kind of a function file: JS/TS modules by extension; a `.py` file defining MARLA's `mapper(chunk)`
 * or `reducer(pairs)` is a Python function; anything else is an executable in Hadoop Streaming style.
 */
export function functionKind(fileName: string, content: Buffer): FunctionKind {
  const extension = extname(fileName).toLowerCase();
  if (JS_EXTENSIONS.has(extension)) return 'js';
  if (extension === '.py' && /^def\s+(mapper|reducer)\s*\(/m.test(content.toString('utf8'))) return 'python';
  return 'executable';
}

/** Writes a JS/TS module where worker threads can import it; returns its path. */
export async function writeJsModule(source: FunctionSource, dir: string, role: string): Promise<string> {
  const extension = extname(source.fileName).toLowerCase();
  let text = source.content.toString('utf8');
  let esm = /^\s*(export|import)\s/m.test(text) || extension === '.mjs' || extension === '.mts';
  if (TS_EXTENSIONS.has(extension)) {
    text = await transpileTypeScript(text, source.fileName);
    esm = true;
  }
  if (extension === '.cjs') esm = false;
  const path = join(dir, `${role}${esm ? '.mjs' : '.cjs'}`);
  await writeFile(path, text);
  return path;
}

async function transpileTypeScript(text: string, fileName: string): Promise<string> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new PlatformError(
      'VALIDATION_FAILED',
      `${fileName}: TypeScript functions need the "typescript" package on the server; write the function in JavaScript`,
    );
  }
  const result = ts.transpileModule(text, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const errors = result.diagnostics ?? [];
  if (errors.length > 0) {
    const first = errors[0];
    const message = first ? ts.flattenDiagnosticMessageText(first.messageText, '\n') : 'syntax error';
    throw new PlatformError('VALIDATION_FAILED', `${fileName}: ${message}`);
  }
  return result.outputText;
}

/** Writes a process function into a task's folder (executable); returns its path. */
export async function writeProcessFunction(
  source: FunctionSource,
  dir: string,
  role: string,
): Promise<string> {
  const path = join(dir, source.kind === 'python' ? `${role}.py` : role);
  await writeFile(path, source.content);
  await chmod(path, 0o755);
  return path;
}

/** Quotes a path for /bin/sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The program that runs MARLA-style Python functions unchanged: `mapper(chunk)` gets the chunk as text
 * and returns `(key, value)` pairs, which are sorted and combined with `reducer(pairs)` as MARLA does;
 * `reducer(pairs)` gets sorted `[key, value]` pairs in batches bounded in size, a key's running result
 * carried into the next batch when its values span batches (MARLA's iterative merge-reduce).
 */
export const MARLA_RUNNER = String.raw`
import importlib.util, json, sys

def load(path):
    spec = importlib.util.spec_from_file_location("user_functions", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["user_functions"] = module
    spec.loader.exec_module(module)
    return module

def enc(x):
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))

def text(x):
    return x if isinstance(x, str) else enc(x)

def run_map(functions, chunk_path, out_path):
    module = load(functions)
    with open(chunk_path, "rb") as f:
        chunk = f.read().decode("utf-8")
    pairs = sorted(module.mapper(chunk), key=lambda pair: pair[0])
    if hasattr(module, "reducer"):
        pairs = module.reducer(pairs)
    with open(out_path, "w", encoding="utf-8") as out:
        for k, v in pairs:
            out.write(enc(k) + "\t" + enc(v) + "\n")

def run_reduce(functions, merged_path, out_path, budget):
    module = load(functions)
    carry = []
    batch = []
    size = 0
    previous = None
    with open(merged_path, "r", encoding="utf-8", newline="\n") as f, open(out_path, "w", encoding="utf-8") as out:
        def flush(keep_key):
            result = module.reducer(carry + batch)
            kept = []
            for k, v in result:
                if keep_key is not None and enc(k) == keep_key:
                    kept.append([k, v])
                else:
                    out.write(text(k) + "\t" + text(v) + "\n")
            return kept
        for line in f:
            key_text, _, value_text = line.rstrip("\n").partition("\t")
            if size >= budget and batch:
                carry = flush(key_text if key_text == previous else None)
                batch = []
                size = 0
            batch.append([json.loads(key_text), json.loads(value_text)])
            size += len(line)
            previous = key_text
        if batch or carry:
            flush(None)

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "map":
        run_map(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        run_reduce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
`;

/**
 * The program that runs a JS/TS module's functions as a sandboxed process (jobs of users, whose code must
 * not run inside the server): `map` mode runs `map(chunk, emit)` over the chunk file, combines each key's
 * values with the module's `combine` (if any), and writes `jsonKey\tjsonValue` lines; `reduce` mode reads
 * the merged, sorted lines and calls `reduce(key, values, emit)` once per key, writing `key\tvalue` lines.
 */
export const JS_RUNNER = String.raw`
import { closeSync, createReadStream, openSync, readFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [mode, modulePath, inputPath, outputPath, combinerPath] = process.argv.slice(2);
async function load(path) {
  const imported = await import(pathToFileURL(path).href);
  return { ...(imported.default ?? {}), ...imported };
}
const fns = await load(modulePath);
if (combinerPath !== undefined) {
  const combiner = await load(combinerPath);
  fns.combine = combiner.combine ?? combiner.reduce;
}

function keyText(key) {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  throw new TypeError('emit(key, value): the key must be a string or a number, got ' + typeof key);
}
function formatValue(value) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? 'null';
}

const fd = openSync(outputPath, 'w');
let pending = [];
let pendingBytes = 0;
function write(text) {
  pending.push(text);
  pendingBytes += text.length;
  if (pendingBytes > 1 << 20) flush();
}
function flush() {
  if (pending.length > 0) writeSync(fd, pending.join(''));
  pending = [];
  pendingBytes = 0;
}

if (mode === 'map') {
  if (typeof fns.map !== 'function') throw new Error('the mapper does not export a function "map"');
  const groups = new Map();
  const emit = (key, value) => {
    const text = keyText(key);
    const values = groups.get(text);
    if (values === undefined) groups.set(text, [value]);
    else values.push(value);
  };
  await fns.map(readFileSync(inputPath), emit);
  for (const [key, values] of groups) {
    if (typeof fns.combine === 'function') {
      await fns.combine(key, values, (k, v) => write(JSON.stringify(keyText(k)) + '\t' + JSON.stringify(v) + '\n'));
    } else {
      for (const value of values) write(JSON.stringify(key) + '\t' + JSON.stringify(value) + '\n');
    }
  }
} else {
  if (typeof fns.reduce !== 'function') throw new Error('the reducer does not export a function "reduce"');
  const emit = (key, value) => write(keyText(key) + '\t' + formatValue(value) + '\n');
  let currentKey = null;
  let values = [];
  const finish = async () => {
    if (currentKey !== null) await fns.reduce(JSON.parse(currentKey), values, emit);
  };
  // Line by line: one key's values in memory at a time.
  for await (const line of createInterface({ input: createReadStream(inputPath), crlfDelay: Infinity })) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    if (key !== currentKey) {
      await finish();
      currentKey = key;
      values = [];
    }
    values.push(JSON.parse(line.slice(tab + 1)));
  }
  await finish();
}
flush();
closeSync(fd);
`;
