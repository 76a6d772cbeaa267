/**
 * @module supervisor/remote-answer
 * The answer a standalone supervisor gives a caller that waits for it over the network (a Lambda
 * invocation, a Knative request): the result line, the job's log (its end when long) and, for sync calls,
 * the output files, within what such answers may carry (see lambda-envelope.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ANSWER_MAX_FILE_BYTES, ANSWER_MAX_LOG_BYTES, type LambdaAnswer } from './lambda-envelope.js';
import { formatResultLine } from './result-line.js';
import type { StandaloneRun } from './standalone.js';

/** The answer for a finished run; `withFiles` adds TMP_OUTPUT_DIR's files of a successful run. */
export async function buildRemoteAnswer(run: StandaloneRun, withFiles: boolean): Promise<LambdaAnswer> {
  const logBytes = Buffer.from(run.log);
  const truncated = logBytes.length > ANSWER_MAX_LOG_BYTES;
  const answer: LambdaAnswer = {
    resultLine: formatResultLine(run.result),
    log: truncated ? logBytes.subarray(logBytes.length - ANSWER_MAX_LOG_BYTES).toString('utf8') : run.log,
    logTruncated: truncated,
    files: [],
    filesOmitted: false,
  };
  if (!withFiles || run.result.status !== 'succeeded') return answer;
  let total = 0;
  for (const name of run.result.outputFiles) {
    const path = join(run.result.outputDir, name);
    total += (await stat(path)).size;
    if (total > ANSWER_MAX_FILE_BYTES) return { ...answer, files: [], filesOmitted: true };
    answer.files.push({ name, base64: (await readFile(path)).toString('base64') });
  }
  return answer;
}
