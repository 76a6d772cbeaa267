/**
 * MapReduce jobs end to end on a real embedded store and local executor: word count and group-by-sum
 * checked exactly against references computed independently (coreutils, plain loops), awkward chunk
 * boundaries, empty input, one huge line, many inputs under a prefix, and the merged output mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  WORD_COUNT_JS,
  coreutilsWordCount,
  fn,
  jobSpec,
  outputPairs,
  readText,
  runToEnd,
  startMapReduceFixture,
  type MapReduceFixture,
} from './fixture.js';

/** Text whose lines mix multi-byte UTF-8 (2, 3 and 4 bytes), CRLF and LF endings, and blank lines. */
function trickyText(lines: number): string {
  const words = ['año', 'naïve', '日本語', 'data', '𝔘𝔫𝔦', 'the', 'x', 'café', 'Zürich', 'emoji🙂', 'the'];
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const count = (i * 7) % 9;
    const line = Array.from({ length: count }, (_, j) => words[(i * 3 + j * 5) % words.length]).join(' ');
    out.push(line + (i % 3 === 0 ? '\r\n' : '\n'));
  }
  return out.join('') + 'no newline at the end café';
}

void describe('MapReduce jobs (real store and executor)', () => {
  let fx: MapReduceFixture;
  before(async () => {
    fx = await startMapReduceFixture();
    await fx.store.createBucket('data');
  });
  after(async () => {
    await fx.close();
  });

  test('word count equals coreutils sort | uniq -c for chunk sizes that cut lines, UTF-8 and CRLF', async () => {
    const text = trickyText(150);
    await fx.store.put('data', 'in.txt', Buffer.from(text));
    const expected = await coreutilsWordCount(text);
    assert.ok(expected.size > 5);
    // 1 byte: a chunk per line start; 2, 3, 5, 17: boundaries inside multi-byte characters and between
    // \r and \n; 4096: a few chunks; 1 MiB: one chunk.
    for (const chunkBytes of [1, 2, 3, 5, 17, 4096, 1024 * 1024]) {
      const job = await runToEnd(
        fx,
        jobSpec({ mapper: fn('wc.mjs', WORD_COUNT_JS), reducer: fn('wc.mjs', WORD_COUNT_JS), chunkBytes }),
      );
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(await outputPairs(fx.store, job), expected, `chunk size ${chunkBytes}`);
      assert.equal(job.progress.bytesRead, Buffer.byteLength(text));
      assert.equal(job.progress.mapsDone, job.progress.mapsTotal);
    }
  });

  test('the hash spreads keys over every reducer and each output part is sorted by key bytes', async () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join('\n');
    await fx.store.put('data', 'spread.txt', Buffer.from(words));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'spread.txt',
        output: { bucket: 'data', prefix: 'spread-out' },
        reducers: 4,
        mapper: fn('wc.js', WORD_COUNT_JS),
        reducer: fn('wc.js', WORD_COUNT_JS),
      }),
    );
    assert.equal(job.state, 'succeeded');
    const parts = job.outputs.filter((path) => path.includes('part-r-'));
    assert.equal(parts.length, 4);
    for (const part of parts) {
      const keys = (await readText(fx.store, 'data', part.slice('data/'.length)))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t')[0] as string);
      // A balanced hash: each of 4 reducers gets a fair share of 2000 keys.
      assert.ok(keys.length > 350 && keys.length < 650, `${part}: ${keys.length} keys`);
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(keys, sorted);
    }
    const manifest = JSON.parse(await readText(fx.store, 'data', 'spread-out/_manifest.json')) as {
      parts: unknown[];
      job: string;
    };
    assert.equal(manifest.job, job.id);
    assert.equal(manifest.parts.length, 4);
  });

  test('group-by-sum over CSV files under a prefix forms one job, merged into one object', async () => {
    const expected = new Map<string, number>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let file = 0; file < 3; file++) {
      const rows = ['sourceIP,destURL,adRevenue'];
      for (let i = 0; i < 700; i++) {
        const ip = `${10 + Math.floor(random() * 3)}.${Math.floor(random() * 4)}.${Math.floor(random() * 250)}.${i % 250}`;
        const cents = Math.floor(random() * 100000);
        rows.push(
          `${ip},http://example.org/${i},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
        );
        const group = ip.slice(0, 8);
        expected.set(group, (expected.get(group) ?? 0) + cents);
      }
      await fx.store.put('data', `visits/part-${file}.csv`, Buffer.from(rows.join('\r\n') + '\r\n'));
    }
    const mapper = `
      export function map(chunk, emit) {
        for (const line of chunk.toString().split('\\n')) {
          const fields = line.trim().split(',');
          if (fields.length < 3 || fields[0] === 'sourceIP') continue;
          const [units, cents] = fields[2].split('.');
          emit(fields[0].slice(0, 8), Number(units) * 100 + Number(cents));
        }
      }
      export function reduce(key, values, emit) {
        let sum = 0;
        for (const value of values) sum += value;
        emit(key, sum);
      }`;
    const job = await runToEnd(
      fx,
      jobSpec({
        input: { bucket: 'data', prefix: 'visits' },
        inputKey: null,
        output: { bucket: 'data', prefix: 'visits-out' },
        mapper: fn('sum.mjs', mapper),
        reducer: fn('sum.mjs', mapper),
        chunkBytes: 1000,
        outputMode: 'merged',
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.outputs, ['data/visits-out/results', 'data/visits-out/_manifest.json']);
    const got = await outputPairs(fx.store, job);
    assert.deepEqual(new Map([...got].map(([key, value]) => [key, Number(value)])), expected);
    assert.ok(job.tasks.filter((task) => task.kind === 'map').length > 3);
    const objects = new Set(job.tasks.map((task) => task.object).filter((object) => object !== null));
    assert.equal(objects.size, 3);
  });

  test('an empty file gives empty outputs and a manifest', async () => {
    await fx.store.put('data', 'empty.txt', Buffer.alloc(0));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'empty.txt',
        output: { bucket: 'data', prefix: 'empty-out' },
        mapper: fn('wc.mjs', WORD_COUNT_JS),
        reducer: fn('wc.mjs', WORD_COUNT_JS),
      }),
    );
    assert.equal(job.state, 'succeeded');
    assert.equal(job.progress.mapsTotal, 0);
    assert.equal(job.outputs.length, 4);
    assert.equal((await outputPairs(fx.store, job)).size, 0);
  });

  test('a file of one huge line is read by one mapper, whole', async () => {
    const words = Array.from({ length: 300_000 }, (_, i) => ['alpha', 'beta', 'γάμμα', 'delta'][i % 4]);
    const text = words.join(' ');
    await fx.store.put('data', 'huge.txt', Buffer.from(text));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'huge.txt',
        output: { bucket: 'data', prefix: 'huge-out' },
        mapper: fn('wc.mjs', WORD_COUNT_JS),
        reducer: fn('wc.mjs', WORD_COUNT_JS),
        chunkBytes: 64 * 1024,
      }),
    );
    assert.equal(job.state, 'succeeded');
    assert.equal(job.progress.mapsTotal, 1);
    assert.deepEqual(await outputPairs(fx.store, job), await coreutilsWordCount(text));
  });

  test('a folder input reads only that folder, not siblings whose names start the same', async () => {
    await fx.store.put('data', 'logs/a.txt', Buffer.from('kept kept\n'));
    await fx.store.put('data', 'logs/deeper/b.txt', Buffer.from('kept\n'));
    await fx.store.put('data', 'logs-old/c.txt', Buffer.from('sibling\n'));
    await fx.store.put('data', 'logs.txt', Buffer.from('sibling\n'));
    const job = await runToEnd(
      fx,
      jobSpec({
        input: { bucket: 'data', prefix: 'logs' },
        inputKey: null,
        output: { bucket: 'data', prefix: 'logs-out' },
        mapper: fn('wc.mjs', WORD_COUNT_JS),
        reducer: fn('wc.mjs', WORD_COUNT_JS),
        outputMode: 'merged',
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(await outputPairs(fx.store, job), new Map([['kept', '3']]));
    const manifest = JSON.parse(await readText(fx.store, 'data', 'logs-out/_manifest.json')) as {
      inputs: string[];
      parts: { key: string }[];
    };
    assert.deepEqual(manifest.inputs, ['logs/a.txt', 'logs/deeper/b.txt']);
    assert.deepEqual(
      manifest.parts.map((part) => part.key),
      ['logs-out/results'],
    );
  });

  test('a reducer that emits keys out of order still gives sorted parts, in bounded memory', async () => {
    // The reducer emits every key it sees under a reversed spelling: the order it writes is not sorted.
    const reverser = `
      export function map(chunk, emit) {
        for (const word of chunk.toString('utf8').split(/\\s+/)) if (word !== '') emit(word, 1);
      }
      export function reduce(word, counts, emit) {
        let sum = 0;
        for (const count of counts) sum += count;
        emit([...word].reverse().join(''), sum);
      }`;
    const words = Array.from({ length: 5000 }, (_, i) => `k${(i * 7919) % 5000}x${i % 3}`);
    await fx.store.put('data', 'reverse.txt', Buffer.from(words.join(' ')));
    const expected = new Map<string, string>();
    for (const word of words) {
      const reversed = [...word].reverse().join('');
      expected.set(reversed, String(Number(expected.get(reversed) ?? 0) + 1));
    }
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'reverse.txt',
        output: { bucket: 'data', prefix: 'reverse-out' },
        mapper: fn('rev.mjs', reverser),
        reducer: fn('rev.mjs', reverser),
        reducers: 2,
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    // outputPairs fails on any part whose keys are out of order.
    assert.deepEqual(await outputPairs(fx.store, job), expected);
  });

  test('beyond the memory budget map tasks flush early and reducers spill sorted runs; counts stay exact', async () => {
    // 16 MiB of memory gives a 16 MiB budget: 200,000 distinct keys overflow it on both sides.
    const words: string[] = [];
    const expected = new Map<string, string>();
    // Each key twice in a row (so that the map task finds aggregating worthwhile), and again 400,000 words
    // later (after its flush).
    for (let i = 0; i < 800_000; i++) {
      const word = `key${(Math.floor(i / 2) * 7919) % 200_000}`;
      words.push(word);
      expected.set(word, String(Number(expected.get(word) ?? 0) + 1));
    }
    await fx.store.put('data', 'many-keys.txt', Buffer.from(words.join('\n') + '\n'));
    const job = await runToEnd(
      fx,
      jobSpec({
        inputKey: 'many-keys.txt',
        output: { bucket: 'data', prefix: 'many-keys-out' },
        mapper: fn('wc.mjs', WORD_COUNT_JS),
        reducer: fn('wc.mjs', WORD_COUNT_JS),
        reducers: 1,
        memoryBytes: 16 * 1024 * 1024,
        chunkBytes: 16 * 1024 * 1024,
      }),
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.progress.mapsTotal, 1);
    // One map task emitting more than one record per key shows that it flushed before its end.
    const map = job.tasks.find((task) => task.kind === 'map');
    assert.ok((map?.records ?? 0) > 200_000, `${map?.records} records`);
    assert.deepEqual(await outputPairs(fx.store, job), expected);
  });

  test('intermediate objects are removed when the job ends', async () => {
    const listed = await fx.store.list('nubes-mapreduce');
    assert.deepEqual(listed.objects, []);
  });
});
