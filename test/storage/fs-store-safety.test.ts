import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PlatformError } from '../../src/core/index.js';
import { integrityCheck } from '../../src/state/index.js';
import { decodeObjectKey, type StorageEvent } from '../../src/storage/index.js';
import { md5, readAll, rejectsWith } from './object-store.contract.js';
import { startFsFixture } from './fs-store-fixture.js';

test('traversal keys, however decoded, are INVALID_KEY and write nothing anywhere', async () => {
  const fixture = await startFsFixture();
  try {
    const { store } = fixture;
    await store.createBucket('victim');
    const keys = [
      '../x',
      'a/../../b',
      '../../../../etc/passwd',
      decodeURIComponent('%2e%2e/x'),
      decodeURIComponent('%2e%2e%2fx'),
      decodeURIComponent('a%2f%2e%2e%2f%2e%2e%2fb'),
      decodeURIComponent('..%5cx'),
      'nul\u0000.txt',
      '\u0000',
    ];
    for (const key of keys) {
      await rejectsWith(() => store.put('victim', key, Buffer.from('evil')), 'INVALID_KEY');
      await rejectsWith(() => store.put('victim', key, Readable.from([Buffer.from('evil')])), 'INVALID_KEY');
    }
    // Overlong UTF-8 ("%c0%ae" is an overlong ".") must never decode to a dot: the decoder refuses it.
    for (const bytes of [
      [0xc0, 0xae, 0xc0, 0xae, 0x2f, 0x78],
      [0x2e, 0xc0, 0xae, 0x2f, 0x78],
      [0xe0, 0x80, 0xae, 0xe0, 0x80, 0xae],
    ]) {
      assert.throws(
        () => decodeObjectKey(Buffer.from(bytes)),
        (error: unknown) => error instanceof PlatformError && error.code === 'INVALID_KEY',
      );
    }
    assert.deepEqual(await fixture.files(), []);
    assert.deepEqual((await store.list('victim')).objects, []);
    assert.equal(existsSync(join(fixture.rootDir, 'x')), false);
    assert.equal(existsSync(join(fixture.dir, 'x')), false);
  } finally {
    await fixture.close();
  }
});

test('a failing event hook rolls the PUT back: no row, no file, the previous version intact', async () => {
  let fail = false;
  const events: StorageEvent[] = [];
  const fixture = await startFsFixture({
    onEvent: (event) => {
      if (fail) throw new PlatformError('UNAVAILABLE', 'queue refused the job');
      events.push(event);
    },
  });
  try {
    const { store } = fixture;
    await store.createBucket('hooked');
    await store.put('hooked', 'k', Buffer.from('v1'));
    fail = true;
    await rejectsWith(store.put('hooked', 'k', Buffer.from('v2')), 'UNAVAILABLE');
    await rejectsWith(store.put('hooked', 'new', Buffer.from('x')), 'UNAVAILABLE');
    await rejectsWith(store.delete('hooked', 'k'), 'UNAVAILABLE');
    fail = false;
    assert.equal((await readAll((await store.get('hooked', 'k')).body)).toString(), 'v1');
    await rejectsWith(store.head('hooked', 'new'), 'OBJECT_NOT_FOUND');
    assert.equal((await fixture.files()).length, 1);
    assert.deepEqual(
      events.map((event) => event.key),
      ['k'],
    );
  } finally {
    await fixture.close();
  }
});

test('a replaced or deleted object leaves no file behind; data files never use the key', async () => {
  const fixture = await startFsFixture();
  try {
    const { store } = fixture;
    await store.createBucket('files');
    await store.put('files', 'dir/k.txt', Buffer.from('1'));
    await store.put('files', 'dir/k.txt', Buffer.from('2'));
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.put('files', 'race', Buffer.from(`v${i}`))));
    const files = await fixture.files();
    assert.equal(files.length, 2);
    for (const file of files) assert.match(file, /^files\/[0-9a-f-]{36}$/);
    assert.match((await readAll((await store.get('files', 'race')).body)).toString(), /^v\d$/);
    await store.delete('files', 'dir/k.txt');
    await store.delete('files', 'race');
    assert.deepEqual(await fixture.files(), []);
  } finally {
    await fixture.close();
  }
});

test('a body that fails half-way stores nothing and leaves no temporary file', async () => {
  const fixture = await startFsFixture();
  try {
    const { store } = fixture;
    await store.createBucket('broken');
    const failing = new Readable({ read() {} });
    failing.push(Buffer.alloc(100_000, 1));
    setImmediate(() => failing.destroy(Object.assign(new Error('client went away'), { code: 'ECONNRESET' })));
    await assert.rejects(store.put('broken', 'k', failing));
    await rejectsWith(store.head('broken', 'k'), 'OBJECT_NOT_FOUND');
    assert.deepEqual(await fixture.files(), []);
  } finally {
    await fixture.close();
  }
});

test('opening the store removes what a crash left: unfinished uploads and unreferenced files', async () => {
  const fixture = await startFsFixture();
  try {
    const { store, rootDir } = fixture;
    await store.createBucket('kept');
    await store.put('kept', 'k', Buffer.from('keep me'));
    writeFileSync(join(rootDir, '.tmp', 'half-written'), 'partial');
    writeFileSync(
      join(rootDir, 'kept', '00000000-0000-0000-0000-000000000000'),
      'renamed but never committed',
    );
    mkdirSync(join(rootDir, 'deleted-bucket'));
    writeFileSync(join(rootDir, 'deleted-bucket', 'orphan'), 'x');
    const reopened = await fixture.reopen();
    assert.equal(reopened.recovery.removedFiles, 3);
    assert.deepEqual((await fixture.files()).length, 1);
    assert.equal(existsSync(join(rootDir, 'deleted-bucket')), false);
    assert.equal((await readAll((await reopened.get('kept', 'k')).body)).toString(), 'keep me');
    assert.equal(integrityCheck(fixture.db), 'ok');
  } finally {
    await fixture.close();
  }
});

function tryMount(dir: string, options: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('a full disk is STORAGE_FULL and a read-only one STORAGE_READ_ONLY, leaving no partial object', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'nubes-fs-mount-'));
  const mountDir = join(base, 'small');
  try {
    if (!tryMount(mountDir, 'size=512k')) {
      t.skip('mounting a tmpfs needs root');
      return;
    }
    const fixture = await startFsFixture({ rootDir: mountDir });
    try {
      const { store } = fixture;
      await store.createBucket('tiny');
      await store.put('tiny', 'fits', Buffer.alloc(1000, 1));
      await rejectsWith(
        store.put('tiny', 'too-big', Readable.from([Buffer.alloc(400_000), Buffer.alloc(400_000)])),
        'STORAGE_FULL',
      );
      await rejectsWith(store.head('tiny', 'too-big'), 'OBJECT_NOT_FOUND');
      assert.deepEqual((await fixture.files()).length, 1);

      execFileSync('mount', ['-o', 'remount,ro', mountDir]);
      await rejectsWith(store.put('tiny', 'ro', Buffer.from('x')), 'STORAGE_READ_ONLY');
      await rejectsWith(store.head('tiny', 'ro'), 'OBJECT_NOT_FOUND');
      assert.equal(md5(await readAll((await store.get('tiny', 'fits')).body)), md5(Buffer.alloc(1000, 1)));
    } finally {
      await fixture.close();
      execFileSync('umount', [mountDir]);
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
