/**
 * @module test/support/job-history
 * A service's first job as `/system/logs/{service}` shows it once it has finished, with its runs (one per
 * executor it ran on), for the hybrid execution tests.
 */
import { waitFor, type ServerProcess } from './server-process.js';

export interface RunView {
  attempt: number;
  executor: string;
  role: string | null;
  status: string;
  error: { code: string } | null;
  note: string | null;
}

export interface JobView {
  status: string;
  runs: RunView[];
}

/** Waits (up to `timeoutMs`) until the first job of `service` has succeeded or failed: [job id, job]. */
export function finishedJob(
  server: ServerProcess,
  service: string,
  timeoutMs = 60_000,
): Promise<[string, JobView]> {
  return waitFor(
    async () => {
      const answer = (await (await server.api(`/system/logs/${service}`)).json()) as {
        jobs: Record<string, JobView>;
      };
      const entry = Object.entries(answer.jobs)[0];
      return entry !== undefined && ['Succeeded', 'Failed'].includes(entry[1].status) ? entry : undefined;
    },
    timeoutMs,
    `the job of ${service} to finish`,
  );
}
