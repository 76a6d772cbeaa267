import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlatformError } from '../core/index.js';
import type { FdlDiagnostic } from './diagnostics.js';
import { parseFdl } from './fdl-parser.js';

const FILES: Record<string, string> = {
  'wc.mjs': 'export function map(chunk, emit) {}\nexport function reduce(k, v, emit) {}\n',
  'fns/user_functions.py': 'def mapper(chunk):\n    return []\n',
  'empty.sh': '',
};
const readScript = (path: string) => FILES[path];

function errorsOf(text: string): string[] {
  try {
    parseFdl(text, { file: 'mr.yaml', readScript });
  } catch (error) {
    assert.ok(error instanceof PlatformError, String(error));
    const diagnostics = (error.details as { diagnostics: FdlDiagnostic[] }).diagnostics;
    return diagnostics.map((d) => `${error.code} ${d.line}:${d.column} ${d.path}: ${d.message}`);
  }
  assert.fail('expected an error');
}

void test('a mapreduce section beside services: every field, files inlined as base64, sizes in bytes', () => {
  const doc = parseFdl(
    [
      'functions:',
      '  oscar:',
      '  - local:',
      '      name: echo',
      '      image: alpine',
      '      script: wc.mjs',
      'mapreduce:',
      '  wordcount:',
      '    input: corpus/in',
      '    output: corpus/out',
      '    mapper: wc.mjs',
      '    reducer: fns/user_functions.py',
      '    combiner: wc.mjs',
      '    reducers: 4',
      '    chunk_size: 64Mi',
      '    memory: 1Gi',
      '    output_mode: merged',
      '    max_attempts: 2',
      '    speculative: false',
      '    start_on: _READY',
      '  minimal:',
      '    input: logs',
      '    output: results/logs',
      '    mapper: wc.mjs',
      '    reducer: wc.mjs',
      '    mappers: 8',
      '',
    ].join('\n'),
    { file: 'mr.yaml', readScript },
  );
  assert.equal(doc.services.length, 1);
  assert.deepEqual(
    doc.mapreduce.map((definition) => definition.name),
    ['wordcount', 'minimal'],
  );
  const [wordcount, minimal] = doc.mapreduce;
  assert.deepEqual(wordcount?.json, {
    input: 'corpus/in',
    output: 'corpus/out',
    mapper: { file_name: 'wc.mjs', content: Buffer.from(FILES['wc.mjs'] ?? '').toString('base64') },
    reducer: {
      file_name: 'user_functions.py',
      content: Buffer.from(FILES['fns/user_functions.py'] ?? '').toString('base64'),
    },
    combiner: { file_name: 'wc.mjs', content: Buffer.from(FILES['wc.mjs'] ?? '').toString('base64') },
    reducers: 4,
    chunk_size: 64 * 1024 * 1024,
    memory: 1024 ** 3,
    output_mode: 'merged',
    max_attempts: 2,
    speculative: false,
    start_on: '_READY',
  });
  assert.deepEqual(minimal?.json, {
    input: 'logs',
    output: 'results/logs',
    mapper: { file_name: 'wc.mjs', content: Buffer.from(FILES['wc.mjs'] ?? '').toString('base64') },
    reducer: { file_name: 'wc.mjs', content: Buffer.from(FILES['wc.mjs'] ?? '').toString('base64') },
    mappers: 8,
  });
});

void test('a file with only a mapreduce section is valid; a file with neither is not', () => {
  const doc = parseFdl(
    'mapreduce:\n  wc:\n    input: a-bucket/in\n    output: a-bucket/out\n    mapper: wc.mjs\n    reducer: wc.mjs\n',
    { file: 'mr.yaml', readScript },
  );
  assert.equal(doc.services.length, 0);
  assert.equal(doc.mapreduce.length, 1);
  assert.deepEqual(errorsOf('storage_providers: {}\n'), [
    'FDL_INVALID 1:1 functions: missing required field "functions"',
  ]);
});

void test('every problem of a definition at its line and column', () => {
  const text = [
    'mapreduce:', // 1
    '  wordcount:', // 2
    '    input: corpus/in', // 3
    '    output: corpus/in/results', // 4
    '    mapper: wc.mjs', // 5
    '    reducer: wc.mjs', // 6
    '    reducerz: 3', // 7
    '    chunk_size: 64MB', // 8
    '    mappers: 4', // 9
    '    memory: lots', // 10
    '    output_mode: single', // 11
    '    speculative: yes', // 12
    '  Bad_Name:', // 13
    '    input: x', // 14
    '    mapper: wc.mjs', // 15
    '    reducer: wc.mjs', // 16
    '    output: ok-bucket/out', // 17
    '  twice:', // 18
    '    input: in-bucket', // 19
    '    output: out-bucket', // 20
    '    mapper: wc.mjs', // 21
    '    reducer: wc.mjs', // 22
    '    chunk_size: 1Mi', // 23
    '    mappers: 4', // 24
    '',
  ].join('\n');
  assert.deepEqual(errorsOf(text), [
    'FDL_INVALID 7:5 mapreduce.wordcount.reducerz: unknown key "reducerz"; did you mean "reducer"?',
    'FDL_INVALID 8:17 mapreduce.wordcount.chunk_size: "64MB" is not a Kubernetes quantity; write "64Mi" (or "64M")',
    'FDL_INVALID 10:13 mapreduce.wordcount.memory: "lots" is not a byte quantity; write e.g. "256Mi", "1Gi" or "500M"',
    'FDL_INVALID 11:18 mapreduce.wordcount.output_mode: "single" is not one of per-reducer, merged',
    'FDL_INVALID 12:18 mapreduce.wordcount.speculative: expected true or false, got a string',
    'FDL_INVALID 13:3 mapreduce.Bad_Name: "Bad_Name" is not a valid name: lower-case letters, digits and dashes, at most 63',
    'FDL_INVALID 14:12 mapreduce.Bad_Name.input: "x" does not start with a bucket name (write bucket/folder; bucket names are 3 to 63 lower-case letters, digits, dots and dashes)',
    'FDL_INVALID 24:5 mapreduce.twice.mappers: give either chunk_size or mappers, not both',
  ]);
});

void test('an output inside the input, and missing or empty function files', () => {
  assert.deepEqual(
    errorsOf(
      'mapreduce:\n  wc:\n    input: corpus/in\n    output: corpus/in/out\n    mapper: wc.mjs\n    reducer: wc.mjs\n',
    ),
    ['FDL_INVALID 4:13 mapreduce.wc.output: "corpus/in/out" lies inside the input folder "corpus/in"'],
  );
  assert.deepEqual(
    errorsOf(
      'mapreduce:\n  wc:\n    input: corpus/in\n    output: corpus/out\n    mapper: nowhere.js\n    reducer: empty.sh\n',
    ),
    [
      'FDL_SCRIPT_NOT_FOUND 5:13 mapreduce.wc.mapper: mapper file "nowhere.js" not found (relative to the folder of mr.yaml)',
      'FDL_SCRIPT_NOT_FOUND 6:14 mapreduce.wc.reducer: reducer file "empty.sh" is empty',
    ],
  );
  assert.deepEqual(errorsOf('mapreduce:\n  wc:\n    input: corpus/in\n'), [
    'FDL_INVALID 2:3 mapreduce.wc.output: missing required field "output"',
    'FDL_INVALID 2:3 mapreduce.wc.mapper: missing required field "mapper"',
    'FDL_INVALID 2:3 mapreduce.wc.reducer: missing required field "reducer"',
  ]);
});
