/**
 * Jobs survive the engine's shutdown: a job cut short resumes from the beginning on the next start, with
 * nothing left of its first run (real store, real executor, a second engine on the same data directory);
 * and a user's JS functions run as sandboxed processes, not in the server's threads, with the same result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  WORD_COUNT_JS,
  coreutilsWordCount,
  fn,
  jobSpec,
  outputPairs,
  startMapReduceFixture,
  type MapReduceFixture,
} from './fixture.js';

void describe("MapReduce jobs across restarts, and users' functions (real store and executor)", () => {
  let fx: MapReduceFixture;
  const text = Array.from({ length: 400 }, (_, i) => `w${i % 37} x${i % 5} shared`).join('\n') + '\n';
  before(async () => {
    fx = await startMapReduceFixture();
    await fx.store.createBucket('data');
    await fx.store.put('data', 'in.txt', Buffer.from(text));
  });
  after(async () => {
    await fx.close();
  });

  test('a job interrupted by a shutdown resumes on the next start and succeeds', async () => {
    const slow = WORD_COUNT_JS.replace(
      'export function map(chunk, emit) {',
      `export function map(chunk, emit) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);`,
    );
    const job = fx.engine.submit(
      jobSpec({
        output: { bucket: 'data', prefix: 'resumed' },
        mapper: fn('slow.mjs', slow),
        reducer: fn('slow.mjs', slow),
        chunkBytes: 400,
      }),
    );
    for (let i = 0; i < 200 && job.progress.mapsDone < 2; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(job.progress.mapsDone >= 2 && job.progress.mapsDone < job.progress.mapsTotal);
    const engine = await fx.restartEngine();
    const resumed = engine.get(job.id);
    assert.equal(resumed.resumes, 1);
    const ended = await engine.wait(job.id);
    assert.equal(ended.state, 'succeeded', JSON.stringify(ended.error));
    assert.equal(ended.progress.mapsDone, ended.progress.mapsTotal);
    assert.deepEqual(await outputPairs(fx.store, ended), await coreutilsWordCount(text));
    assert.deepEqual((await fx.store.list('nubes-mapreduce')).objects, []);
  });

  test("a user's JS functions run as sandboxed processes and give the same result", async () => {
    const where = WORD_COUNT_JS.replace(
      'export function map(chunk, emit) {',
      `import { isMainThread } from 'node:worker_threads';
      export function map(chunk, emit) {
        emit('~ran-in', isMainThread ? 'a process' : 'a server thread');`,
    )
      .replace(
        'export function combine(word, counts, emit) {',
        `export function combine(word, counts, emit) {
        if (word === '~ran-in') { emit(word, [...counts][0]); return; }`,
      )
      .replace(
        'export function reduce(word, counts, emit) {',
        `export function reduce(word, counts, emit) {
        if (word === '~ran-in') { emit(word, [...counts][0]); return; }`,
      );
    const job = await fx.engine.wait(
      fx.engine.submit(
        jobSpec({
          owner: 'alice',
          output: { bucket: 'data', prefix: 'alice-out' },
          mapper: fn('wc.mjs', where),
          reducer: fn('wc.mjs', where),
          chunkBytes: 1000,
        }),
      ).id,
    );
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.owner, 'alice');
    const expected = await coreutilsWordCount(text);
    expected.set('~ran-in', 'a process');
    assert.deepEqual(await outputPairs(fx.store, job), expected);
    assert.deepEqual(
      fx.engine.list('alice').map((listed) => listed.id),
      [job.id],
    );
    assert.deepEqual(fx.engine.list('bob'), []);
  });
});
