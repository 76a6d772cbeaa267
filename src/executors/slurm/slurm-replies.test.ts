import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseSacct,
  parseSbatchReply,
  parseSqueueJson,
  parseSqueueTasks,
  squeueTaskArgs,
  taskStringIncludes,
} from './slurm-replies.js';

/** One job as Slurm 22.05's `squeue --json` prints it (the fields read, among some of the others). */
function job(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    account: '',
    array_job_id: 0,
    array_task_id: null,
    array_task_string: '',
    job_id: 1,
    name: 'nubes-svc',
    job_state: 'PENDING',
    state_reason: 'None',
    exit_code: 0,
    standard_output: '/tmp/x',
    ...fields,
  };
}

const reply = (jobs: unknown[], errors: unknown[] = []) =>
  JSON.stringify({ meta: { plugin: { type: 'openapi/v0.0.38' } }, errors, jobs });

test('sbatch --parsable: the job id, with or without a cluster', () => {
  assert.equal(parseSbatchReply('123\n'), 123);
  assert.equal(parseSbatchReply('77;nubes'), 77);
  assert.throws(() => parseSbatchReply('Submitted batch job 5\n'), { code: 'SLURM_REPLY_INVALID' });
  assert.throws(() => parseSbatchReply(''), { code: 'SLURM_REPLY_INVALID' });
});

test('squeue --json (22.05): plain jobs, array tasks, a pending array, wait statuses', () => {
  const statuses = parseSqueueJson(
    reply([
      job({ job_id: 6, job_state: 'FAILED', exit_code: 7 << 8 }),
      job({ job_id: 3, array_job_id: 2, array_task_id: 0, job_state: 'COMPLETED' }),
      job({
        job_id: 9,
        array_job_id: 9,
        array_task_id: null,
        array_task_string: '1-99',
        job_state: 'PENDING',
      }),
      job({ job_id: 10, job_state: 'CANCELLED', exit_code: 15 }),
    ]),
  );
  assert.deepEqual(
    statuses.map((s) => [s.id, s.state, s.exitCode, s.signal, s.pendingTasks]),
    [
      ['6', 'FAILED', 7, null, null],
      ['2_0', 'COMPLETED', 0, null, null],
      ['9', 'PENDING', 0, null, '1-99'],
      ['10', 'CANCELLED', null, 15, null],
    ],
  );
});

test('squeue --json (later versions): list states and structured exit codes', () => {
  const [status] = parseSqueueJson(
    reply([
      job({
        job_id: 4,
        array_job_id: { set: true, infinite: false, number: 4 },
        array_task_id: { set: true, infinite: false, number: 2 },
        job_state: ['TIMEOUT'],
        exit_code: {
          status: ['SIGNALED'],
          return_code: { set: true, number: 0 },
          signal: { id: { set: true, number: 9 } },
        },
      }),
    ]),
  );
  assert.deepEqual([status?.id, status?.state, status?.signal], ['4_2', 'TIMEOUT', 9]);
});

test('squeue --json: unknown states, missing fields and reported errors are SLURM_REPLY_INVALID', () => {
  assert.throws(() => parseSqueueJson(reply([job({ job_state: 'DANCING' })])), {
    code: 'SLURM_REPLY_INVALID',
  });
  assert.throws(() => parseSqueueJson(reply([job({ job_id: 'one' })])), { code: 'SLURM_REPLY_INVALID' });
  assert.throws(() => parseSqueueJson(reply([], [{ error: 'boom' }])), { code: 'SLURM_REPLY_INVALID' });
  assert.throws(() => parseSqueueJson('squeue: error: slurm_load_jobs error'), {
    code: 'SLURM_REPLY_INVALID',
  });
});

const squeueReply = (stdout: string, exitCode = 0, stderr = '') => ({ exitCode, stdout, stderr });

test('compact squeue of our jobs: one task a line, wait statuses (22.05) and code:signal', () => {
  assert.deepEqual(squeueTaskArgs([12, 40]), [
    '--noheader',
    '--array',
    '--states=all',
    '--jobs=12,40',
    '--Format=JobArrayID:0|,State:0|,exit_code:0|',
  ]);
  assert.deepEqual(
    parseSqueueTasks(
      squeueReply('12_3|FAILED|1792|\n12_4|FAILED|9|\n12_5|PENDING|0|\n40|RUNNING|0|\n41|TIMEOUT|0:15|\n'),
    ),
    [
      { id: '12_3', state: 'FAILED', exitCode: 7, signal: null },
      { id: '12_4', state: 'FAILED', exitCode: null, signal: 9 },
      { id: '12_5', state: 'PENDING', exitCode: 0, signal: null },
      { id: '40', state: 'RUNNING', exitCode: 0, signal: null },
      { id: '41', state: 'TIMEOUT', exitCode: null, signal: 15 },
    ],
  );
  assert.deepEqual(parseSqueueTasks(squeueReply('')), []);
});

test('compact squeue: a job Slurm no longer knows is none; other failures and odd lines are coded', () => {
  assert.deepEqual(
    parseSqueueTasks(squeueReply('', 1, 'slurm_load_jobs error: Invalid job id specified\n')),
    [],
  );
  assert.throws(() => parseSqueueTasks(squeueReply('', 1, 'slurm_load_jobs error: Unable to contact')), {
    code: 'SLURM_REJECTED',
  });
  for (const line of [
    '12_[5-9]|PENDING|0|',
    '12_3|DANCING|0|',
    '12_3|RUNNING|0',
    '12_3|RUNNING|x|',
    'JOBID|STATE|EXIT_CODE|',
    '12_3|RUNNING|0|extra|',
  ]) {
    assert.throws(() => parseSqueueTasks(squeueReply(`${line}\n`)), { code: 'SLURM_REPLY_INVALID' }, line);
  }
});

test('sacct: states (with "by uid"), exit codes and signals; anything else is refused', () => {
  assert.deepEqual(parseSacct('6|FAILED|3:0\n7_1|CANCELLED by 0|0:15\n'), [
    { id: '6', state: 'FAILED', exitCode: 3, signal: null },
    { id: '7_1', state: 'CANCELLED', exitCode: null, signal: 15 },
  ]);
  assert.throws(() => parseSacct('Slurm accounting storage is disabled\n'), { code: 'SLURM_REPLY_INVALID' });
});

test('array task expressions', () => {
  assert.ok(taskStringIncludes('0-99', 42));
  assert.ok(taskStringIncludes('3,5-9%2', 7));
  assert.ok(!taskStringIncludes('3,5-9', 4));
  assert.ok(taskStringIncludes('0-10:5', 10));
  assert.ok(!taskStringIncludes('0-10:5', 3));
});
