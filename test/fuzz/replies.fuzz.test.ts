/**
 * Property tests and a hostile corpus against the parsers added with the Slurm executor and the external
 * storage events: `sbatch --parsable`, `squeue --json`, compact squeue and `sacct` replies (what a broken or hostile Slurm
 * prints), and S3/MinIO/RGW notification bodies (webhook payloads). Every input parses or fails with a
 * coded PlatformError; nothing else is thrown, and a parsed reply is well-formed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseSacct,
  parseSbatchReply,
  parseSqueueJson,
  parseSqueueTasks,
  taskStringIncludes,
} from '../../src/executors/slurm/slurm-replies.js';
import { readEventRecords } from '../../src/events/index.js';
import {
  HOSTILE_STRINGS,
  countCases,
  hostileString,
  onlyCodedFailures,
  printCounts,
  runs,
} from './fuzz-support.js';

after(() => printCounts('replies'));

const SLURM_CODES = ['SLURM_REPLY_INVALID', 'SLURM_REJECTED'] as const;

const STATES = [
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
];

/** Something shaped like a value of `squeue --json`, often wrong in one field. */
const looseValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.integer({ min: -5, max: 1 << 20 }),
    fc.constant(null),
    hostileString(),
    fc.constantFrom(...STATES),
    fc.array(fc.constantFrom(...STATES, 'COMPLETING', 'bogus'), { maxLength: 3 }),
    fc.record({ set: fc.boolean(), infinite: fc.boolean(), number: fc.integer() }),
    fc.record({
      status: fc.constantFrom('SUCCESS', 'ERROR'),
      return_code: fc.integer(),
      signal: fc.record({ id: fc.integer() }),
    }),
    fc.double(),
    fc.anything(),
  );

const squeueJob = fc.record(
  {
    job_id: looseValue(),
    array_job_id: looseValue(),
    array_task_id: looseValue(),
    array_task_string: looseValue(),
    name: looseValue(),
    job_state: looseValue(),
    state_reason: looseValue(),
    exit_code: looseValue(),
  },
  { requiredKeys: [] },
);

test('squeue --json: shaped and arbitrary replies parse into jobs or fail with a Slurm code', () => {
  const corpus = [
    '',
    '{',
    'null',
    '[]',
    '{"jobs": null}',
    '{"jobs": [null]}',
    '{"errors": [{"error": "boom"}], "jobs": []}',
    '{"jobs": [{"job_id": 1e309}]}',
    '{"jobs": [{"__proto__": {"job_id": 1}}]}',
    'x'.repeat(100_000),
    ...HOSTILE_STRINGS,
  ];
  for (const text of corpus) onlyCodedFailures(() => parseSqueueJson(text), [...SLURM_CODES]);
  countCases('squeue --json (corpus)', corpus.length);
  const n = runs(1500);
  fc.assert(
    fc.property(
      fc.oneof(
        fc
          .record({
            jobs: fc.array(squeueJob, { maxLength: 4 }),
            errors: fc.array(fc.anything(), { maxLength: 2 }),
          })
          .map((value) => JSON.stringify(value)),
        fc.json(),
        fc.string(),
      ),
      (text) => {
        onlyCodedFailures(() => {
          const jobs = parseSqueueJson(text);
          for (const job of jobs) {
            assert.ok(
              Number.isInteger(job.submittedId) && job.submittedId > 0,
              'a parsed job has a positive id',
            );
            assert.ok(STATES.includes(job.state) || typeof job.state === 'string');
            assert.ok(job.exitCode === null || Number.isInteger(job.exitCode));
          }
        }, [...SLURM_CODES]);
      },
    ),
    { numRuns: n },
  );
  countCases('squeue --json', n);
});

test('sbatch --parsable and sacct: arbitrary text parses or fails with a Slurm code', () => {
  const n = runs(1500);
  fc.assert(
    fc.property(fc.oneof(hostileString(), fc.string(), fc.integer().map(String)), (text) => {
      onlyCodedFailures(() => {
        const id = parseSbatchReply(text);
        assert.ok(Number.isInteger(id) && id >= 0);
      }, [...SLURM_CODES]);
    }),
    { numRuns: n },
  );
  countCases('sbatch --parsable', n);
  const line = fc
    .tuple(
      fc.oneof(fc.integer({ min: 1 }).map(String), fc.constantFrom('1_2', '3.batch', '4+0'), hostileString()),
      fc.oneof(fc.constantFrom(...STATES, 'CANCELLED by 0'), hostileString()),
      fc.oneof(fc.constantFrom('0:0', '1:0', '0:9', '255:15'), hostileString()),
    )
    .map((fields) => fields.join('|'));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
      onlyCodedFailures(() => parseSacct(lines.join('\n')), [...SLURM_CODES]);
    }),
    { numRuns: n },
  );
  countCases('sacct', n);
  const squeueLine = fc
    .tuple(
      fc.oneof(fc.constantFrom('12', '12_3', '12_[4-9]', '0'), hostileString()),
      fc.oneof(fc.constantFrom(...STATES, 'COMPLETING', 'bogus'), hostileString()),
      fc.oneof(fc.constantFrom('0', '1792', '9', '0:15', '1:0', '-1'), hostileString()),
    )
    .map((fields) => `${fields.join('|')}|`);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(squeueLine, hostileString()), { maxLength: 6 }),
      fc.integer({ min: 0, max: 2 }),
      hostileString(),
      (lines, exitCode, stderr) => {
        onlyCodedFailures(() => {
          for (const task of parseSqueueTasks({ exitCode, stdout: lines.join('\n'), stderr })) {
            assert.match(task.id, /^\d+(_\d+)?$/);
            assert.ok(STATES.includes(task.state) || task.state === 'COMPLETING');
            assert.ok(task.exitCode === null || Number.isInteger(task.exitCode));
          }
        }, [...SLURM_CODES]);
      },
    ),
    { numRuns: n },
  );
  countCases('compact squeue', n);
  fc.assert(
    fc.property(hostileString(), fc.integer({ min: 0, max: 100_000 }), (expression, task) => {
      onlyCodedFailures(() => void taskStringIncludes(expression, task), [...SLURM_CODES]);
    }),
    { numRuns: n },
  );
  countCases('array task expression', n);
});

test('storage notification bodies (webhooks): any JSON yields well-formed events, never a throw', () => {
  const record = fc.record(
    {
      eventName: fc.oneof(
        fc.constantFrom(
          's3:ObjectCreated:Put',
          'ObjectCreated:Copy',
          's3:ObjectRemoved:Delete',
          'ObjectRemoved:DeleteMarkerCreated',
        ),
        hostileString(),
        fc.anything(),
      ),
      s3: fc.oneof(
        fc.record({
          bucket: fc.record({ name: fc.oneof(hostileString(), fc.anything()) }),
          object: fc.record({ key: fc.oneof(hostileString(), fc.anything()), size: fc.anything() }),
        }),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  );
  const n = runs(2000);
  fc.assert(
    fc.property(
      fc.oneof(fc.record({ Records: fc.array(record, { maxLength: 5 }) }), fc.anything(), fc.jsonValue()),
      (body) => {
        const events = readEventRecords(body);
        for (const event of events) {
          assert.equal(typeof event.bucket, 'string');
          assert.equal(typeof event.key, 'string');
          assert.match(event.name, /^Object(Created|Removed):/);
          assert.doesNotThrow(() => JSON.parse(event.record));
        }
      },
    ),
    { numRuns: n },
  );
  countCases('storage notification body', n);
});
