/**
 * @module executors/slurm/orphans
 * Slurm jobs a previous server process left behind. A server that is killed (or loses its machine) while
 * its jobs run in Slurm leaves them running: they are Slurm's, not the process's. Each submission's folder
 * holds `submission.json` (written once sbatch named it): the Slurm job id and, per task, the platform's job
 * id, its path (shell or Node supervisor) and its S3 key's id. At start the executor reads them; the
 * platform's queue puts the interrupted jobs back, and when one of them runs again on this executor it is
 * adopted (followed to its end from its files and squeue, its log kept) instead of submitted a second
 * time: a burst of long jobs is not run twice because the server restarted. What is not claimed within
 * `adoptWithinMs` (a job that had no attempts left, a service removed meanwhile) is cancelled in Slurm and
 * its files removed. Folders with no record (sbatch never answered) hold nothing to follow and go at once.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../core/index.js';
import { taskFiles } from './sbatch-script.js';
import type { Submission } from './submissions.js';

/** The file in a submission's folder that names its Slurm job and the platform's jobs in it. */
export const SUBMISSION_RECORD = 'submission.json';

const recordSchema = z
  .object({
    slurmJobId: z.number().int().positive(),
    array: z.boolean(),
    tasks: z.array(
      z
        .object({
          index: z.number().int().min(0),
          jobId: z.string().min(1),
          shell: z.boolean(),
          keyId: z.string().nullable(),
        })
        .strict(),
    ),
  })
  .strict();

export type SubmissionRecord = z.infer<typeof recordSchema>;

/** The folders a submission makes are named `<time base 36>-<8 hex>` (submissions.ts). */
const FOLDER_NAME = /^[0-9a-z]+-[0-9a-f]{8}$/;

/** A task of an earlier process, still in Slurm or with its result unread. */
export interface Orphan {
  jobId: string;
  submission: Submission;
  index: number;
  slurmId: string;
  shell: boolean;
  keyId: string | null;
}

export class Orphans {
  private readonly byJob = new Map<string, Orphan>();

  private constructor(orphans: Orphan[]) {
    for (const orphan of orphans) this.byJob.set(orphan.jobId, orphan);
  }

  /**
   * Reads the records of `spoolDir`'s submissions; removes the folders that hold nothing left to follow
   * (no record, or every task's files gone).
   */
  static async scan(spoolDir: string, logger: Logger): Promise<Orphans> {
    const orphans: Orphan[] = [];
    for (const name of await readdir(spoolDir).catch(() => [])) {
      if (!FOLDER_NAME.test(name)) continue;
      const dir = join(spoolDir, name);
      const found = await readRecord(dir).then(
        (record) => (record === null ? [] : orphansOf(dir, record)),
        (error: unknown) => {
          logger.warn({ err: error, dir }, 'a Slurm submission record cannot be read: its folder is removed');
          return [];
        },
      );
      if (found.length === 0) await rm(dir, { recursive: true, force: true });
      orphans.push(...found);
    }
    if (orphans.length > 0) logger.info({ tasks: orphans.length }, 'Slurm jobs of an earlier process found');
    return new Orphans(orphans);
  }

  get size(): number {
    return this.byJob.size;
  }

  /** The task left running for job `jobId`, taken out of the list (null when there is none). */
  take(jobId: string): Orphan | null {
    const orphan = this.byJob.get(jobId) ?? null;
    this.byJob.delete(jobId);
    return orphan;
  }

  /** Every task not taken, taken out of the list. */
  takeAll(): Orphan[] {
    const all = [...this.byJob.values()];
    this.byJob.clear();
    return all;
  }
}

/** The record of the submission in `dir`; null when there is none (the folder's sbatch never answered). */
async function readRecord(dir: string): Promise<SubmissionRecord | null> {
  let text: string;
  try {
    text = await readFile(join(dir, SUBMISSION_RECORD), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return recordSchema.parse(JSON.parse(text));
}

/** The record's tasks whose files are still there (a finished task's are removed as it ends). */
async function orphansOf(dir: string, record: SubmissionRecord): Promise<Orphan[]> {
  const submission: Submission = { dir, jobId: record.slurmJobId, tasks: [], open: 0 };
  const orphans: Orphan[] = [];
  // One listing of the folder, not a look-up per task (a submission may hold a thousand).
  const present = new Set((await readdir(dir)).map((name) => join(dir, name)));
  for (const task of record.tasks) {
    const files = taskFiles(dir, task.index);
    if (!present.has(task.shell ? files.shell : files.invocation)) continue;
    const slurmId = record.array ? `${record.slurmJobId}_${task.index}` : String(record.slurmJobId);
    orphans.push({ ...task, submission, slurmId });
  }
  submission.open = orphans.length;
  return orphans;
}
