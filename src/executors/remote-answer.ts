/**
 * @module executors/remote-answer
 * Turns the answer of a supervisor that ran elsewhere and answered over the network (a Lambda function,
 * a Knative pod; see supervisor/remote-answer.ts) into an InvocationResult: its log written to the job's
 * log, its output files into the job's output folder (for the sync response), its result line read.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LambdaAnswer } from '../supervisor/lambda-envelope.js';
import { splitResultLine } from '../supervisor/result-line.js';
import type { Invocation, InvocationResult } from './executor.js';

/** The result the answer reports; `who` names the answering side in errors (`the function`). */
export async function resultFromAnswer(
  invocation: Invocation,
  answer: LambdaAnswer,
  startedMs: number,
  who: string,
): Promise<InvocationResult> {
  const note = answer.logTruncated ? '[nubes] the log was cut to its end; the backend keeps all of it\n' : '';
  await mkdir(dirname(invocation.logPath), { recursive: true });
  await writeFile(invocation.logPath, note + answer.log);
  const { result } = splitResultLine(answer.resultLine ?? '');
  if (result === null) {
    const now = Date.now();
    return {
      status: 'failed',
      exitCode: null,
      termSignal: null,
      error: {
        code: 'BACKEND_REJECTED',
        message: `${who} answered without a result: does it run the Nubes supervisor?`,
        retryable: false,
      },
      outputs: [],
      outputFiles: [],
      outputDir: '',
      startedMs,
      finishedMs: now,
    };
  }
  const outputDir = join(invocation.workDir, 'output');
  const outputFiles: string[] = [];
  for (const file of answer.files) {
    const path = join(outputDir, file.name);
    // Names come from the other side: one that leaves the folder is dropped, not written.
    if (!path.startsWith(`${outputDir}/`)) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.from(file.base64, 'base64'));
    outputFiles.push(file.name);
  }
  if (answer.filesOmitted) {
    await writeFile(
      invocation.logPath,
      '[nubes] the output files were too big to return; they are in storage\n',
      {
        flag: 'a',
      },
    );
  }
  return { ...result, outputFiles, outputDir, startedMs, finishedMs: Date.now() };
}
