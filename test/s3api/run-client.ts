/**
 * @module test/s3api/run-client
 * Runs a real S3 client (aws cli, python3 with boto3) as a child process.
 */
import { execFile } from 'node:child_process';

export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';

export interface ClientRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runClient(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env, cwd, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the command and fails with its output unless it exits 0. */
export async function mustRun(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<string> {
  const run = await runClient(command, args, env, cwd);
  if (run.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}
