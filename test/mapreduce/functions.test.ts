/**
 * User functions of every kind, and failures: a MARLA-style Python job unchanged, a Hadoop-streaming job
 * in shell, a mapper that crashes once (retried) and one that always crashes (the job fails naming the
 * task, with its log), and a straggler overtaken by its speculative copy.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  WORD_COUNT_JS,
  coreutilsWordCount,
  fn,
  jobSpec,
  outputPairs,
  runToEnd,
  startMapReduceFixture,
  type MapReduceFixture,
} from './fixture.js';

/** MARLA's README example, as its users wrote it: rows per country of a zip-code CSV. */
const MARLA_USER_FUNCTIONS = `
def mapper(chunk):
    pairs = []
    for line in chunk.split("\\n"):
        fields = line.split(",")
        if len(fields) > 2:
            pairs.append((fields[1], 1))
    return pairs


def reducer(pairs):
    result = []
    current = None
    total = 0
    for name, value in pairs:
        if name != current:
            if current is not None:
                result.append([current, total])
            current = name
            total = 0
        total += int(value)
    if current is not None:
        result.append([current, total])
    return result
`;

void describe('MapReduce user functions and failures (real store and executor)', () => {
  let fx: MapReduceFixture;
  let markers: string;
  before(async () => {
    fx = await startMapReduceFixture();
    markers = await mkdtemp(join(fx.dir, 'markers-'));
    await fx.store.createBucket('data');
    await fx.store.put(
      'data',
      'in.txt',
      Buffer.from('the quick brown fox\njumps over the lazy dog\r\nthe end\nñandú ñandú\n'.repeat(40)),
    );
  });
  after(async () => {
    await rm(markers, { recursive: true, force: true });
    await fx.close();
  });

  test('a MARLA Python job runs unchanged', async () => {
    const countries = ['ES', 'FR', 'DE', 'España', 'PT'];
    const rows: string[] = [];
    const expected = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const country = countries[(i * i) % countries.length] as string;
      rows.push(`${46000 + i},${country},Place ${i}`);
      expected.set(country, (expected.get(country) ?? 0) + 1);
    }
    await fx.store.put('data', 'zips.csv', Buffer.from(rows.join('\n') + '\n'));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'zips.csv',
        output: { bucket: 'data', prefix: 'marla-out' },
        mapper: fn('user_functions.py', MARLA_USER_FUNCTIONS),
        reducer: fn('user_functions.py', MARLA_USER_FUNCTIONS),
        chunkBytes: 2000,
        reducers: 2,
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.ok(job.progress.mapsTotal > 3);
    const got = await outputPairs(fx.store, job);
    assert.deepEqual(new Map([...got].map(([key, value]) => [key, Number(value)])), expected);
  });

  test('a streaming job in shell (lines on stdin, key<TAB>value on stdout)', async () => {
    const mapper = `#!/bin/sh\ntr -s ' \\r' '\\n\\n' | grep -v '^$' | sed 's/$/\t1/'\n`;
    const reducer = `#!/bin/sh\nawk -F '\\t' '{ sum[$1] += $2 } END { for (k in sum) print k "\\t" sum[k] }'\n`;
    const job = await runToEnd(
      fx,
      jobSpec({
        output: { bucket: 'data', prefix: 'streaming-out' },
        mapper: fn('mapper.sh', mapper),
        reducer: fn('reducer.sh', reducer),
        chunkBytes: 300,
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const { body } = await fx.store.get('data', 'in.txt');
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part as Buffer);
    assert.deepEqual(await outputPairs(fx.store, job), await coreutilsWordCount(Buffer.concat(parts)));
  });

  test('a mapper that crashes once is retried and the job succeeds', async () => {
    const marker = join(markers, 'crashed-once');
    const mapper = `
      import { existsSync, writeFileSync } from 'node:fs';
      ${WORD_COUNT_JS}
    `.replace(
      'export function map(chunk, emit) {',
      `export function map(chunk, emit) {
        if (!existsSync(${JSON.stringify(marker)})) {
          writeFileSync(${JSON.stringify(marker)}, 'x');
          throw new Error('transient failure');
        }`,
    );
    const job = await runToEnd(
      fx,
      jobSpec({
        output: { bucket: 'data', prefix: 'retry-out' },
        mapper: fn('m.mjs', mapper),
        reducer: fn('r.mjs', WORD_COUNT_JS),
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const retried = job.tasks.filter((task) => task.attempts.length > 1);
    assert.equal(retried.length, 1);
    assert.equal(retried[0]?.attempts[0]?.state, 'failed');
    assert.match(retried[0]?.attempts[0]?.error ?? '', /transient failure/);
    assert.equal(retried[0]?.state, 'succeeded');
    const text = 'the quick brown fox\njumps over the lazy dog\r\nthe end\nñandú ñandú\n'.repeat(40);
    assert.deepEqual(await outputPairs(fx.store, job), await coreutilsWordCount(text));
  });

  test('a mapper that always crashes fails the job, which names the task and shows its log', async () => {
    const mapper = `
      export function map(chunk) {
        console.log('looking at', chunk.length, 'bytes');
        throw new Error('bad record in input');
      }
      export function reduce() {}
    `;
    const job = await runToEnd(
      fx,
      jobSpec({
        output: { bucket: 'data', prefix: 'fail-out' },
        mapper: fn('m.mjs', mapper),
        reducer: fn('m.mjs', mapper),
      }),
    );
    assert.equal(job.state, 'failed');
    assert.equal(job.error?.task, 'm-00000');
    assert.match(job.error?.message ?? '', /m-00000 failed after 3 attempt/);
    assert.match(job.error?.log ?? '', /looking at \d+ bytes/);
    assert.match(job.error?.log ?? '', /Error: bad record in input/);
    assert.equal(await fx.engine.taskLog(job.id, 'm-00000'), job.error?.log);
    assert.deepEqual((await fx.store.list('data', { prefix: 'fail-out/' })).objects, []);
    assert.deepEqual((await fx.store.list('nubes-mapreduce')).objects, []);
  });

  test('a streaming mapper that exits non-zero fails the job with its stderr and exit code in the log', async () => {
    const job = await runToEnd(
      fx,
      jobSpec({
        output: { bucket: 'data', prefix: 'fail2-out' },
        mapper: fn('mapper.sh', '#!/bin/sh\necho "cannot parse line 1" >&2\nexit 3\n'),
        reducer: fn('reducer.sh', '#!/bin/sh\ncat\n'),
        maxAttempts: 2,
      }),
    );
    assert.equal(job.state, 'failed');
    assert.match(job.error?.message ?? '', /exited with code 3/);
    assert.match(job.error?.log ?? '', /cannot parse line 1/);
  });

  test('a straggler gets a speculative copy and the first result wins', async () => {
    const marker = join(markers, 'slow-once');
    const mapper = WORD_COUNT_JS.replace(
      'export function map(chunk, emit) {',
      `import { existsSync, writeFileSync } from 'node:fs';
      export function map(chunk, emit) {
        if (chunk.includes('jumps') && !existsSync(${JSON.stringify(marker)})) {
          writeFileSync(${JSON.stringify(marker)}, 'x');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000);
        }`,
    );
    await fx.store.put('data', 'lines.txt', Buffer.from('a b\nc d\njumps e\nf g\nh i\nj k\nl m\nn o\n'));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'lines.txt',
        output: { bucket: 'data', prefix: 'spec-out' },
        mapper: fn('m.mjs', mapper),
        reducer: fn('m.mjs', mapper),
        chunkBytes: 1,
        speculative: true,
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const slow = job.tasks.find((task) => task.attempts.some((attempt) => attempt.speculative));
    assert.ok(slow, 'a speculative attempt ran');
    assert.equal(slow.winner, 2);
    assert.equal(slow.attempts[0]?.state, 'cancelled');
    assert.equal((await outputPairs(fx.store, job)).get('jumps'), '1');
  });
});
