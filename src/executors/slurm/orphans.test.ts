import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/index.js';
import { Orphans, SUBMISSION_RECORD, type SubmissionRecord } from './orphans.js';

async function folder(
  spool: string,
  name: string,
  record: SubmissionRecord | string | null,
  files: string[],
) {
  const dir = join(spool, name);
  await mkdir(dir);
  if (record !== null) {
    const text = typeof record === 'string' ? record : JSON.stringify(record);
    await writeFile(join(dir, SUBMISSION_RECORD), text);
  }
  for (const file of files) await writeFile(join(dir, file), '');
  return dir;
}

void test('orphans: the tasks of earlier submissions whose files remain; folders with nothing to follow removed', async () => {
  const spool = await mkdtemp(join(tmpdir(), 'nubes-orphans-'));
  try {
    const array = await folder(
      spool,
      'lx1abc-0011aa22',
      {
        slurmJobId: 77,
        array: true,
        tasks: [
          { index: 0, jobId: 'job-a', shell: true, keyId: 'NJKEYA' },
          // Ended before the stop: its files are gone.
          { index: 1, jobId: 'job-b', shell: true, keyId: null },
          { index: 2, jobId: 'job-c', shell: false, keyId: null },
        ],
      },
      ['0.sh', '0.log', '2.json', 'script-1.sh', 'job.sh'],
    );
    await folder(
      spool,
      'lx1abd-0011aa33',
      { slurmJobId: 78, array: false, tasks: [{ index: 0, jobId: 'job-d', shell: true, keyId: null }] },
      ['0.sh'],
    );
    // sbatch never answered: no record, nothing to follow.
    await folder(spool, 'lx1abe-0011aa44', null, ['0.sh', 'job.sh']);
    // Every task ended.
    await folder(
      spool,
      'lx1abf-0011aa55',
      { slurmJobId: 79, array: false, tasks: [{ index: 0, jobId: 'job-e', shell: true, keyId: null }] },
      [],
    );
    // Unreadable records: not JSON, and a field of the wrong type.
    await folder(spool, 'lx1ac0-0011aa66', '{"slurmJobId":', ['0.sh']);
    await folder(
      spool,
      'lx1ac1-0011aa77',
      { slurmJobId: 80, array: 'yes', tasks: [] } as unknown as SubmissionRecord,
      ['0.sh'],
    );
    // Not a submission's folder: left alone.
    await mkdir(join(spool, 'notes'));

    const orphans = await Orphans.scan(spool, silentLogger());
    assert.equal(orphans.size, 3);
    const a = orphans.take('job-a');
    assert.ok(a);
    assert.deepEqual(
      { slurmId: a.slurmId, index: a.index, shell: a.shell, keyId: a.keyId, dir: a.submission.dir },
      { slurmId: '77_0', index: 0, shell: true, keyId: 'NJKEYA', dir: array },
    );
    // Two tasks of that submission are left to follow: its folder goes after both.
    assert.equal(a.submission.open, 2);
    assert.equal(orphans.take('job-a'), null, 'taken once');
    assert.equal(orphans.take('job-b'), null, 'an ended task is not followed');
    const c = orphans.take('job-c');
    assert.equal(c?.slurmId, '77_2');
    assert.equal(c?.shell, false);
    assert.equal(c?.submission, a.submission, 'tasks of one submission share it');
    assert.deepEqual(
      orphans.takeAll().map((orphan) => orphan.slurmId),
      ['78'],
    );
    assert.equal(orphans.size, 0);
    assert.deepEqual((await readdir(spool)).sort(), ['lx1abc-0011aa22', 'lx1abd-0011aa33', 'notes']);
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
});

void test('orphans: a spool that does not exist yet holds none', async () => {
  const orphans = await Orphans.scan(join(tmpdir(), 'nubes-no-such-spool-folder'), silentLogger());
  assert.equal(orphans.size, 0);
});
